"""What every API request goes through: method, auth, rate limit, faults, handler, log."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.http import HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt

from genlook_django.sandbox.errors import ApiError, injected, invalid_field, rate_limited
from genlook_django.sandbox.records import RequestRecord
from genlook_django.sandbox.state import SandboxState, get_state

logger = logging.getLogger(__name__)

# Set by SandboxServer in the WSGI environ: its own origin, so that absolute URLs do not
# depend on the host project's ALLOWED_HOSTS, and the state it serves.
ORIGIN_ENVIRON_KEY = "genlook_sandbox.origin"
STATE_ENVIRON_KEY = "genlook_sandbox.state"


@dataclass
class Call:
    """One authenticated API request, as a handler sees it."""

    request: HttpRequest
    state: SandboxState
    api_key: str
    api_root: str  # absolute URL of the API root, without trailing slash
    generation_id: str | None = None  # set by handlers, for the request log


Handler = Callable[..., HttpResponse]
View = Callable[..., HttpResponse]


@dataclass(frozen=True)
class Dialect:
    """How one API dialect carries the key and shapes its errors (same engine underneath)."""

    read_key: Callable[[HttpRequest], str | None]
    render: Callable[[ApiError], HttpResponse]
    missing_key: str  # the message of a 401 without a key


def _x_api_key(request: HttpRequest) -> str | None:
    return request.headers.get("x-api-key", "").strip() or None


V1 = Dialect(_x_api_key, ApiError.to_response, "The x-api-key header is required.")


def state_for(request: HttpRequest) -> SandboxState:
    """The state a SandboxServer serves, or the process-wide one when mounted in a project."""
    return request.META.get(STATE_ENVIRON_KEY) or get_state()


def api_root_path(request: HttpRequest) -> str:
    """The path the sandbox is mounted at, e.g. ``/tryon/v1/`` (whatever the namespace)."""
    match = request.resolver_match
    namespace = match.namespace if match else ""
    return reverse(f"{namespace}:root" if namespace else "root")


def origin(request: HttpRequest) -> str:
    return request.META.get(ORIGIN_ENVIRON_KEY) or f"{request.scheme}://{request.get_host()}"


def endpoint(route: str, dialect: Dialect = V1, **handlers: Handler) -> View:
    """A view for one API route; ``handlers`` maps lower-case HTTP methods to handlers."""
    by_method = {method.upper(): handler for method, handler in handlers.items()}

    @csrf_exempt
    def view(request: HttpRequest, **kwargs: Any) -> HttpResponse:
        state = state_for(request)
        api_key = dialect.read_key(request)
        root_path = api_root_path(request)
        call = Call(request, state, api_key or "", origin(request) + root_path.rstrip("/"))
        handler = by_method.get(request.method or "")
        response, late_by = _respond(call, dialect, handler, by_method, kwargs)
        state.record(
            RequestRecord(
                at=state.now(),
                method=request.method or "",
                path="/" + request.path[len(root_path) :],
                status=response.status_code,
                api_key=api_key,
                generation_id=call.generation_id,
                route=route,
            )
        )
        state.purge_expired()
        if late_by:  # processed normally, but the answer comes after the client gave up
            time.sleep(late_by)
        return quiet(response)

    return view


def _respond(
    call: Call,
    dialect: Dialect,
    handler: Handler | None,
    allowed: Iterable[str],
    kwargs: dict[str, Any],
) -> tuple[HttpResponse, float]:
    """The answer, and how long to hold it back (fault injection's late answers)."""
    try:
        if handler is None:
            raise method_not_allowed(allowed)
        authenticate(call.state, call.api_key or None, dialect.missing_key)
        late_by = _apply_faults_and_limits(call.state, call.api_key)
    except ApiError as refusal:  # refused before any processing: never late
        return dialect.render(refusal), 0.0
    try:
        return handler(call, **kwargs), late_by
    except ApiError as error:
        failure = error
    except RequestDataTooBig:
        failure = ApiError(413, "PAYLOAD_TOO_LARGE", "The request body is too large.")
    except (MultiPartParserError, SuspiciousOperation) as exc:
        failure = invalid_field("", f"Malformed request body ({exc}).")
    except Exception:
        request = call.request
        logger.exception("Genlook sandbox failed on %s %s", request.method, request.path)
        failure = ApiError(500, "INTERNAL_ERROR", "Internal sandbox error.")
    return dialect.render(failure), late_by


def authenticate(state: SandboxState, api_key: str | None, missing: str = V1.missing_key) -> None:
    if api_key is None:
        raise ApiError(401, "MISSING_API_KEY", missing)
    if state.account(api_key) is None:
        raise ApiError(401, "INVALID_API_KEY", "Invalid, revoked or inactive API key.")


def _apply_faults_and_limits(state: SandboxState, api_key: str) -> float:
    """Rate limit, then injected errors and latency (before any processing, so nothing is
    created or charged). Returns how long to hold the answer back after processing."""
    config = state.config
    retry_after = state.limiter.acquire(
        api_key, limit=config.rate_limit, window=config.rate_window, now=time.monotonic()
    )
    if retry_after is not None:
        raise rate_limited(retry_after)
    faults = state.faults.for_key(api_key)
    if faults.latency:
        time.sleep(faults.latency)
    status = state.faults.pick_error(api_key)
    if status is not None:
        raise injected(status)
    if state.faults.decide(api_key, "timeout"):
        return faults.timeout_seconds
    return 0.0


def method_not_allowed(allowed: Iterable[str]) -> ApiError:
    methods = ", ".join(sorted(allowed))
    return ApiError(
        405, "METHOD_NOT_ALLOWED", f"Use {methods} on this path.", headers={"Allow": methods}
    )


def quiet(response: HttpResponse) -> HttpResponse:
    """Error answers are the emulated API speaking, not trouble in the host project: keep
    them out of Django's ``django.request`` warnings (``log_response`` honours this flag)."""
    response._has_been_logged = True  # type: ignore[attr-defined]
    return response
