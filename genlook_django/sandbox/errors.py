"""The v1 error shape: ``{code, message, status}`` (+ ``details`` on validation), status = HTTP."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from django.http import JsonResponse

# Statuses the sandbox can be asked to inject, with the code a gateway or the API would send.
INJECTED_CODES: Mapping[int, str] = {
    402: "INSUFFICIENT_CREDITS",
    429: "RATE_LIMITED",
    500: "INTERNAL_ERROR",
    502: "BAD_GATEWAY",
    503: "SERVICE_UNAVAILABLE",
    504: "GATEWAY_TIMEOUT",
}


@dataclass(frozen=True)
class Detail:
    """One ``details[]`` entry of a ``VALIDATION_FAILED`` error (Zod style dotted path)."""

    path: str
    message: str


@dataclass(eq=False)  # exceptions compare and hash by identity
class ApiError(Exception):
    """An error answer; raise it anywhere below a view and the pipeline renders it."""

    status: int
    code: str
    message: str
    details: Sequence[Detail] = ()
    headers: dict[str, str] = field(default_factory=dict)
    # Facts the classic dialect reports in its ``details`` object (v1 bodies leave them out).
    context: dict[str, object] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.status} {self.code}: {self.message}"

    def body(self) -> dict[str, object]:
        body: dict[str, object] = {
            "code": self.code,
            "message": self.message,
            "status": self.status,
        }
        if self.details:
            body["details"] = [{"path": d.path, "message": d.message} for d in self.details]
        return body

    def to_response(self) -> JsonResponse:
        response = JsonResponse(self.body(), status=self.status)
        for name, value in self.headers.items():
            response[name] = value
        return response


def validation_failed(details: Sequence[Detail], message: str | None = None) -> ApiError:
    summary = message or "; ".join(f"{d.path or '(body)'}: {d.message}" for d in details)
    return ApiError(400, "VALIDATION_FAILED", summary, details=tuple(details))


def invalid_field(path: str, message: str) -> ApiError:
    return validation_failed([Detail(path, message)])


def bad_request(code: str, message: str) -> ApiError:
    return ApiError(400, code, message)


def product_not_found(external_id: str) -> ApiError:
    return ApiError(404, "PRODUCT_NOT_FOUND", f"Product '{external_id}' not found or expired.")


def images_required() -> ApiError:
    return bad_request(
        "PRODUCT_IMAGES_REQUIRED", "A new product needs at least one image (images[])."
    )


def insufficient_credits(required: int = 1, available: int = 0) -> ApiError:
    message = (
        "Your account has no credits left."
        if required == 1
        else f"This needs {required} credits; your account has {available}."
    )
    return ApiError(
        402,
        "INSUFFICIENT_CREDITS",
        message,
        context={"required": required, "available": available},
    )


def rate_limited(retry_after: int) -> ApiError:
    return ApiError(
        429,
        "RATE_LIMITED",
        f"Too many requests; retry in {retry_after} s.",
        headers={"Retry-After": str(retry_after)},
        context={"retry_after": retry_after},
    )


def injected(status: int) -> ApiError:
    """An error produced by fault injection: same shape as a real one, nothing processed."""
    code = INJECTED_CODES.get(status, "INJECTED_FAULT")
    error = ApiError(status, code, f"Injected fault: HTTP {status} (sandbox fault injection).")
    if status == 429:
        error.headers["Retry-After"] = "1"
        error.context["retry_after"] = 1
    error.context["injected"] = True
    return error
