"""What shoppers are told: stable codes and messages, never internal details.

Every error answer of the storefront API has the shape of Genlook's own,
``{"code", "message", "status"}`` (plus ``retry_after`` on a 429 and ``details`` on a
malformed request). A failed try-on carries ``error: {code, message}`` with a public code:
the internal one (e.g. ``INSUFFICIENT_CREDITS``) stays on the ``TryOn`` row for the
merchant.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.http import Http404
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

from genlook_django.services.tryons import photos

UNAVAILABLE = "TRY_ON_UNAVAILABLE"
FAILED = "TRY_ON_FAILED"

# Internal failure code -> the public one.
PUBLIC_FAILURE_CODES = {
    "INSUFFICIENT_CREDITS": UNAVAILABLE,
    "CONFIGURATION_ERROR": UNAVAILABLE,
    "GENLOOK_UNAVAILABLE": "SERVICE_BUSY",
    "PHOTO_REJECTED": "PHOTO_REJECTED",
    "PHOTO_DELETED": "PHOTO_DELETED",
    "PHOTO_INVALID": "PHOTO_INVALID",  # an upload the worker could not decode (intake)
    "PRODUCT_IMAGE_FETCH_FAILED": "PRODUCT_UNAVAILABLE",
    "PRODUCT_UNAVAILABLE": "PRODUCT_UNAVAILABLE",
    "TIMED_OUT": "TIMED_OUT",
}

MESSAGES = {
    UNAVAILABLE: _("Virtual try-on is temporarily unavailable. Please try again later."),
    "SERVICE_BUSY": _("The fitting room is busy right now. Please try again in a moment."),
    "PHOTO_REJECTED": _(
        "This photo could not be used. Please choose a clear photo of yourself, facing the camera."
    ),
    "PHOTO_DELETED": _("Your photo was deleted. Please choose a photo again."),
    "PHOTO_INVALID": photos.INVALID_MESSAGE,
    "PRODUCT_UNAVAILABLE": _("This product cannot be tried on right now."),
    "TIMED_OUT": _("This is taking longer than it should. Please try again."),
    FAILED: _("Something went wrong with this try-on. Please try again."),
    "NOT_FOUND": _("This try-on does not exist, or it was deleted."),
    "CSRF_FAILED": _("Your session has expired. Please reload the page and try again."),
    "INVALID_REQUEST": _("Something is missing from this request."),
    "METHOD_NOT_ALLOWED": _("This action is not allowed here."),
    "UNSUPPORTED_MEDIA_TYPE": _("Please send the photo as a file upload."),
    "LENGTH_REQUIRED": _("This upload could not be read. Please try again."),
}

# Django's own bounds on a form (DATA_UPLOAD_MAX_NUMBER_FIELDS, DATA_UPLOAD_MAX_NUMBER_FILES,
# DATA_UPLOAD_MAX_MEMORY_SIZE), met while the CSRF check or the view parses the body:
# Django would answer its HTML 400 page.
FORM_LIMITS = (TooManyFieldsSent, TooManyFilesSent, RequestDataTooBig)


class StorefrontError(exceptions.APIException):
    """A refusal raised before the view's handler runs (e.g. from ``initial()``), answered
    in the storefront's shape by ``storefront_exception_handler``."""

    def __init__(
        self, code: str, message: Any, http_status: int, *, retry_after: int | None = None
    ) -> None:
        super().__init__(detail=str(message), code=code)
        self.code = code
        self.message = message
        self.status_code = http_status
        self.retry_after = retry_after


def public_failure(internal_code: str) -> dict[str, str]:
    code = PUBLIC_FAILURE_CODES.get(internal_code, FAILED)
    return {"code": code, "message": str(MESSAGES[code])}


def error_response(code: str, message: Any, http_status: int, **extra: Any) -> Response:
    body = {"code": code, "message": str(message), "status": http_status, **extra}
    response = Response(body, status=http_status)
    if "retry_after" in extra:
        response["Retry-After"] = str(extra["retry_after"])
    return response


def storefront_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's errors in the storefront's shape."""
    if isinstance(exc, StorefrontError):
        extra = {} if exc.retry_after is None else {"retry_after": exc.retry_after}
        return error_response(exc.code, exc.message, exc.status_code, **extra)
    if isinstance(exc, Http404 | exceptions.NotFound):
        return error_response("NOT_FOUND", MESSAGES["NOT_FOUND"], status.HTTP_404_NOT_FOUND)
    if isinstance(exc, exceptions.PermissionDenied) and str(exc.detail).startswith("CSRF Failed"):
        return error_response("CSRF_FAILED", MESSAGES["CSRF_FAILED"], status.HTTP_403_FORBIDDEN)
    if isinstance(exc, exceptions.MethodNotAllowed):
        response = error_response(
            "METHOD_NOT_ALLOWED", MESSAGES["METHOD_NOT_ALLOWED"], exc.status_code
        )
        return response
    if isinstance(exc, exceptions.UnsupportedMediaType):
        return error_response(
            "UNSUPPORTED_MEDIA_TYPE", MESSAGES["UNSUPPORTED_MEDIA_TYPE"], exc.status_code
        )
    if isinstance(exc, FORM_LIMITS):
        # Still logged where Django logs it (django.security.TooManyFilesSent...).
        logging.getLogger(f"django.security.{type(exc).__name__}").error(str(exc))
        return error_response(
            "INVALID_REQUEST",
            MESSAGES["INVALID_REQUEST"],
            status.HTTP_400_BAD_REQUEST,
            details=_details(gettext("Too many fields or files, or a field too large.")),
        )
    if isinstance(exc, exceptions.ValidationError | exceptions.ParseError):
        details = exc.detail if isinstance(exc, exceptions.ValidationError) else str(exc.detail)
        return error_response(
            "INVALID_REQUEST",
            MESSAGES["INVALID_REQUEST"],
            status.HTTP_400_BAD_REQUEST,
            details=_details(details),
        )
    response = exception_handler(exc, context)
    if response is not None and isinstance(exc, exceptions.APIException):
        code = str(getattr(exc, "default_code", "error")).upper()
        return error_response(
            code, gettext("This request could not be handled."), response.status_code
        )
    return response


def _details(detail: Any) -> list[dict[str, str]]:
    """DRF's error dict, flattened to Genlook's ``[{path, message}]``."""
    if isinstance(detail, dict):
        return [
            {"path": str(field), "message": str(message)}
            for field, messages in detail.items()
            for message in (messages if isinstance(messages, list) else [messages])
        ]
    if isinstance(detail, list):
        return [{"path": "", "message": str(message)} for message in detail]
    return [{"path": "", "message": str(detail)}]
