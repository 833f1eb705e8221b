"""Sandbox-only control endpoints under ``<api root>/_sandbox/``.

Authenticated with the sandbox's control token in the ``x-sandbox-control-token`` header
(``SandboxState.control_token``), never with an API key: an account's key, which the shop
holds, must not let anyone reset the sandbox, mint credits, inject faults or list every
generation. The endpoints that concern one account (stats, generations, faults, credits)
name it with ``x-api-key``, as a selector only. Never rate limited, never subject to fault
injection, not in the request log.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from genlook_django.sandbox.conf import CONTROL_TOKEN_HEADER
from genlook_django.sandbox.errors import ApiError, invalid_field
from genlook_django.sandbox.pipeline import authenticate, method_not_allowed, quiet, state_for
from genlook_django.sandbox.state import SandboxState

# (state, the account named by x-api-key or None, the JSON body) -> the JSON answer
ControlHandler = Callable[[SandboxState, str | None, dict[str, Any]], dict[str, Any]]
CONFIG_OPTIONS = ("generation_seconds", "sync_wait_seconds", "rate_limit", "rate_window")
FAULT_OPTIONS = (
    "error_rates",
    "latency",
    "timeout_rate",
    "timeout_seconds",
    "fail_generations",
    "fail_error_code",
    "drop_webhooks",
    "seed",
    "mode",
    "drop_next_webhooks",
    "fail_next_generations",
)


def control(
    method: str, handler: ControlHandler, *, account: bool = True
) -> Callable[[HttpRequest], HttpResponse]:
    """A control view: the control token first (so that nothing, not even which methods a
    route takes, is told to a caller without it), then the method, then, when ``account``,
    the account named by ``x-api-key``."""

    @csrf_exempt
    def view(request: HttpRequest) -> HttpResponse:
        state = state_for(request)
        api_key = request.headers.get("x-api-key", "").strip() or None
        try:
            authorise(state, request.headers.get(CONTROL_TOKEN_HEADER, "").strip() or None)
            if request.method != method:
                raise method_not_allowed([method])
            body = _json(request)
            selected: str | None = None
            if account and not (handler is faults and bool(body.get("global"))):
                authenticate(state, api_key)
                selected = api_key
            response: HttpResponse = JsonResponse(handler(state, selected, body))
        except ApiError as error:
            response = error.to_response()
        except (TypeError, ValueError) as exc:
            response = invalid_field("", str(exc)).to_response()
        return quiet(response)

    return view


def authorise(state: SandboxState, token: str | None) -> None:
    """401 without the right control token; an API key is never one."""
    if token is None:
        raise ApiError(
            401,
            "MISSING_CONTROL_TOKEN",
            f"The {CONTROL_TOKEN_HEADER} header is required: the sandbox's control token "
            "(GENLOOK_SANDBOX['CONTROL_TOKEN'], or the one manage.py genlook_sandbox "
            "prints), not an API key.",
        )
    if not state.is_control_token(token):
        raise ApiError(401, "INVALID_CONTROL_TOKEN", "Invalid sandbox control token.")
    if state.account(token) is not None:
        # A token that is also an account's key would let the key's holders in.
        raise ApiError(
            403,
            "CONTROL_TOKEN_IS_AN_API_KEY",
            "The sandbox's control token is also an API key; choose another CONTROL_TOKEN.",
        )


def _json(request: HttpRequest) -> dict[str, Any]:
    if request.method != "POST" or not request.body:
        return {}
    try:
        body = json.loads(request.body)
    except ValueError as exc:
        raise invalid_field("", "Invalid JSON") from exc
    if not isinstance(body, dict):
        raise invalid_field("", "Expected a JSON object")
    return body


def _only(body: dict[str, Any], allowed: tuple[str, ...]) -> dict[str, Any]:
    unknown = sorted(set(body) - set(allowed))
    if unknown:
        raise invalid_field(unknown[0], f"Unknown option; known: {', '.join(allowed)}")
    return body


def stats(state: SandboxState, api_key: str | None, body: dict[str, Any]) -> dict[str, Any]:
    assert api_key is not None
    return state.stats(api_key)


def generations(state: SandboxState, api_key: str | None, body: dict[str, Any]) -> dict[str, Any]:
    """Every generation the account created, oldest first, with the ``externalUserId``
    and the ``webhookUrl`` it was created with: what a test counts per try-on (a lost
    answer leaves a generation that no row of the shop names)."""
    from genlook_django.sandbox.generations import serialise_generation

    return {
        "generations": [
            {
                **serialise_generation(generation),
                "externalUserId": generation.customer_id,
                "productExternalId": generation.product_external_id,
                "webhookUrl": generation.webhook_url,
                "dialect": generation.dialect,
            }
            for generation in state.engine.all(api_key or "")
        ]
    }


def faults(state: SandboxState, api_key: str | None, body: dict[str, Any]) -> dict[str, Any]:
    scope_global = bool(body.pop("global", False))
    options = _only(body, FAULT_OPTIONS)
    state.set_faults(None if scope_global else api_key, **options)
    return {
        "scope": "global" if scope_global else "account",
        "faults": state.faults.describe(api_key),
    }


def reset(state: SandboxState, api_key: str | None, body: dict[str, Any]) -> dict[str, Any]:
    state.reset()
    return {"reset": True}


def credits(state: SandboxState, api_key: str | None, body: dict[str, Any]) -> dict[str, Any]:
    assert api_key is not None
    value = body.get("credits")
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise invalid_field("credits", "Expected a non-negative integer")
    state.set_credits(api_key, value)
    return {"creditBalance": state.get_credits(api_key)}


def config(state: SandboxState, api_key: str | None, body: dict[str, Any]) -> dict[str, Any]:
    current = state.configure(**_only(body, CONFIG_OPTIONS))
    return {name: getattr(current, name) for name in CONFIG_OPTIONS}


def control_help(base_url: str, token: str, api_key: str | None = None) -> list[str]:
    """How to call the control endpoints, for a start-up banner: the token and a curl line."""
    account = f" -H 'x-api-key: {api_key}'" if api_key else ""
    return [
        f"  control token: {token} (header {CONTROL_TOKEN_HEADER}; keep it off web pages)",
        f"    e.g. curl -H '{CONTROL_TOKEN_HEADER}: {token}'{account} {base_url}/_sandbox/stats",
    ]


stats_view = control("GET", stats)
generations_view = control("GET", generations)
faults_view = control("POST", faults)
reset_view = control("POST", reset, account=False)  # the whole sandbox
credits_view = control("POST", credits)
config_view = control("POST", config, account=False)  # every account
