"""Sandbox-only control endpoints under ``<api root>/_sandbox/``.

Authenticated with the ``x-api-key`` of the account they concern; never rate limited,
never subject to fault injection, not in the request log.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from genlook_django.sandbox.errors import ApiError, invalid_field
from genlook_django.sandbox.pipeline import authenticate, method_not_allowed, quiet, state_for
from genlook_django.sandbox.state import SandboxState

ControlHandler = Callable[[SandboxState, str, dict[str, Any]], dict[str, Any]]
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


def control(method: str, handler: ControlHandler) -> Callable[[HttpRequest], HttpResponse]:
    @csrf_exempt
    def view(request: HttpRequest) -> HttpResponse:
        state = state_for(request)
        api_key = request.headers.get("x-api-key", "").strip() or None
        try:
            if request.method != method:
                raise method_not_allowed([method])
            authenticate(state, api_key)
            assert api_key is not None
            response: HttpResponse = JsonResponse(handler(state, api_key, _json(request)))
        except ApiError as error:
            response = error.to_response()
        except (TypeError, ValueError) as exc:
            response = invalid_field("", str(exc)).to_response()
        return quiet(response)

    return view


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


def stats(state: SandboxState, api_key: str, body: dict[str, Any]) -> dict[str, Any]:
    return state.stats(api_key)


def generations(state: SandboxState, api_key: str, body: dict[str, Any]) -> dict[str, Any]:
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
            }
            for generation in state.engine.all(api_key)
        ]
    }


def faults(state: SandboxState, api_key: str, body: dict[str, Any]) -> dict[str, Any]:
    scope_global = bool(body.pop("global", False))
    options = _only(body, FAULT_OPTIONS)
    state.set_faults(None if scope_global else api_key, **options)
    return {
        "scope": "global" if scope_global else "account",
        "faults": state.faults.describe(api_key),
    }


def reset(state: SandboxState, api_key: str, body: dict[str, Any]) -> dict[str, Any]:
    state.reset()
    return {"reset": True}


def credits(state: SandboxState, api_key: str, body: dict[str, Any]) -> dict[str, Any]:
    value = body.get("credits")
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise invalid_field("credits", "Expected a non-negative integer")
    state.set_credits(api_key, value)
    return {"creditBalance": state.get_credits(api_key)}


def config(state: SandboxState, api_key: str, body: dict[str, Any]) -> dict[str, Any]:
    current = state.configure(**_only(body, CONFIG_OPTIONS))
    return {name: getattr(current, name) for name in CONFIG_OPTIONS}


stats_view = control("GET", stats)
generations_view = control("GET", generations)
faults_view = control("POST", faults)
reset_view = control("POST", reset)
credits_view = control("POST", credits)
config_view = control("POST", config)
