"""The storefront API's JSON parser.

JSON nested deeper than Python's decoder can go (a few hundred kilobytes of ``[``) makes
``json.load`` raise ``RecursionError``, not the ``ValueError`` DRF's parser turns into a
400: it is a malformed request (``INVALID_REQUEST``), not a server error.
"""

from __future__ import annotations

from typing import Any

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser


class StorefrontJSONParser(JSONParser):
    def parse(self, stream: Any, media_type: Any = None, parser_context: Any = None) -> Any:
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON parse error - nested too deeply") from None
