"""The delivery log's shared words and writes: the reasons both the receiver and the
processing read, a delivery's row updated in place, and deliveries put back in the queue
(by the admin, the replay command, a sender retrying, or a lost answer)."""

from __future__ import annotations

import traceback
from collections.abc import Iterable
from typing import Any

from django.db import transaction

from genlook_django.models import WebhookDelivery
from genlook_django.services.webhooks.dispatch import enqueue

Verdict = WebhookDelivery.Verdict
Outcome = WebhookDelivery.Outcome

# Reasons of a delivery Genlook contradicted for good: what it claims can never become true
# (its status cannot come, its generation is unknown, another one or not adoptable). The
# same body again, for the same try-on, is settled without asking Genlook again (REPEAT).
CONTRADICTED = "contradicted_by_genlook"
FINAL_CONTRADICTIONS = frozenset(
    {CONTRADICTED, "generation_mismatch", "generation_not_found", "not_adoptable"}
)
REPEAT = "contradicted_repeat"


def error_text() -> str:
    """The traceback being handled, as stored on the row (bounded)."""
    return traceback.format_exc()[-20_000:]


def update(delivery: WebhookDelivery, **fields: Any) -> None:
    WebhookDelivery.objects.filter(pk=delivery.pk).update(**fields)
    for name, value in fields.items():
        setattr(delivery, name, value)


def mark_for_reprocessing(delivery_ids: Iterable[int]) -> int:
    """Put accepted deliveries back to ``pending`` (before enqueueing them again)."""
    return WebhookDelivery.objects.filter(
        pk__in=list(delivery_ids), verdict=Verdict.ACCEPTED
    ).update(outcome=Outcome.PENDING, reason="reprocess", processed_at=None)


def reprocess(delivery_ids: list[int]) -> None:
    """Mark accepted deliveries ``pending`` and enqueue each once the transaction commits."""
    mark_for_reprocessing(delivery_ids)
    for pk in delivery_ids:
        transaction.on_commit(lambda pk=pk: enqueue(pk), robust=True)
