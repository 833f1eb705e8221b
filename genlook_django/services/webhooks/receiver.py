"""Receiving a delivery: authenticate, parse, store, deduplicate, enqueue.

A delivery is only ever a *hint* (Genlook signs nothing; its older API page documents a
``webhook_url`` and a completion payload). ``receive`` authenticates it (the signature when
``WEBHOOK_SIGNING_SECRETS`` is set, then the token), parses it (the classic or the v1
shape) and stores it, whatever the verdict, in one INSERT (bounded body, headers without
anything secret-looking, remote address, verdict and reason): the checks only read, so
nothing is written before authentication, and a crash in them still stores the delivery.
An accepted one is deduplicated on ``try-on:generation:status`` (a unique constraint) and
its processing enqueued on commit. Nothing about a result is written here.
"""

from __future__ import annotations

import contextlib
import hashlib
import ipaddress
import json
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, router, transaction

from genlook_django.conf import genlook_settings
from genlook_django.models import TryOn, WebhookDelivery
from genlook_django.services.tryons import results
from genlook_django.services.webhooks import deliveries
from genlook_django.services.webhooks.deliveries import REPEAT, Outcome, Verdict
from genlook_django.services.webhooks.dispatch import enqueue
from genlook_django.services.webhooks.payloads import PayloadError, WebhookHint, parse_payload
from genlook_django.services.webhooks.setup import hash_token, signing_secrets
from genlook_django.services.webhooks.signatures import SignatureError, verify_signature
from genlook_django.signals import webhook_received

logger = logging.getLogger("genlook_django.webhooks")

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
    """(pk, generation id, state, error code) of the try-on holding this token, if any."""
    if not TOKEN_PATTERN.match(token or ""):
        return None
    return (
        TryOn.objects.filter(webhook_token_hash=hash_token(token))
        .values_list("pk", "generation_id", "state", "error_code")
        .first()
    )


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
        delivery = _store(**fields, reason="internal_error", error=deliveries.error_text())
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
    _announce(delivery)
    if duplicate:
        _retry_failed_original(key)
    elif not checked.final:
        pk = delivery.pk
        transaction.on_commit(lambda: enqueue(pk), robust=True)
    return receipt


def _store(**fields: Any) -> WebhookDelivery:
    return WebhookDelivery.objects.create(**fields)


def _announce(delivery: WebhookDelivery) -> None:
    """``webhook_received``, the signal for a stored delivery: a failing receiver is logged,
    never turned into an error for the sender."""
    if not webhook_received.has_listeners(WebhookDelivery):
        return
    for receiver, response in webhook_received.send_robust(
        sender=WebhookDelivery, delivery=delivery
    ):
        if isinstance(response, Exception):
            logger.error("webhook_received receiver %r failed", receiver, exc_info=response)


def _savepoint_if_needed() -> Any:
    """A savepoint inside a transaction (a failed statement would break it); in autocommit
    (the receiver's view) a failed statement breaks nothing, so none is needed."""
    using = router.db_for_write(WebhookDelivery)
    if transaction.get_connection(using).in_atomic_block:
        return transaction.atomic(using=using)
    return contextlib.nullcontext()


def _repeats_a_contradiction(dedupe_key: str, body_hash: str) -> bool:
    """Whether the delivery holding ``dedupe_key`` has this body and was contradicted by
    Genlook for good (``FINAL_CONTRADICTIONS``)."""
    return WebhookDelivery.objects.filter(
        dedupe_key=dedupe_key, body_hash=body_hash, reason__in=deliveries.FINAL_CONTRADICTIONS
    ).exists()


def _retry_failed_original(dedupe_key: str) -> None:
    """A sender retrying what we failed to process: process the first delivery again."""
    original = (
        WebhookDelivery.objects.filter(dedupe_key=dedupe_key, outcome=Outcome.FAILED)
        .values_list("pk", flat=True)
        .first()
    )
    if original is not None:
        deliveries.reprocess([original])
