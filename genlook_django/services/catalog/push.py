"""Pushing one plan to Genlook (network only, thread-safe): ``POST /products`` or
``DELETE /products/{id}``; the outcome is recorded by ``record``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from genlook_django.client import GenlookClient, NotFoundError

from .payload import present
from .plan import DELETE, UPSERT, Plan


@dataclass
class Outcome:
    """What a push did at Genlook (recorded by ``record``)."""

    product: Any = None  # the client's Product after an upsert
    error: BaseException | None = None
    requests: int = 0
    moved: bool = False  # the product's previous external id was deleted at Genlook
    existed: bool = True  # a delete found the product at Genlook (False: it answered 404)


def push(client: GenlookClient, plan: Plan) -> Outcome:
    outcome = Outcome()
    try:
        if plan.action == DELETE:
            outcome.requests += 1
            outcome.existed = _delete_quietly(client, plan.external_id or "")
        elif plan.action == UPSERT:
            assert plan.payload is not None
            if plan.previous_external_id:
                outcome.requests += 1
                _delete_quietly(client, plan.previous_external_id)
                outcome.moved = True
            payload = plan.payload
            outcome.requests += 1
            outcome.product = client.upsert_product(
                payload.external_id,
                title=present(payload.title),  # blank: left out (Genlook refuses "")
                description=present(payload.description),
                images=list(payload.image_urls),
                valid_for_days=payload.valid_for_days,
                metadata=payload.metadata,
            )
    except Exception as exc:
        outcome.error = exc
    return outcome


def _delete_quietly(client: GenlookClient, external_id: str) -> bool:
    """Delete at Genlook; False if it did not have the product (404: what was asked)."""
    try:
        client.delete_product(external_id)
    except NotFoundError:
        return False
    return True
