"""Body parsers of the storefront API, for hostile bodies.

The CSRF check of every unsafe request reads ``request.POST``, which DRF answers by parsing
the body with the view's parsers, whatever the method and before the view runs. So:

- ``IgnoredBody``: the views that take no body (``/me/``, the status, result, photo and
  erasure views) leave whatever is sent unread, at any size, instead of parsing it only to
  answer 405 or 404;
- ``StorefrontJSONParser``: JSON nested deeper than Python's decoder can go (a few hundred
  kilobytes of ``[``) raises ``RecursionError``, not ``ValueError``: it is a malformed
  request (400 ``INVALID_REQUEST``), not a server error.
"""

from __future__ import annotations

from typing import Any

from rest_framework.exceptions import ParseError
from rest_framework.parsers import BaseParser, JSONParser


class IgnoredBody(BaseParser):
    """For views that take no body: any body, of any type, is left unread."""

    media_type = "*/*"

    def parse(self, stream: Any, media_type: Any = None, parser_context: Any = None) -> dict:
        return {}


class StorefrontJSONParser(JSONParser):
    def parse(self, stream: Any, media_type: Any = None, parser_context: Any = None) -> Any:
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON parse error - nested too deeply") from None
