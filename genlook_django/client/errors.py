"""Typed errors for the Genlook API, in either dialect.

A v1 error body is ``{code, message, status}`` (plus ``details`` for validation); a classic
one nests ``{code, message, details}`` under ``error``, with ``details`` an object. Callers
branch on the class or on ``code``; an unknown code keeps its raw value and falls back to the
family its HTTP status belongs to.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any


class GenlookError(Exception):
    """Base of every error raised by the client."""

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        status: int | None = None,
        details: list[dict[str, Any]] | None = None,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status
        self.details = details or []
        self.body = body
        self.headers = dict(headers or {})

    @property
    def may_have_been_processed(self) -> bool:
        """Whether Genlook may have acted on the request although it answered an error."""
        return False

    @property
    def is_transient(self) -> bool:
        """Whether the same call may succeed later unchanged: Genlook or the network
        failed, or the request budget was busy. A refusal (4xx other than 429) is not."""
        return False

    def __str__(self) -> str:
        prefix = " ".join(str(part) for part in (self.status, self.code) if part)
        return f"[{prefix}] {self.message}" if prefix else self.message


class GenlookAPIError(GenlookError):
    """Genlook answered with an error status."""


class AuthenticationError(GenlookAPIError):
    """401: the API key is missing, wrong, revoked or inactive. Never retried."""


class PermissionDeniedError(GenlookAPIError):
    """403: the product or generation belongs to another account."""


class ValidationError(GenlookAPIError):
    """400: the request was rejected; ``details`` lists ``{path, message}`` entries."""


class NotFoundError(GenlookAPIError):
    """404: the resource does not exist (or no longer does)."""


class ProductNotFoundError(NotFoundError):
    """404 ``PRODUCT_NOT_FOUND``: a reference to an unknown or expired product."""


class GenerationNotFoundError(NotFoundError):
    """404 for an unknown generation id."""


class InsufficientCreditsError(GenlookAPIError):
    """402: the account has no credits left. Top-ups happen in the Genlook dashboard."""


class RateLimitedError(GenlookAPIError):
    """429: over the per-account request limit. ``retry_after`` is in seconds, if sent."""

    is_transient = True

    @property
    def retry_after(self) -> float | None:
        return parse_retry_after(self.headers.get("retry-after"))


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header: a number of seconds or an HTTP date."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


class ServerError(GenlookAPIError):
    """5xx: Genlook failed; retried, except what may already have been acted on."""

    is_transient = True

    @property
    def may_have_been_processed(self) -> bool:
        # A gateway's 502/504 means it lost the application's answer, as a timeout would.
        return self.status in (502, 504)


class TransportError(GenlookError):
    """No HTTP answer: connection refused, reset, or timed out.

    ``request_sent`` is False only when the request certainly never reached Genlook
    (the connection could not be opened), which is what makes a retry safe for calls
    that create and charge.
    """

    is_transient = True

    def __init__(self, message: str, *, request_sent: bool) -> None:
        super().__init__(message)
        self.request_sent = request_sent

    @property
    def may_have_been_processed(self) -> bool:
        return self.request_sent


class GenlookTimeoutError(TransportError):
    """The connection or the read timed out."""


class UnsupportedFeatureError(GenlookError):
    """The API dialect in use has no such endpoint (the classic API has no products
    catalog, no customer erasure, no credits endpoint); ``feature`` names it. Raised
    before anything is sent."""

    def __init__(self, feature: str, message: str) -> None:
        super().__init__(message, code="UNSUPPORTED_FEATURE")
        self.feature = feature


class GenerationWaitTimeout(GenlookError):
    """``wait_for_generation`` gave up before the generation finished."""

    def __init__(self, message: str, *, generation: Any) -> None:
        super().__init__(message)
        self.generation = generation


class GenerationFailedError(GenlookError):
    """A generation ended ``FAILED`` (raised only when asked for)."""

    def __init__(self, generation: Any) -> None:
        super().__init__(
            generation.error_message or "The generation failed.", code=generation.error_code
        )
        self.generation = generation


_BY_CODE: dict[str, type[GenlookAPIError]] = {
    "MISSING_API_KEY": AuthenticationError,
    "INVALID_API_KEY": AuthenticationError,
    "FORBIDDEN": PermissionDeniedError,
    "PRODUCT_NOT_FOUND": ProductNotFoundError,
    "GENERATION_NOT_FOUND": GenerationNotFoundError,
    "INSUFFICIENT_CREDITS": InsufficientCreditsError,
    "QUOTA_EXCEEDED": InsufficientCreditsError,  # the alpha-era name for the same thing
    "RATE_LIMITED": RateLimitedError,
}

_BY_STATUS: dict[int, type[GenlookAPIError]] = {
    400: ValidationError,
    401: AuthenticationError,
    402: InsufficientCreditsError,
    403: PermissionDeniedError,
    404: NotFoundError,
    413: ValidationError,
    415: ValidationError,
    422: ValidationError,
    429: RateLimitedError,
}


def error_class_for(status: int, code: str | None) -> type[GenlookAPIError]:
    if code and code in _BY_CODE:
        return _BY_CODE[code]
    if status in _BY_STATUS:
        return _BY_STATUS[status]
    if status >= 500:
        return ServerError
    return GenlookAPIError


def error_from_response(status: int, body: Any, headers: Mapping[str, str]) -> GenlookAPIError:
    """Build the typed error for an error response, whatever shape its body has."""
    code = message = None
    details: list[dict[str, Any]] = []
    if isinstance(body, dict):
        # v1 is flat; the classic API nested everything under "error".
        payload = body.get("error") if isinstance(body.get("error"), dict) else body
        code = payload.get("code") if isinstance(payload.get("code"), str) else None
        message = payload.get("message") if isinstance(payload.get("message"), str) else None
        raw_details = payload.get("details")
        if isinstance(raw_details, list):
            details = [d for d in raw_details if isinstance(d, dict)]
        elif isinstance(raw_details, dict) and raw_details:
            # The classic API's details are one object; its "field" is v1's "path".
            field = raw_details.get("field")
            details = [{**raw_details, "path": field} if isinstance(field, str) else raw_details]
    if not message:
        message = f"Genlook answered HTTP {status}."
    cls = error_class_for(status, code)
    return cls(
        message,
        code=code,
        status=status,
        details=details,
        body=body,
        headers={k.lower(): v for k, v in headers.items()},
    )
