"""Reading classic request bodies: one try-on (``POST /v1/try-on``) or a batch of them."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from django.http import HttpRequest

from genlook_django.sandbox.classic.errors import (
    CATEGORIES,
    image_error,
    invalid_category,
    invalid_request,
)

IMAGE_FIELDS = ("model_image", "garment_image")
MAX_BATCH = 100  # requests per batch


@dataclass(frozen=True)
class TryOnRequest:
    model_image: str
    garment_image: str
    category: str
    webhook_url: str | None


def read_json_object(request: HttpRequest) -> dict[str, Any]:
    try:
        body = json.loads(request.body or b"null")
    except (UnicodeDecodeError, ValueError):
        raise invalid_request({"body": "Not valid JSON"}) from None
    if not isinstance(body, dict):
        raise invalid_request({"body": "Send a JSON object"})
    return body


def _is_http_url(value: str) -> bool:
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def webhook_url(body: dict[str, Any], default: str | None = None) -> str | None:
    value = body.get("webhook_url")
    if value is None:
        return default
    if not isinstance(value, str) or not _is_http_url(value):
        raise invalid_request({"webhook_url": "Must be an http(s) URL"})
    return value


def parse_try_on(body: Any, default_webhook: str | None = None) -> TryOnRequest:
    """Checks in order: fields present and strings (INVALID_REQUEST, all at once), the
    category (INVALID_CATEGORY), the image URLs' syntax (INVALID_IMAGE_URL), webhook_url."""
    if not isinstance(body, dict):
        raise invalid_request({"body": "Send a JSON object"})
    missing = {
        name: "Required" if body.get(name) is None else "Must be a string"
        for name in (*IMAGE_FIELDS, "category")
        if not isinstance(body.get(name), str) or not body[name].strip()
    }
    if missing:
        raise invalid_request(missing)
    if body["category"] not in CATEGORIES:
        raise invalid_category(body["category"])
    for name in IMAGE_FIELDS:
        if not _is_http_url(body[name]):
            raise image_error(
                "INVALID_IMAGE_URL",
                f"{name} is not an http(s) URL.",
                field=name,
                url=body[name],
                reason="not an http(s) URL",
            )
    return TryOnRequest(
        model_image=body["model_image"],
        garment_image=body["garment_image"],
        category=body["category"],
        webhook_url=webhook_url(body, default_webhook),
    )


def parse_batch(body: dict[str, Any]) -> tuple[list[Any], str | None]:
    """The raw entries of ``requests`` and the batch's ``webhook_url``; only the batch's
    own shape is checked here (each entry is checked on its own, later)."""
    entries = body.get("requests")
    if not isinstance(entries, list) or not entries:
        raise invalid_request({"requests": "Required: a non-empty list of try-on requests"})
    if len(entries) > MAX_BATCH:
        raise invalid_request({"requests": f"At most {MAX_BATCH} requests per batch"})
    return entries, webhook_url(body)
