"""Reading a completion webhook in either shape it may come in.

The classic page's payload is ``{id, status, result_image, created_at, completed_at}`` with
lower-case statuses; a v1-shaped one uses ``generationId``, ``status`` (upper case),
``resultImageUrl``, ``errorCode``, ``errorMessage``. Either is only a hint: the receiver
confirms the generation's state with Genlook before recording anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# The classic statuses, in v1's words.
_STATUSES = {
    "processing": "PROCESSING",
    "pending": "PENDING",
    "completed": "COMPLETED",
    "failed": "FAILED",
}


class PayloadError(ValueError):
    """The body is not a completion webhook of a known shape."""


@dataclass(frozen=True)
class WebhookHint:
    generation_id: str
    status: str
    result_image_url: str | None = None
    error_code: str | None = None
    error_message: str | None = None
    shape: str = "v1"


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def parse_payload(data: Any) -> WebhookHint:
    if not isinstance(data, dict):
        raise PayloadError("The webhook body is not a JSON object.")
    if _text(data.get("generationId")):
        shape, generation_id = "v1", data["generationId"]
        result = _text(data.get("resultImageUrl"))
    elif _text(data.get("id")):
        shape, generation_id = "classic", data["id"]
        result = _text(data.get("result_image"))
    else:
        raise PayloadError("The webhook names no generation (generationId or id).")
    raw_status = _text(data.get("status"))
    if raw_status is None:
        raise PayloadError("The webhook carries no status.")
    status = _STATUSES.get(raw_status.lower(), raw_status.upper())
    return WebhookHint(
        generation_id=generation_id,
        status=status,
        result_image_url=result,
        error_code=_text(data.get("errorCode")),
        error_message=_text(data.get("errorMessage")),
        shape=shape,
    )
