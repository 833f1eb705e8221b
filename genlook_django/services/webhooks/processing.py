"""Processing an accepted delivery (in the task): confirm with Genlook, then ingest.

``process`` confirms the try-on's state with ``GET /generations/{id}``
(``WEBHOOK_CONFIRM``, on by default) and hands *Genlook's* answer to ``results.ingest``,
the same function polling uses; the payload's own result URL is never fetched. A hint
Genlook contradicts is recorded (outcome ``ignored``) and what Genlook says is ingested.
A finished try-on never moves.

What confirmations cost is bounded (``_may_ask_genlook``): a body that repeats one Genlook
contradicted for good for the same try-on is settled without asking again
(``contradicted_repeat``), and each try-on's deliveries are confirmed at most
``WEBHOOK_MAX_CONFIRMATIONS`` times (``confirmations_exhausted`` beyond: stored, not
confirmed; polling and the reconciler still bring the result).
"""

from __future__ import annotations

import json
import logging
from typing import Any

from django.db.models import F
from django.utils import timezone

from genlook_django.client import Generation, GenlookClient, GenlookError, NotFoundError
from genlook_django.conf import genlook_settings
from genlook_django.models import TryOn, WebhookDelivery
from genlook_django.services.genlook import get_client
from genlook_django.services.tryons import results
from genlook_django.services.webhooks.deliveries import (
    CONTRADICTED,
    FINAL_CONTRADICTIONS,
    REPEAT,
    Outcome,
    Verdict,
    error_text,
    reprocess,
    update,
)
from genlook_django.services.webhooks.payloads import WebhookHint, parse_payload
from genlook_django.signals import tryon_failed

logger = logging.getLogger("genlook_django.webhooks")

# How far along a generation a status is: a hint *ahead* of Genlook's answer (COMPLETED
# while Genlook says PROCESSING) may yet come true; one behind it, or with a status Genlook
# never uses, cannot.
STATUS_RANK = {"PENDING": 0, "PROCESSING": 1, "COMPLETED": 2, "FAILED": 2}
NOT_YET = "not_confirmed_yet"  # ahead of Genlook: the key is released, the cap bounds repeats
EXHAUSTED = "confirmations_exhausted"


class NotReady(Exception):
    """The try-on has no generation id yet: its submission has not finished recording it."""


def is_retryable(error: BaseException) -> bool:
    """Worth processing again a little later: Genlook or the network failed, the request
    budget was busy (``GenlookError.is_transient``), or the submission is still recording
    the generation id (``NotReady``)."""
    return isinstance(error, NotReady) or (isinstance(error, GenlookError) and error.is_transient)


def process(
    delivery_id: int, *, client: GenlookClient | None = None, raise_transient: bool = False
) -> str:
    """Process one accepted delivery; returns its outcome.

    With ``raise_transient``, a transient failure (Genlook or the network, or a try-on
    whose submission has not recorded its generation yet) leaves the delivery ``pending``
    and is re-raised for the task to retry; otherwise it is ``failed``. Every attempt is
    counted and its traceback kept on the row.
    """
    delivery = WebhookDelivery.objects.filter(pk=delivery_id).first()
    if delivery is None:
        return "missing"
    if delivery.verdict != Verdict.ACCEPTED:
        return delivery.outcome
    WebhookDelivery.objects.filter(pk=delivery.pk).update(attempts=F("attempts") + 1)
    try:
        outcome, reason, release = _process(delivery, client)
    except Exception as exc:
        if not is_retryable(exc):
            return _failed(delivery, exc)
        reason = "not_submitted_yet" if isinstance(exc, NotReady) else "genlook_unavailable"
        outcome = Outcome.PENDING if raise_transient else Outcome.FAILED
        update(delivery, outcome=outcome, reason=reason, error=error_text())
        logger.info("Webhook delivery %s not processed yet: %s", delivery.pk, exc)
        if raise_transient:
            raise
        return outcome
    fields: dict[str, Any] = {
        "outcome": outcome,
        "reason": reason,
        "error": "",
        "processed_at": timezone.now(),
    }
    if release:
        # Genlook is not there yet and the try-on is still open: a later, true delivery of
        # the same generation and status must not be absorbed as a duplicate of this one.
        fields["dedupe_key"] = None
    update(delivery, **fields)
    return outcome


def _failed(delivery: WebhookDelivery, error: Exception) -> str:
    """Record a failure that waiting would not cure (called while handling ``error``)."""
    if isinstance(error, GenlookError):
        logger.warning("Webhook delivery %s: Genlook refused the check: %s", delivery.pk, error)
        reason = "genlook_error"
    else:
        logger.exception("Webhook delivery %s could not be processed", delivery.pk)
        reason = "processing_error"
    update(delivery, outcome=Outcome.FAILED, reason=reason, error=error_text())
    return Outcome.FAILED


def _may_ask_genlook(delivery: WebhookDelivery, try_on: TryOn) -> str:
    """ "" when this delivery may be confirmed with Genlook now, else the reason it is not.

    - ``contradicted_repeat``: another delivery of this try-on with the very same body was
      contradicted for good (``FINAL_CONTRADICTIONS``): Genlook's answer cannot change.
      A hint merely ahead of Genlook (``not_confirmed_yet``) is not final: a genuine
      sender retrying it once the generation is done must still be heard.
    - ``confirmations_exhausted``: the try-on's deliveries were confirmed
      ``WEBHOOK_MAX_CONFIRMATIONS`` times already (a conditional UPDATE takes one slot, so
      concurrent deliveries cannot overshoot). A delivery retried after Genlook was
      unavailable keeps the slot its first attempt took. Logged once per try-on.
    """
    if delivery.body_hash and (
        WebhookDelivery.objects.filter(
            try_on_id=try_on.pk, body_hash=delivery.body_hash, reason__in=FINAL_CONTRADICTIONS
        )
        .exclude(pk=delivery.pk)
        .exists()
    ):
        return REPEAT
    cap = genlook_settings.WEBHOOK_MAX_CONFIRMATIONS
    if cap is None or delivery.reason == "genlook_unavailable":
        return ""
    taken = TryOn.objects.filter(pk=try_on.pk, webhook_confirmations__lt=int(cap)).update(
        webhook_confirmations=F("webhook_confirmations") + 1
    )
    if taken:
        return ""
    if not WebhookDelivery.objects.filter(try_on_id=try_on.pk, reason=EXHAUSTED).exists():
        logger.warning(
            "Try-on %s: its webhook deliveries were confirmed with Genlook %s times "
            "(WEBHOOK_MAX_CONFIRMATIONS); further ones are stored, not confirmed. Its result "
            "still comes by polling and the reconciler.",
            try_on.public_id,
            cap,
        )
    return EXHAUSTED


def _adopt(
    delivery: WebhookDelivery, try_on: TryOn, hint: WebhookHint, client: GenlookClient
) -> tuple[str, str, bool]:
    """The webhook of a try-on whose create's answer was lost names the generation that
    create made: adopted once Genlook confirms it (``results.adopt``)."""
    refused = _may_ask_genlook(delivery, try_on)
    if refused:
        return Outcome.IGNORED, refused, False
    try:
        generation = client.get_generation(hint.generation_id)
    except NotFoundError:
        return Outcome.IGNORED, "generation_not_found", False
    if not results.adopt(try_on, generation, client=client):
        return Outcome.IGNORED, "not_adoptable", False
    return Outcome.PROCESSED, "adopted", False


def _process(delivery: WebhookDelivery, client: GenlookClient | None) -> tuple[str, str, bool]:
    """(outcome, reason, release the dedupe key)."""
    payload = json.loads(delivery.body)
    hint = parse_payload(payload)
    try_on = TryOn.objects.filter(pk=delivery.try_on_id).first() if delivery.try_on_id else None
    if try_on is None:
        return Outcome.IGNORED, "try_on_deleted", False
    if try_on.is_final:
        if results.adoptable(try_on) and genlook_settings.WEBHOOK_CONFIRM:
            return _adopt(delivery, try_on, hint, client or get_client())
        return Outcome.IGNORED, "already_final", False
    if not try_on.generation_id:
        raise NotReady(f"Try-on {try_on.public_id} has no generation id yet.")
    if hint.generation_id != try_on.generation_id:
        return Outcome.IGNORED, "generation_mismatch", False
    client = client or get_client()

    if not genlook_settings.WEBHOOK_CONFIRM:
        # Trusted as it is (only ever with a signing secret: manage.py check warns).
        generation = Generation(
            id=hint.generation_id,
            status=hint.status,
            result_image_url=hint.result_image_url,
            error_code=hint.error_code,
            error_message=hint.error_message,
            raw={"webhook": payload},
        )
        results.ingest(try_on, generation, client=client)
        return Outcome.PROCESSED, "unconfirmed", False

    refused = _may_ask_genlook(delivery, try_on)
    if refused:
        return Outcome.IGNORED, refused, False
    asked = timezone.now()
    try:
        generation = client.get_generation(try_on.generation_id)
    except NotFoundError as exc:  # Genlook does not know it (any more): as polling would
        results.fail(try_on, "GENERATION_LOST", str(exc))
        return Outcome.PROCESSED, "generation_not_found", False
    TryOn.objects.filter(pk=try_on.pk).update(last_checked_at=asked, checks=F("checks") + 1)
    current = results.ingest(try_on, generation, client=client)
    if hint.status != generation.status:
        # Ahead of Genlook (COMPLETED while it says PROCESSING): may come true, the key is
        # released. Behind it, or a status Genlook never uses: contradicted for good.
        ahead = STATUS_RANK.get(hint.status, -2) > STATUS_RANK.get(generation.status, -1)
        not_yet = ahead and not current.is_final
        logger.warning(
            "Webhook delivery %s said %s, Genlook says %s for generation %s: Genlook's "
            "answer recorded.",
            delivery.pk,
            delivery.status_hint,  # as stored: bounded, and printable by any log handler
            generation.status,
            generation.id,
        )
        return Outcome.IGNORED, NOT_YET if not_yet else CONTRADICTED, not_yet
    return Outcome.PROCESSED, "", False


def _on_answer_lost(sender: Any, try_on: TryOn, error_code: str = "", **kwargs: Any) -> None:
    """``tryon_failed`` with a lost answer: a delivery that came while the try-on was still
    being submitted (and gave up waiting, ``not_submitted_yet``) is processed again, now
    that its generation may be adopted (``results.adopt``)."""
    if error_code not in results.ANSWER_LOST:
        return
    waiting = list(
        WebhookDelivery.objects.filter(
            try_on_id=try_on.pk, verdict=Verdict.ACCEPTED, reason="not_submitted_yet"
        ).values_list("pk", flat=True)
    )
    if waiting:
        reprocess(waiting)


def connect_signals() -> None:
    tryon_failed.connect(_on_answer_lost, dispatch_uid="genlook_django.webhooks.answer_lost")
