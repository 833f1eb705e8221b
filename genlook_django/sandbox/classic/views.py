"""The classic endpoints: ``POST /v1/try-on``, ``GET /v1/try-on/{id}``, ``POST /v1/try-on/batch``.

They run through the sandbox's pipeline (auth, the shared rate limit, fault injection, the
request log) with the classic dialect: Bearer keys and nested errors.
"""

from __future__ import annotations

import math
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse

from genlook_django.sandbox.classic.errors import bearer_key, error_object, render
from genlook_django.sandbox.classic.fetching import Fetched, prepare
from genlook_django.sandbox.classic.parsing import parse_batch, parse_try_on, read_json_object
from genlook_django.sandbox.errors import ApiError
from genlook_django.sandbox.pipeline import (
    Call,
    Dialect,
    endpoint,
    method_not_allowed,
    quiet,
)
from genlook_django.sandbox.records import Generation, PreparedJob
from genlook_django.sandbox.webhooks import classic_payload

CLASSIC = Dialect(bearer_key, render, "Send your API key as 'Authorization: Bearer <key>'.")


def _accepted(call: Call, generation: Generation) -> dict[str, Any]:
    seconds = call.state.config.generation_seconds
    return {
        "id": generation.generation_id,
        "status": "processing",
        "eta_seconds": max(0, math.ceil(seconds)),
    }


def _submit(call: Call, jobs: list[PreparedJob]) -> list[Generation]:
    generations = call.state.engine.submit_prepared(
        api_key=call.api_key, api_root=call.api_root, jobs=jobs
    )
    call.generation_id = generations[0].generation_id
    return generations


def create(call: Call) -> HttpResponse:
    request = parse_try_on(read_json_object(call.request))
    (generation,) = _submit(call, [prepare(call.state, request, {})])
    return JsonResponse(_accepted(call, generation), status=201)


def batch(call: Call) -> HttpResponse:
    """Each entry is checked on its own: the valid ones are charged and created (all of them
    or, without enough credits, none: 402), the others answered with their error."""
    body = read_json_object(call.request)
    entries, default_webhook = parse_batch(body)
    fetched: Fetched = {}
    outcomes: list[PreparedJob | ApiError] = []
    for entry in entries:
        try:
            outcomes.append(prepare(call.state, parse_try_on(entry, default_webhook), fetched))
        except ApiError as refusal:
            outcomes.append(refusal)
    jobs = [outcome for outcome in outcomes if isinstance(outcome, PreparedJob)]
    created = iter(_submit(call, jobs) if jobs else [])
    answers = [
        {"index": index, "id": None, "status": "rejected", "error": error_object(outcome)}
        if isinstance(outcome, ApiError)
        else {"index": index, **_accepted(call, next(created))}
        for index, outcome in enumerate(outcomes)
    ]
    if not jobs:
        raise ApiError(
            400,
            "INVALID_REQUEST",
            "No request of the batch is valid.",
            context={"generations": answers},
        )
    return JsonResponse({"generations": answers}, status=201)


def status(call: Call, generation_id: str) -> HttpResponse:
    try:
        generation = call.state.engine.get(call.api_key, generation_id)
    except ApiError as error:
        if error.status != 403:
            raise
        # Another account's id: as unknown as any other, so ids reveal nothing.
        raise ApiError(
            404, "GENERATION_NOT_FOUND", f"Generation '{generation_id}' not found."
        ) from None
    call.generation_id = generation.generation_id
    return JsonResponse(classic_payload(generation, generation.result_url))


try_on_view = endpoint("/v1/try-on", CLASSIC, post=create)
batch_view = endpoint("/v1/try-on/batch", CLASSIC, post=batch)
status_view = endpoint("/v1/try-on/{id}", CLASSIC, get=status)


def index(request: HttpRequest) -> HttpResponse:
    """The classic base URL itself: a banner, without authentication."""
    if request.method not in ("GET", "HEAD"):
        return quiet(render(method_not_allowed(["GET"])))
    return JsonResponse(
        {
            "service": "Genlook classic API sandbox",
            "status": "ok",
            "routes": ["POST /v1/try-on", "GET /v1/try-on/{id}", "POST /v1/try-on/batch"],
        }
    )


def not_found(request: HttpRequest) -> HttpResponse:
    return quiet(
        render(ApiError(404, "NOT_FOUND", f"No API route {request.method} {request.path}."))
    )
