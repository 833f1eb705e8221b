"""Results: the ONE place a finished generation is recorded on its try-on.

``ingest(try_on, generation)`` is called by every path a result can arrive through: the
``/try-on/sync`` answer in the worker, the poll task, the status view's poll-through, and
(later) the webhook receiver after it has confirmed the hint with ``GET /generations/{id}``.
It is idempotent: a try-on that is already final is returned as it is, a second caller
racing the first loses the conditional update and deletes its own copy of the file, and
the signal (``tryon_completed`` / ``tryon_failed``) is sent exactly once.
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta
from typing import Any

from django.db import connection
from django.db.models import F, Q
from django.utils import timezone

from genlook_django import jobs
from genlook_django.client import (
    DownloadTooLarge,
    Generation,
    GenlookClient,
    GenlookError,
    NotFoundError,
    RateBudgetTimeout,
    RateLimitedError,
    ServerError,
    TransportError,
)
from genlook_django.conf import genlook_settings
from genlook_django.models import TryOn
from genlook_django.services import files, watermark
from genlook_django.services.genlook import get_client
from genlook_django.services.tryons import status_wait
from genlook_django.signals import tryon_completed, tryon_failed

logger = logging.getLogger("genlook_django.results")

State = TryOn.State
OPEN_STATES = (State.RECEIVED, State.SUBMITTING, State.PENDING)
# Worth asking again later: Genlook or the network failed, or the budget was busy.
TRANSIENT_ERRORS: tuple[type[Exception], ...] = (
    ServerError,
    RateLimitedError,
    TransportError,
    RateBudgetTimeout,
)
MAX_RESULT_BYTES = 25 * 1024 * 1024
_EXTENSIONS = {b"\xff\xd8\xff": ".jpg", b"\x89PNG": ".png", b"RIFF": ".webp"}


def fail(try_on: TryOn, code: str, message: str, *, raw: dict[str, Any] | None = None) -> bool:
    """Mark an open try-on failed and send ``tryon_failed`` once. False if it was already
    final (someone else recorded its outcome first)."""
    now = timezone.now()
    fields: dict[str, Any] = {
        "state": State.FAILED,
        "error_code": code[:64],
        "error_message": message[:4000],
        "finished_at": now,
    }
    if raw is not None:
        fields["raw"] = raw
    updated = TryOn.objects.filter(pk=try_on.pk, state__in=OPEN_STATES).update(**fields)
    if not updated:
        return False
    status_wait.notify(try_on.pk)
    for name, value in fields.items():
        setattr(try_on, name, value)
    logger.info("Try-on %s failed: %s %s", try_on.public_id, code, message)
    tryon_failed.send(sender=TryOn, try_on=try_on, error_code=code)
    return True


def _extension(content: bytes) -> str:
    for magic, extension in _EXTENSIONS.items():
        if content.startswith(magic):
            return extension
    return ".jpg"


def ingest(try_on: TryOn, generation: Generation, *, client: GenlookClient | None = None) -> TryOn:
    """Record what Genlook says of a try-on's generation; idempotent.

    Finished and COMPLETED: the result image is downloaded, given the merchant's logo when
    the admin's watermark overlay is on, stored in ``RESULTS_STORAGE`` and the try-on
    completed. FAILED: the try-on failed with Genlook's ``errorCode``. Still running:
    only the raw answer is kept. A download that fails for a transient reason leaves the
    try-on pending (the next check tries again) and re-raises.
    """
    current = TryOn.objects.filter(pk=try_on.pk).first()
    if current is None or current.is_final:
        return current or try_on
    if current.generation_id and generation.id != current.generation_id:
        raise ValueError(
            f"Generation {generation.id} is not try-on {current.public_id}'s "
            f"({current.generation_id})."
        )
    if not generation.is_finished:
        TryOn.objects.filter(pk=current.pk).update(raw=generation.raw)
        current.raw = generation.raw
        return current
    if generation.is_failed:
        fail(
            current,
            generation.error_code or "GENERATION_FAILED",
            generation.error_message or "The generation failed.",
            raw=generation.raw,
        )
        return current
    if not generation.result_image_url:
        fail(current, "RESULT_MISSING", "Genlook reported no result image.", raw=generation.raw)
        return current

    client = client or get_client()
    try:
        content = client.download(generation.result_image_url, max_bytes=MAX_RESULT_BYTES)
    except DownloadTooLarge as exc:
        fail(current, "RESULT_TOO_LARGE", str(exc), raw=generation.raw)
        return current
    except NotFoundError as exc:
        fail(current, "RESULT_MISSING", str(exc), raw=generation.raw)
        return current
    content = watermark.apply_to_result(content)  # the merchant's logo, if set in the admin
    storage = files.results_storage()
    name = files.save(storage, f"genlook/results/{current.public_id}{_extension(content)}", content)
    now = timezone.now()
    fields = {
        "state": State.COMPLETED,
        "generation_id": generation.id,
        "result_file": name,
        "finished_at": now,
        "remote_finished_at": generation.updated_at,
        "raw": generation.raw,
        "error_code": "",
        "error_message": "",
    }
    updated = TryOn.objects.filter(pk=current.pk, state__in=OPEN_STATES).update(**fields)
    if not updated:  # another caller recorded it meanwhile: keep theirs
        if name != (
            TryOn.objects.filter(pk=current.pk).values_list("result_file", flat=True).first()
        ):
            files.delete_quietly(storage, name)
        return TryOn.objects.filter(pk=current.pk).first() or current
    status_wait.notify(current.pk)
    for field_name, value in fields.items():
        setattr(current, field_name, value)
    tryon_completed.send(sender=TryOn, try_on=current)
    return current


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


def ingest_generation(
    generation: Generation, *, client: GenlookClient | None = None
) -> TryOn | None:
    """``ingest`` for whatever try-on holds this generation id (the webhook's entry point,
    once the hint is confirmed with ``GET /generations/{id}``); None if there is none."""
    try_on = TryOn.objects.filter(generation_id=generation.id).first()
    if try_on is None:
        return None
    return ingest(try_on, generation, client=client)


def check(try_on: TryOn, *, client: GenlookClient) -> TryOn:
    """Ask Genlook once (``GET /generations/{id}``) and ingest the answer."""
    asked = timezone.now()  # intervals run from when a check starts, not when it ends
    generation = client.get_generation(try_on.generation_id)
    TryOn.objects.filter(pk=try_on.pk).update(last_checked_at=asked, checks=F("checks") + 1)
    return ingest(try_on, generation, client=client)


def timed_out(try_on: TryOn) -> bool:
    """Open for longer than ``RESULT_TIMEOUT``: since its submission when it has one, else
    since it was received (a try-on stuck in ``received`` or ``submitting`` too)."""
    started = try_on.submitted_at or try_on.created_at
    return timezone.now() - started > timedelta(seconds=float(genlook_settings.RESULT_TIMEOUT))


def give_up(try_on: TryOn) -> None:
    fail(
        try_on,
        "TIMED_OUT",
        f"No result after {float(genlook_settings.RESULT_TIMEOUT):g}s; given up.",
    )


def poll_once(try_on: TryOn, *, client: GenlookClient) -> TryOn:
    """One check, as the poll task makes it: a lost generation fails the try-on, a
    transient error is re-raised (the caller decides whether to try again)."""
    if try_on.is_final or try_on.state != State.PENDING or not try_on.generation_id:
        return try_on
    if timed_out(try_on):
        give_up(try_on)
        return try_on
    try:
        return check(try_on, client=client)
    except NotFoundError as exc:
        fail(try_on, "GENERATION_LOST", str(exc))
        return try_on


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
    except TRANSIENT_ERRORS as exc:
        logger.info("Status check of %s put off: %s", try_on.public_id, exc)
    except GenlookError as exc:
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
