"""The classic error shape: ``{"error": {"code", "message", "details": {}}}``."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, JsonResponse

from genlook_django.sandbox.errors import ApiError

# v1 codes the shared pipeline raises, as the classic dialect names them.
RENAMED = {"VALIDATION_FAILED": "INVALID_REQUEST"}
CATEGORIES = ("tops", "bottoms", "dresses", "outerwear", "eyewear", "caps")


def error_object(error: ApiError) -> dict[str, Any]:
    """The inner ``error`` object (an answer's body, or a rejected batch entry's)."""
    details: dict[str, Any] = dict(error.context)
    if error.details:
        details["fields"] = {detail.path or "body": detail.message for detail in error.details}
    return {
        "code": RENAMED.get(error.code, error.code),
        "message": error.message,
        "details": details,
    }


def render(error: ApiError) -> JsonResponse:
    response = JsonResponse({"error": error_object(error)}, status=error.status)
    for name, value in error.headers.items():
        response[name] = value
    return response


def bearer_key(request: HttpRequest) -> str | None:
    """The key of ``Authorization: Bearer <key>`` (any other scheme counts as no key)."""
    scheme, _, key = request.headers.get("Authorization", "").strip().partition(" ")
    if scheme.lower() != "bearer":
        return None
    return key.strip() or None


def invalid_request(fields: dict[str, str]) -> ApiError:
    summary = "; ".join(f"{name}: {problem}" for name, problem in fields.items())
    return ApiError(
        400,
        "INVALID_REQUEST",
        f"Invalid request parameters ({summary}).",
        context={"fields": fields},
    )


def invalid_category(value: object) -> ApiError:
    return ApiError(
        400,
        "INVALID_CATEGORY",
        f"Unknown category {value!r}; use one of {', '.join(CATEGORIES)}.",
        context={"field": "category", "value": value, "allowed": list(CATEGORIES)},
    )


def image_error(code: str, message: str, *, field: str, url: str, reason: str) -> ApiError:
    return ApiError(400, code, message, context={"field": field, "url": url, "reason": reason})
