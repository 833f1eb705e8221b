"""Webhooks: the per-try-on URL, the delivery log, and processing a delivery.

Genlook's v1 documents no webhooks; its older API page documents a ``webhook_url`` and a
completion payload, signed by nothing. So a delivery is only ever a *hint*:

1. ``url_for_submission`` gives each try-on its own URL, ``PUBLIC_BASE_URL`` +
   ``/webhooks/<token>/``: the token is ``secrets.token_urlsafe(32)`` and only its SHA-256
   is stored (``TryOn.webhook_token_hash``), so a leaked database lets nobody post.
2. ``receive`` authenticates a delivery (the signature when ``WEBHOOK_SIGNING_SECRETS``
   is set, then the token), parses it (the classic or the v1 shape) and stores it,
   whatever the verdict, in one INSERT (bounded body, headers without anything
   secret-looking, remote address, verdict and reason): the checks only read, so nothing
   is written before authentication, and a crash in them still stores the delivery. An
   accepted one is deduplicated on ``try-on:generation:status`` (a unique constraint) and its
   processing enqueued on commit. Nothing about a result is written before that.
3. ``process`` (in the Celery task) confirms the try-on's state with
   ``GET /generations/{id}`` (``WEBHOOK_CONFIRM``, on by default) and hands *Genlook's*
   answer to ``results.ingest``, the same function polling uses; the payload's own
   result URL is never fetched. A hint Genlook contradicts is recorded (outcome
   ``ignored``) and what Genlook says is ingested. A finished try-on never moves.
4. What confirmations cost is bounded (``_may_ask_genlook``): a body that repeats one
   Genlook contradicted for good for the same try-on is settled without asking again
   (``contradicted_repeat``), and each try-on's deliveries are confirmed at most
   ``WEBHOOK_MAX_CONFIRMATIONS`` times (``confirmations_exhausted`` beyond: stored, not
   confirmed; polling and the reconciler still bring the result).
"""

from __future__ import annotations

import contextlib
import hashlib
import ipaddress
import json
import logging
import re
import secrets
import traceback
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, connections, router, transaction
from django.db.models import F
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from genlook_django.client import Generation, GenlookClient, GenlookError, NotFoundError
from genlook_django.conf import OFFICIAL_BASE_URL, genlook_settings
from genlook_django.models import TryOn, WebhookDelivery
from genlook_django.services.genlook import get_client
from genlook_django.services.tryons import results
from genlook_django.services.webhooks import rows
from genlook_django.services.webhooks.dispatch import dispatcher
from genlook_django.services.webhooks.payloads import PayloadError, WebhookHint, parse_payload
from genlook_django.services.webhooks.signatures import SignatureError, verify_signature
from genlook_django.signals import tryon_failed, webhook_received

logger = logging.getLogger("genlook_django.webhooks")

Verdict = WebhookDelivery.Verdict
Outcome = WebhookDelivery.Outcome

TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9_-]{32,128}$")
# Header names whose values are never stored (shown as REDACTED, so their presence is).
SECRET_HEADER = re.compile(
    r"cookie|authorization|secret|token|passw|api[-_]?key|session|csrf|credential", re.I
)
REDACTED = "[redacted]"
MAX_HEADERS = 64
MAX_HEADER_VALUE = 1024
MAX_HEADER_NAME = 128
# Statuses a hint is deduplicated on; anything else shares one "OTHER" slot per generation,
# so a token holder cannot make Genlook be asked again and again with made-up statuses.
DEDUPE_STATUSES = frozenset({"PENDING", "PROCESSING", "COMPLETED", "FAILED"})
# How far along a generation a status is: a hint *ahead* of Genlook's answer (COMPLETED
# while Genlook says PROCESSING) may yet come true; one behind it, or with a status Genlook
# never uses, cannot.
STATUS_RANK = {"PENDING": 0, "PROCESSING": 1, "COMPLETED": 2, "FAILED": 2}
# Reasons of a delivery Genlook contradicted for good: what it claims can never become true
# (its status cannot come, its generation is unknown, another one or not adoptable). The
# same body again, for the same try-on, is settled without asking Genlook again.
CONTRADICTED = "contradicted_by_genlook"
FINAL_CONTRADICTIONS = frozenset(
    {CONTRADICTED, "generation_mismatch", "generation_not_found", "not_adoptable"}
)
NOT_YET = "not_confirmed_yet"  # ahead of Genlook: the key is released, the cap bounds repeats
REPEAT = "contradicted_repeat"
EXHAUSTED = "confirmations_exhausted"


class NotReady(Exception):
    """The try-on has no generation id yet: its submission has not finished recording it."""


# Worth processing again a little later.
RETRYABLE: tuple[type[Exception], ...] = (*results.TRANSIENT_ERRORS, NotReady)


# -- Settings ----------------------------------------------------------------------------------


def enabled() -> bool:
    return bool(genlook_settings.WEBHOOKS)


def signing_secrets() -> list[str]:
    """``WEBHOOK_SIGNING_SECRETS`` as a list of non-empty strings (one string is one secret)."""
    value = genlook_settings.WEBHOOK_SIGNING_SECRETS or []
    if isinstance(value, str):
        value = [value]
    return [str(secret) for secret in value if secret]


# -- The per-try-on URL ------------------------------------------------------------------------


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# Base URL -> whether that endpoint declared it accepts ``webhook_url`` (asked once each).
_declared_webhook_url: dict[str, bool] = {}


def endpoint_accepts_webhook_url() -> bool:
    """``webhook_url`` is not part of the v1 contract: it is sent only to an endpoint that
    declares it accepts it (``GenlookClient.extensions``: the sandbox does), and never to
    Genlook's own v1 API, which is not even asked."""
    base = str(genlook_settings.BASE_URL).rstrip("/")
    if base == OFFICIAL_BASE_URL.rstrip("/"):
        return False
    if base not in _declared_webhook_url:
        try:
            declared = "webhook_url" in get_client(max_retries=0).extensions()
        except GenlookError as exc:  # asked again next time
            logger.warning("Could not ask %s which fields it accepts: %s", base, exc)
            return False
        if not declared:
            logger.warning(
                "WEBHOOKS is on but %s does not declare it accepts webhook_url: results "
                "come by polling and the reconciler.",
                base,
            )
        _declared_webhook_url[base] = declared
    return _declared_webhook_url[base]


def url_for_submission(try_on: TryOn) -> str | None:
    """A fresh webhook URL for this try-on (its token's hash stored on the row), or None
    when webhooks are off, ``PUBLIC_BASE_URL`` is not set, the URLs are not included, or
    the endpoint does not accept ``webhook_url`` (Genlook's v1 API does not)."""
    base = genlook_settings.PUBLIC_BASE_URL
    if not enabled() or not base or not endpoint_accepts_webhook_url():
        return None
    token = secrets.token_urlsafe(32)
    try:
        path = reverse("genlook:webhook", kwargs={"token": token})
    except NoReverseMatch:
        logger.warning("WEBHOOKS is on but genlook_django.urls is not included: no webhook_url.")
        return None
    digest = hash_token(token)
    TryOn.objects.filter(pk=try_on.pk).update(webhook_token_hash=digest)
    try_on.webhook_token_hash = digest
    return str(base).rstrip("/") + path


# -- Receiving ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Receipt:
    """What the view answers: ``status_code`` and a JSON body ``{"status", "reason"}``."""

    status_code: int
    status: str  # accepted, duplicate, ignored, rejected
    reason: str = ""
    delivery: WebhookDelivery | None = None

    def body(self) -> dict[str, str]:
        body = {"status": self.status}
        if self.reason:
            body["reason"] = self.reason
        return body


def clean_headers(meta: Mapping[str, Any]) -> dict[str, str]:
    """The request's HTTP headers from a WSGI environ, secret-looking values redacted,
    each value and their number bounded."""
    headers: dict[str, str] = {}
    for key, value in meta.items():
        if key.startswith("HTTP_"):
            name = key[5:]
        elif key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            name = key
        else:
            continue
        name = name.replace("_", "-").title()[:MAX_HEADER_NAME]
        text = str(value)
        headers[name] = REDACTED if SECRET_HEADER.search(name) else text[:MAX_HEADER_VALUE]
        if len(headers) >= MAX_HEADERS:
            break
    return headers


def _ip(value: str | None) -> str | None:
    try:
        return str(ipaddress.ip_address((value or "").strip()))
    except ValueError:
        return None


def _text(body: bytes) -> str:
    # NUL cannot be stored in a PostgreSQL text column.
    return body.decode("utf-8", errors="replace").replace("\x00", "\ufffd")


def _storable(text: str) -> str:
    """A string from the payload as a text column takes it: JSON escapes can make lone
    surrogates (not UTF-8: no database stores them) and NUL (refused by PostgreSQL)."""
    return text.encode("utf-8", errors="replace").decode().replace("\x00", "\ufffd")


def _dedupe_key(try_on_id: int, hint: WebhookHint) -> str:
    # Scoped to the try-on: a delivery for a try-on whose generation id is not recorded
    # yet names any generation, and must not use up another try-on's key.
    status = hint.status if hint.status in DEDUPE_STATUSES else "OTHER"
    return _storable(f"{try_on_id}:{hint.generation_id}:{status}")


@dataclass(frozen=True)
class _Checked:
    """What the checks found: a refusal (``status_code``, ``reason``) or an accepted hint."""

    status_code: int
    reason: str = ""
    try_on_id: int | None = None
    hint: WebhookHint | None = None
    final: bool = False

    def fields(self) -> dict[str, Any]:
        fields: dict[str, Any] = {"try_on_id": self.try_on_id}
        if self.hint is not None:
            fields["generation_id"] = _storable(self.hint.generation_id)
            fields["status_hint"] = _storable(self.hint.status[:32])
        return fields


def _find_try_on(token: str) -> tuple[int, str, str, str] | None:
    """(pk, generation id, state, error code) of the try-on holding this token, if any.

    The hottest query of the receiver, so one plain SELECT rather than the ORM's compiler
    (which costs ten times the query itself on SQLite).
    """
    if not TOKEN_PATTERN.match(token or ""):
        return None
    db = connections[router.db_for_read(TryOn)]
    quote, meta = db.ops.quote_name, TryOn._meta
    columns = ", ".join(
        quote(column)
        for column in (
            meta.pk.column,
            meta.get_field("generation_id").column,
            meta.get_field("state").column,
            meta.get_field("error_code").column,
        )
    )
    where = quote(meta.get_field("webhook_token_hash").column)
    sql = f"SELECT {columns} FROM {quote(meta.db_table)} WHERE {where} = %s"  # noqa: S608
    with db.cursor() as cursor:
        cursor.execute(sql, [hash_token(token)])
        row = cursor.fetchone()
    return (row[0], row[1], row[2], row[3]) if row else None


def _check(token: str, body: bytes, signature: str | None) -> _Checked:
    """Authenticate and parse a delivery; reads, never writes."""
    # 1. Authentication: the signature (when secrets are set), then the token.
    secrets_ = signing_secrets()
    if secrets_:
        try:
            verify_signature(
                body, signature, secrets_, tolerance=float(genlook_settings.WEBHOOK_TOLERANCE)
            )
        except SignatureError as exc:
            return _Checked(401, exc.reason)
    found = _find_try_on(token)
    if found is None:
        return _Checked(404, "unknown_token")
    try_on_id, generation_id, state, error_code = found

    # 2. The payload: the classic or the v1 shape, naming this try-on's generation.
    try:
        data = json.loads(body.decode("utf-8"))
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        return _Checked(400, "malformed_json", try_on_id)
    try:
        hint = parse_payload(data)
    except PayloadError:
        return _Checked(400, "unknown_payload", try_on_id)
    if len(hint.generation_id) > 255:
        return _Checked(400, "unknown_payload", try_on_id)
    if generation_id and hint.generation_id != generation_id:
        return _Checked(409, "generation_mismatch", try_on_id, hint)
    # A try-on failed because its create's answer was lost may yet adopt the generation
    # that create made (``results.adopt``): not final for its webhook.
    answer_lost = not generation_id and error_code in results.ANSWER_LOST
    final = state in TryOn.FINAL_STATES and not answer_lost
    return _Checked(202, "", try_on_id, hint, final=final)


def receive(
    *,
    token: str,
    body: bytes,
    truncated: bool = False,
    headers: Mapping[str, str],
    signature: str | None,
    remote_addr: str | None,
) -> Receipt:
    """Authenticate, parse and deduplicate one delivery, store it, enqueue its processing.

    Every delivery is stored, whatever its verdict, in one INSERT that carries the verdict:
    the checks before it only read (the token's try-on), so nothing at all is written
    before authentication. An unexpected error in the checks still stores the delivery
    (``internal_error``, with its traceback) and answers 500, so the sender tries again.
    ``body`` is at most ``WEBHOOK_MAX_BODY`` bytes; ``truncated`` says there was more
    (413). Bad input never raises: every case has its status code.
    """
    fields: dict[str, Any] = {
        "headers": dict(headers),
        "body": _text(body),
        "body_hash": hashlib.sha256(body).hexdigest(),
        "body_truncated": truncated,
        "remote_addr": _ip(remote_addr),
        "verdict": Verdict.REJECTED,
        "outcome": Outcome.NOT_PROCESSED,
    }
    if truncated:
        delivery = _store(**fields, reason="body_too_large")
        return Receipt(413, "rejected", "body_too_large", delivery)
    try:
        checked = _check(token, body, signature)
    except Exception:
        logger.exception("Webhook delivery could not be checked")
        delivery = _store(**fields, reason="internal_error", error=_traceback())
        return Receipt(500, "rejected", "internal_error", delivery)
    if checked.hint is None or checked.status_code >= 400:
        delivery = _store(**fields, **checked.fields(), reason=checked.reason)
        return Receipt(checked.status_code, "rejected", checked.reason, delivery)

    # Accepted: deduplicated on try-on:generation:status (a unique constraint, so concurrent
    # copies cannot both pass), then queued, unless the try-on is finished already.
    key = _dedupe_key(checked.try_on_id, checked.hint)
    fields.update(checked.fields(), verdict=Verdict.ACCEPTED)
    del fields["outcome"]
    duplicate = False
    try:
        with _savepoint_if_needed():
            delivery = _store(
                **fields,
                dedupe_key=key,
                outcome=Outcome.IGNORED if checked.final else Outcome.PENDING,
                reason="already_final" if checked.final else "",
            )
    except IntegrityError:
        duplicate = True
        if _repeats_a_contradiction(key, fields["body_hash"]):
            # The very body Genlook contradicted for good: said so, and never asked again.
            delivery = _store(**fields, outcome=Outcome.IGNORED, reason=REPEAT)
            receipt = Receipt(200, "ignored", REPEAT, delivery)
        else:
            delivery = _store(**fields, outcome=Outcome.DUPLICATE, reason="duplicate")
            receipt = Receipt(200, "duplicate", "duplicate", delivery)
    else:
        receipt = (
            Receipt(200, "ignored", "already_final", delivery)
            if checked.final
            else Receipt(202, "accepted", "", delivery)
        )
    if webhook_received.has_listeners(WebhookDelivery):
        for receiver, response in webhook_received.send_robust(
            sender=WebhookDelivery, delivery=delivery
        ):
            if isinstance(response, Exception):
                logger.error("webhook_received receiver %r failed", receiver, exc_info=response)
    if duplicate:
        _retry_failed_original(key)
    elif not checked.final:
        pk = delivery.pk
        transaction.on_commit(lambda: enqueue(pk), robust=True)
    return receipt


def _store(**fields: Any) -> WebhookDelivery:
    # One plain INSERT (``rows.insert``): this model sends no save signals of its own;
    # ``webhook_received`` is the signal for a stored delivery.
    return rows.insert(WebhookDelivery, **fields)


def _savepoint_if_needed() -> Any:
    """A savepoint inside a transaction (a failed statement would break it); in autocommit
    (the receiver's view) a failed statement breaks nothing, so none is needed."""
    using = router.db_for_write(WebhookDelivery)
    if transaction.get_connection(using).in_atomic_block:
        return transaction.atomic(using=using)
    return contextlib.nullcontext()


def _update(delivery: WebhookDelivery, **fields: Any) -> None:
    WebhookDelivery.objects.filter(pk=delivery.pk).update(**fields)
    for name, value in fields.items():
        setattr(delivery, name, value)


def _repeats_a_contradiction(dedupe_key: str, body_hash: str) -> bool:
    """Whether the delivery holding ``dedupe_key`` has this body and was contradicted by
    Genlook for good (``FINAL_CONTRADICTIONS``)."""
    return WebhookDelivery.objects.filter(
        dedupe_key=dedupe_key, body_hash=body_hash, reason__in=FINAL_CONTRADICTIONS
    ).exists()


def _retry_failed_original(dedupe_key: str) -> None:
    """A sender retrying what we failed to process: process the first delivery again."""
    original = (
        WebhookDelivery.objects.filter(dedupe_key=dedupe_key, outcome=Outcome.FAILED)
        .values_list("pk", flat=True)
        .first()
    )
    if original is not None:
        mark_for_reprocessing([original])
        transaction.on_commit(lambda: enqueue(original), robust=True)


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
        mark_for_reprocessing(waiting)
        for pk in waiting:
            transaction.on_commit(lambda pk=pk: enqueue(pk), robust=True)


def connect_signals() -> None:
    tryon_failed.connect(_on_answer_lost, dispatch_uid="genlook_django.webhooks.answer_lost")


def enqueue(delivery_id: int) -> None:
    """Hand the delivery to Celery (``webhook_dispatch``: several per message under a
    burst). A broker error is logged: the delivery stays ``pending``
    (``genlook_replay_webhooks --pending``), and the reconciler polls the try-on."""
    dispatcher.add(delivery_id)


def mark_for_reprocessing(delivery_ids: list[int]) -> int:
    """Put accepted deliveries back to ``pending`` (before enqueueing them again)."""
    return WebhookDelivery.objects.filter(pk__in=delivery_ids, verdict=Verdict.ACCEPTED).update(
        outcome=Outcome.PENDING, reason="reprocess", processed_at=None
    )


# -- Processing (the Celery task) --------------------------------------------------------------


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
    except RETRYABLE as exc:
        reason = "not_submitted_yet" if isinstance(exc, NotReady) else "genlook_unavailable"
        outcome = Outcome.PENDING if raise_transient else Outcome.FAILED
        _update(delivery, outcome=outcome, reason=reason, error=_traceback())
        logger.info("Webhook delivery %s not processed yet: %s", delivery.pk, exc)
        if raise_transient:
            raise
        return outcome
    except GenlookError as exc:
        logger.warning("Webhook delivery %s: Genlook refused the check: %s", delivery.pk, exc)
        _update(delivery, outcome=Outcome.FAILED, reason="genlook_error", error=_traceback())
        return Outcome.FAILED
    except Exception:
        logger.exception("Webhook delivery %s could not be processed", delivery.pk)
        _update(delivery, outcome=Outcome.FAILED, reason="processing_error", error=_traceback())
        return Outcome.FAILED
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
    _update(delivery, **fields)
    return outcome


def _traceback() -> str:
    return traceback.format_exc()[-20_000:]


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
