"""Batch jobs through the classic API's own batch endpoint, ``POST /v1/try-on/batch``.

With ``GENLOOK["API"] = "classic"`` a job's queued items go ``CLASSIC_BATCH_SIZE`` at a time
(at most 100, the endpoint's limit) in one request each, instead of one create per item:
a batch is one request of Genlook's 100-per-minute limit, and it goes through the same
shared request budget as every other call (``RATE_LIMIT``), so no worker count makes the
shop exceed it. Each item is claimed (``queued`` → ``submitting``) and marked sent before
the request leaves, as a single create is (``tryons.submission``); the answer makes each
one ``pending`` with its generation or ``failed`` with the reason Genlook gave for it. The
results then come as for any item: polled (the ``poll_batch_item`` task, the admin's
progress page, ``genlook_batch --wait``) and ingested by ``tryons.results``.

A batch Genlook may have accepted but whose answer was lost is never sent again (its
items fail ``SUBMISSION_UNCERTAIN``); one refused before any processing (429, 500, 503,
no connection) puts its items back in the queue and raises, for the task to retry, except
on the last attempt, which fails them with the error's code so that the job ends. The
items each request made pending are handed to ``on_pending`` at once, so that a later
request's failure does not keep them from being polled.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.utils import timezone

from genlook_django.client import (
    AuthenticationError,
    BatchEntry,
    GenlookClient,
    GenlookError,
    InsufficientCreditsError,
    PermissionDeniedError,
    ValidationError,
    batch_entries,
)
from genlook_django.conf import genlook_settings
from genlook_django.models import BatchItem
from genlook_django.services.genlook import get_client
from genlook_django.services.tryons import products, uploads
from genlook_django.services.tryons.records import (
    PENDING,
    SUBMITTING,
    BatchTryOn,
    finish_job_if_done,
)

logger = logging.getLogger("genlook_django.batches")

State = BatchItem.State
LIMIT = 100  # requests per POST /v1/try-on/batch


def batch_size() -> int:
    return max(1, min(LIMIT, int(genlook_settings.CLASSIC_BATCH_SIZE)))


def submit(
    job_id: int,
    *,
    client: GenlookClient | None = None,
    last_attempt: bool = False,
    on_pending: Callable[[list[int]], Any] | None = None,
) -> int:
    """Send every queued item of the job, ``batch_size()`` per request; how many are now
    pending at Genlook. ``on_pending`` gets the ids each request made pending, as soon as
    it is answered. Transient refusals that created nothing are raised, unless this is
    the ``last_attempt``: its items then fail with the error's code."""
    client = client or get_client()
    pending = 0
    try:
        while True:
            ids = list(
                BatchItem.objects.filter(job_id=job_id, state=State.QUEUED)
                .order_by("pk")
                .values_list("pk", flat=True)[: batch_size()]
            )
            if not ids:
                return pending
            sent = _send(ids, client, last_attempt)
            pending += len(sent)
            if sent and on_pending is not None:
                on_pending(sent)
    finally:
        finish_job_if_done(job_id)


def _claim(ids: list[int]) -> list[BatchTryOn]:
    """The items this call won (``queued`` → ``submitting``), each with its record."""
    records = []
    for pk in ids:
        if BatchItem.objects.filter(pk=pk, state=State.QUEUED).update(state=SUBMITTING):
            record = BatchTryOn.fetch(pk)
            if record is not None:
                records.append(record)
    return records


def _pair(record: BatchTryOn, client: GenlookClient) -> tuple[Any, str] | None:
    """The (garment, photo link) of an item, or None once it is failed for lacking one."""
    item = record.instance
    product = item.product
    if product is None or record.photo is None:
        code = "PRODUCT_UNAVAILABLE" if product is None else "PHOTO_DELETED"
        record.fail(code, "The product or the photo was deleted before submission.")
        return None
    try:
        return products.garment(product), uploads.ensure_uploaded(record.photo, client)
    except GenlookError as exc:  # no category, no image, no PUBLIC_BASE_URL
        record.fail(exc.code or "SUBMISSION_ERROR", str(exc))
    except Exception as exc:  # the adapter: recorded, not left hanging
        logger.exception("%s could not be prepared", record.label)
        record.fail("SUBMISSION_ERROR", f"{type(exc).__name__}: {exc}")
    return None


def _send(ids: list[int], client: GenlookClient, last_attempt: bool) -> list[int]:
    """The ids of the items Genlook accepted (now ``pending``)."""
    ready: list[tuple[BatchTryOn, tuple[Any, str]]] = []
    for record in _claim(ids):
        pair = _pair(record, client)
        if pair is not None:
            ready.append((record, pair))
    if not ready:
        return []
    now = timezone.now()
    pks = [record.instance.pk for record, _ in ready]
    # Committed before the request leaves: a crash afterwards is known to be uncertain.
    BatchItem.objects.filter(pk__in=pks, state=SUBMITTING).update(create_sent_at=now)
    try:
        entries = client.create_batch([pair for _, pair in ready])
    except GenlookError as exc:
        _refused(ready, exc, last_attempt)
        return []
    logger.info("Sent %d batch item(s) in one POST /v1/try-on/batch", len(ready))
    by_index = {entry.index: entry for entry in entries}
    return [
        record.instance.pk
        for index, (record, _) in enumerate(ready)
        if _record(record, by_index.get(index), now)
    ]


def _record(record: BatchTryOn, entry: BatchEntry | None, sent_at: Any) -> bool:
    """Whether the item is now pending at Genlook."""
    if entry is None:
        record.fail("SUBMISSION_UNCERTAIN", "Genlook's batch answer did not mention this item.")
        return False
    if entry.generation is None:
        error = entry.error
        photo = any(str(d.get("path")) == "model_image" for d in (error.details if error else []))
        record.fail(
            "PHOTO_REJECTED" if photo else (error.code if error else None) or "REJECTED",
            str(error) if error else "Genlook rejected this item.",
        )
        return False
    moved = (
        record.rows()
        .filter(state=SUBMITTING)
        .update(
            state=PENDING,
            generation_id=entry.generation.id,
            submitted_at=sent_at,
            last_checked_at=sent_at,
        )
    )
    return bool(moved)


def _rejected_entries(exc: GenlookError) -> dict[int, BatchEntry]:
    """A 400 ``INVALID_REQUEST`` for a batch none of whose entries is valid lists each
    entry's own error (``details.generations``)."""
    if not isinstance(exc, ValidationError) or not exc.details:
        return {}
    return {e.index: e for e in batch_entries(exc.details[0].get("generations"))}


def _refused(ready: list[tuple[BatchTryOn, Any]], exc: GenlookError, last_attempt: bool) -> None:
    """The whole batch was refused or its answer lost: every item says why."""
    nothing_made = exc.is_transient and not exc.may_have_been_processed
    if nothing_made and not isinstance(exc, InsufficientCreditsError) and not last_attempt:
        pks = [record.instance.pk for record, _ in ready]
        BatchItem.objects.filter(pk__in=pks, state=SUBMITTING).update(
            state=State.QUEUED, create_sent_at=None
        )
        raise exc
    rejected = _rejected_entries(exc)
    if rejected:  # no entry was valid: each item says why its own was not
        for index, (record, _) in enumerate(ready):
            _record(record, rejected.get(index), None)
        return
    if isinstance(exc, InsufficientCreditsError):
        code = "INSUFFICIENT_CREDITS"
    elif exc.may_have_been_processed:
        code = "SUBMISSION_UNCERTAIN"
    elif isinstance(exc, AuthenticationError | PermissionDeniedError):
        logger.error("Genlook refused the API key: %s", exc)
        code = "CONFIGURATION_ERROR"
    else:  # e.g. a transient refusal on the last attempt: nothing is left to retry it
        code = exc.code or type(exc).__name__
        logger.warning("Batch of %d item(s) failed %s: %s", len(ready), code, exc)
    for record, _ in ready:
        record.fail(code, str(exc))
