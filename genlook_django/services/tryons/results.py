"""Results: the ONE place a finished generation is recorded, on a try-on or a batch item.

``ingest(record, generation)`` is called by every path a result can arrive through: the
``/try-on/sync`` answer in the worker, the poll tasks, the status view's poll-through, and
the webhook receiver after it has confirmed the hint with ``GET /generations/{id}``.
It is idempotent: a record that is already final is returned as it is, a second caller
racing the first loses the conditional update and deletes its own copy of the file, and
what follows an outcome (``tryon_completed`` / ``tryon_failed``, a batch job's completion)
happens exactly once. A ``TryOn`` and a ``BatchItem`` are told apart by their adapters
(``records``).
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta
from typing import Any

from django.db import connection
from django.db.models import Q
from django.utils import timezone

from genlook_django import jobs
from genlook_django.client import (
    DownloadTooLarge,
    Generation,
    GenlookClient,
    GenlookError,
    NotFoundError,
)
from genlook_django.conf import genlook_settings
from genlook_django.models import BatchItem, TryOn
from genlook_django.services import files, ledger
from genlook_django.services.genlook import get_client
from genlook_django.services.tryons import status_wait
from genlook_django.services.tryons.records import tracked

logger = logging.getLogger("genlook_django.results")

State = TryOn.State
Record = TryOn | BatchItem
OPEN_STATES = (State.RECEIVED, State.SUBMITTING, State.PENDING)
MAX_RESULT_BYTES = 25 * 1024 * 1024


def fail(record: Record, code: str, message: str, *, raw: dict[str, Any] | None = None) -> bool:
    """Mark an open try-on or batch item failed (``tryon_failed`` is sent once for a
    try-on). False if it was already final (someone else recorded its outcome first)."""
    return tracked(record).fail(code, message, raw=raw)


def ingest(record: Record, generation: Generation, *, client: GenlookClient | None = None) -> Any:
    """Record what Genlook says of a try-on's or a batch item's generation; idempotent.

    Finished and COMPLETED: the result image is downloaded (a try-on's is given the
    merchant's logo when the admin's watermark overlay is on), stored in
    ``RESULTS_STORAGE`` and the record completed. FAILED: it failed with Genlook's
    ``errorCode``. Still running: only the raw answer is kept. A download that fails for a
    transient reason leaves it pending (the next check tries again) and re-raises.
    """
    current = tracked(record).reload()
    if current is None or current.instance.is_final:
        return current.instance if current is not None else record
    instance = current.instance
    if instance.generation_id and generation.id != instance.generation_id:
        raise ValueError(
            f"Generation {generation.id} is not {current.label}'s ({instance.generation_id})."
        )
    if not generation.is_finished:
        current.keep_progress(generation)
        return instance
    if generation.is_failed:
        current.fail(
            generation.error_code or "GENERATION_FAILED",
            generation.error_message or "The generation failed.",
            raw=generation.raw,
        )
        return instance
    if not generation.result_image_url:
        _fail_charged(current, "RESULT_MISSING", "Genlook reported no result image.", generation)
        return instance

    client = client or get_client()
    try:
        content = client.download(generation.result_image_url, max_bytes=MAX_RESULT_BYTES)
    except DownloadTooLarge as exc:
        _fail_charged(current, current.too_large_code, str(exc), generation)
        return instance
    except NotFoundError as exc:
        _fail_charged(current, "RESULT_MISSING", str(exc), generation)
        return instance
    content = current.prepare_result(content)
    storage = files.results_storage()
    name = files.save(storage, current.result_name(content), content)
    fields = {
        "state": State.COMPLETED,
        "result_file": name,
        "finished_at": timezone.now(),
        "error_code": "",
        "error_message": "",
        **current.completed_fields(generation),
    }
    if not current.rows().filter(state__in=current.open_states).update(**fields):
        # Another caller recorded it meanwhile: keep theirs.
        if name != current.rows().values_list("result_file", flat=True).first():
            files.delete_quietly(storage, name)
        return current.rows().first() or instance
    for field_name, value in fields.items():
        setattr(instance, field_name, value)
    current.changed()
    ledger.charge(instance)  # before the signals: a withdrawn try-on is deleted by one
    current.completed()
    return instance


def _fail_charged(current: Any, code: str, message: str, generation: Generation) -> None:
    """Fail a record whose generation COMPLETED at Genlook but whose result cannot be had
    here: Genlook charged for it all the same, so the ledger records it (before the
    signals, as on success: a withdrawn try-on is deleted by one)."""
    if current.rows().filter(state__in=current.open_states).exists():
        ledger.charge(current.instance)
    current.fail(code, message, raw=generation.raw)


# A create whose answer was lost (a timeout, a 502/504, a worker killed mid-create): the
# generation it may have made is adoptable when Genlook names it (see ``adopt``).
ANSWER_LOST = frozenset({"SUBMISSION_UNCERTAIN", "SUBMISSION_INTERRUPTED"})
# How far Genlook's createdAt may be from when the create left (clocks, queues).
ADOPTION_WINDOW = timedelta(minutes=10)


def adoptable(try_on: TryOn) -> bool:
    """Failed only because its create's answer was lost, and holding no generation."""
    return (
        try_on.state == State.FAILED
        and try_on.error_code in ANSWER_LOST
        and not try_on.generation_id
        and try_on.create_sent_at is not None
    )


def adopt(try_on: TryOn, generation: Generation, *, client: GenlookClient | None = None) -> bool:
    """Give a try-on whose create's answer was lost the generation that create made, as
    Genlook confirmed it (``GET /generations/{id}``) after naming it in a webhook sent to
    this try-on's own URL: reopened as ``pending`` with that generation, then ingested as
    any answer is. The credit was spent; the shopper gets the result after all.

    Refused (False) unless the try-on is still ``adoptable``, the generation is no other
    try-on's, and Genlook created it within ``ADOPTION_WINDOW`` of when the create left.
    """
    if not adoptable(try_on) or not generation.id:
        return False
    created = generation.created_at
    if created is None or abs(created - try_on.create_sent_at) > ADOPTION_WINDOW:
        return False
    if TryOn.objects.filter(generation_id=generation.id).exclude(pk=try_on.pk).exists():
        return False
    now = timezone.now()
    reopened = TryOn.objects.filter(
        pk=try_on.pk, state=State.FAILED, error_code__in=ANSWER_LOST, generation_id=""
    ).update(
        state=State.PENDING,
        generation_id=generation.id,
        error_code="",
        error_message="",
        finished_at=None,
        submitted_at=now,
        last_checked_at=now,
    )
    if not reopened:
        return False
    status_wait.notify(try_on.pk)
    logger.info("Try-on %s adopted generation %s", try_on.public_id, generation.id)
    ingest(TryOn.objects.get(pk=try_on.pk), generation, client=client)
    return True


def check(record: Record, *, client: GenlookClient) -> Any:
    """Ask Genlook once (``GET /generations/{id}``) and ingest the answer."""
    asked = timezone.now()  # intervals run from when a check starts, not when it ends
    generation = client.get_generation(record.generation_id)
    tracked(record).record_check(asked)
    return ingest(record, generation, client=client)


def timed_out(record: Record) -> bool:
    """Open for longer than ``RESULT_TIMEOUT``: since its submission when it has one, else
    (a try-on stuck in ``received`` or ``submitting``) since it was received."""
    started = tracked(record).started_at
    timeout = timedelta(seconds=float(genlook_settings.RESULT_TIMEOUT))
    return started is not None and timezone.now() - started > timeout


def give_up(record: Record) -> None:
    fail(
        record,
        "TIMED_OUT",
        f"No result after {float(genlook_settings.RESULT_TIMEOUT):g}s; given up.",
    )


def poll_once(record: Record, *, client: GenlookClient) -> Any:
    """One check of a pending try-on or batch item, as the poll tasks make it: a lost
    generation fails it, a transient error is re-raised (the caller decides whether to
    try again)."""
    if record.is_final or record.state != State.PENDING or not record.generation_id:
        return record
    if timed_out(record):
        give_up(record)
        return record
    try:
        return check(record, client=client)
    except NotFoundError as exc:
        fail(record, "GENERATION_LOST", str(exc))
        return record


def poll_through_enabled() -> bool:
    """Whether the status view asks Genlook itself (``STATUS_POLL_THROUGH``; "auto": only
    when tasks run inline, i.e. when no worker would)."""
    setting = genlook_settings.STATUS_POLL_THROUGH
    if setting != "auto":
        return bool(setting)
    return jobs.runs_inline()


def poll_after(try_on: TryOn) -> float | None:
    """Seconds the shopper's browser should wait before asking again; None once final.

    With poll-through, nothing changes between two checks with Genlook, so the browser is
    told to come back just after the next check is due: one status request per check, and
    no check put off by a poll that came a little early. Otherwise (a worker stores the
    result), every ``WIDGET_POLL_MS``.
    """
    if try_on.is_final:
        return None
    widget = int(genlook_settings.WIDGET_POLL_MS) / 1000
    if try_on.state != State.PENDING or not try_on.last_checked_at or not poll_through_enabled():
        return widget
    interval = float(genlook_settings.STATUS_POLL_INTERVAL)
    due = (try_on.last_checked_at - timezone.now()).total_seconds() + interval
    return min(max(0.1, due + 0.05), max(widget, interval))


def refresh_status(try_on: TryOn) -> TryOn:
    """For the status view: any open try-on (``received``, ``submitting``, ``pending``) past
    ``RESULT_TIMEOUT`` is failed with ``TIMED_OUT``, so the shopper is never left waiting
    on one that nothing will finish; a pending one is then polled through when enabled."""
    if try_on.is_final:
        return try_on
    if timed_out(try_on):
        give_up(try_on)
        return TryOn.objects.filter(pk=try_on.pk).first() or try_on
    if try_on.state == State.PENDING and poll_through_enabled():
        return poll_through(try_on)
    return try_on


def poll_through_client() -> GenlookClient:
    """The client of a status request's checks: no retry, no wait for the request budget,
    ``STATUS_POLL_CONNECT_TIMEOUT`` / ``STATUS_POLL_READ_TIMEOUT`` per call and
    ``STATUS_POLL_DOWNLOAD_TIMEOUT`` for the whole result download (a slower one is left
    for the next check), on the same request budget as every other client."""
    return get_client(
        max_retries=0,
        rate_wait_timeout=0,
        connect_timeout=float(genlook_settings.STATUS_POLL_CONNECT_TIMEOUT),
        read_timeout=float(genlook_settings.STATUS_POLL_READ_TIMEOUT),
        download_timeout=float(genlook_settings.STATUS_POLL_DOWNLOAD_TIMEOUT),
    )


def poll_through(try_on: TryOn) -> TryOn:
    """For the status view: if the last check is older than ``STATUS_POLL_INTERVAL``, ask
    Genlook now, at most once at a time per try-on (the check is claimed with a
    conditional update), never waiting on the request budget and never retrying, so a
    status request stays short. Failures to ask are left for the next request."""
    if try_on.state != State.PENDING or not try_on.generation_id:
        return try_on
    if timed_out(try_on):
        give_up(try_on)
        return TryOn.objects.filter(pk=try_on.pk).first() or try_on
    now = timezone.now()
    stale = now - timedelta(seconds=float(genlook_settings.STATUS_POLL_INTERVAL))
    claimed = (
        TryOn.objects.filter(pk=try_on.pk, state=State.PENDING)
        .filter(Q(last_checked_at__isnull=True) | Q(last_checked_at__lte=stale))
        .update(last_checked_at=now)
    )
    if not claimed:
        return try_on
    client = poll_through_client()
    try:
        return poll_once(try_on, client=client)
    except GenlookError as exc:
        if exc.is_transient:
            logger.info("Status check of %s put off: %s", try_on.public_id, exc)
        else:
            logger.warning("Status check of %s failed: %s", try_on.public_id, exc)
    return TryOn.objects.filter(pk=try_on.pk).first() or try_on


def wait_for_status(try_on: TryOn, seconds: float) -> tuple[TryOn | None, float]:
    """``refresh_status``, then, while the try-on is open and its state unchanged, wait at
    most ``seconds`` for a change (``status_wait``): the status view's ``?wait=``. Returns
    the try-on as it is now (None if it was deleted or withdrawn meanwhile) and the
    seconds spent waiting.

    The change is seen within ``STATUS_WAIT_TICK`` through the cache, or within
    ``STATUS_WAIT_DB_INTERVAL`` from the database. With poll-through (no worker), the wait
    wakes up when the next check with Genlook is due and makes it, as a new status request
    would: a waiting shopper is checked every ``STATUS_POLL_INTERVAL``, no more.
    """
    started = time.monotonic()
    deadline = started + seconds
    initial = try_on.state
    seen = status_wait.current_version(try_on.pk)  # read before the state it is compared to
    fresh = TryOn.objects.select_related("photo", "content_type").filter(pk=try_on.pk).first()
    if fresh is None:
        return None, 0.0
    try_on = refresh_status(fresh)
    db_interval = status_wait.db_interval(seconds)
    waited = False
    while not try_on.is_final and try_on.state == initial:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        step = min(remaining, db_interval)
        if try_on.state == State.PENDING and poll_through_enabled():
            step = min(step, poll_after(try_on) or step)
        if not connection.in_atomic_block:
            # No database connection is held for the wait (a persistent one would be, by
            # every waiting shopper's thread): it is opened again for the next read.
            connection.close()
            waited = True
        status_wait.wait_for_change(try_on.pk, seen, step)
        seen = status_wait.current_version(try_on.pk)
        fresh = TryOn.objects.select_related("photo", "content_type").filter(pk=try_on.pk).first()
        if fresh is None or fresh.withdrawn_at is not None:
            return None, time.monotonic() - started
        try_on = refresh_status(fresh)
    if waited and not connection.in_atomic_block:
        # Nor kept afterwards by a thread that mostly waits: the answer needs no more reads.
        connection.close()
    return try_on, time.monotonic() - started
