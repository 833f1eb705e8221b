"""The reconciler: nothing stays pending forever, and no result depends on a webhook alone.

Run periodically (the task ``genlook.reconcile_try_ons`` on Celery beat, or the command
``genlook_reconcile`` from cron). Each run:

- polls the ``pending`` try-ons nobody has checked for ``RECONCILE_AFTER`` seconds (the
  poll task, the status view and a confirmed webhook all update ``last_checked_at``): one
  ``GET /generations/{id}``, ingested by ``results.ingest`` like any other path. A try-on
  still running ``RESULT_TIMEOUT`` after its submission is given up (``TIMED_OUT``);
- fails every try-on still open ``RECONCILE_MAX_AGE`` seconds after it was received,
  whatever its state: ``pending`` ones after one last check, ``received`` ones and
  ``submitting`` ones whose create never left (a lost task, a stuck queue) as
  ``TIMED_OUT``, ``submitting`` ones whose create left (a worker died mid-create, and the
  create may have reached Genlook) as ``SUBMISSION_INTERRUPTED``. None is submitted again
  here: a late submission would surprise the shopper, and an uncertain one could be paid
  twice.

Checks are claimed with a conditional update, so overlapping runs, the poll task and the
status view never ask Genlook twice for the same try-on at once.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from django.db.models import Q, QuerySet
from django.utils import timezone

from genlook_django.client import GenlookClient, GenlookError, NotFoundError
from genlook_django.conf import genlook_settings
from genlook_django.models import TryOn
from genlook_django.services.genlook import get_client
from genlook_django.services.tryons import results

logger = logging.getLogger("genlook_django.reconcile")

State = TryOn.State
DEFAULT_LIMIT = 200  # try-ons looked at per run (each pending one costs a request)


@dataclass
class ReconcileReport:
    checked: int = 0  # pending try-ons asked about
    completed: int = 0
    failed: int = 0  # failed by Genlook's answer (or lost there)
    still_pending: int = 0
    given_up: int = 0  # failed here: too old
    errors: int = 0  # checks that could not be made (Genlook or the network)

    def as_dict(self) -> dict[str, int]:
        return asdict(self)

    def __str__(self) -> str:
        return (
            f"{self.checked} checked: {self.completed} completed, {self.failed} failed, "
            f"{self.still_pending} still pending; {self.given_up} given up; "
            f"{self.errors} errors"
        )


def _after() -> timedelta:
    return timedelta(seconds=float(genlook_settings.RECONCILE_AFTER))


def _max_age() -> timedelta:
    return timedelta(seconds=float(genlook_settings.RECONCILE_MAX_AGE))


def expired(now: datetime | None = None) -> QuerySet[TryOn]:
    """Open try-ons received more than ``RECONCILE_MAX_AGE`` ago, oldest first."""
    now = now or timezone.now()
    return TryOn.objects.filter(
        state__in=results.OPEN_STATES, created_at__lte=now - _max_age()
    ).order_by("created_at")


def stale(now: datetime | None = None) -> QuerySet[TryOn]:
    """Pending try-ons nobody has checked for ``RECONCILE_AFTER``, least recently first."""
    cutoff = (now or timezone.now()) - _after()
    return (
        TryOn.objects.filter(state=State.PENDING)
        .exclude(generation_id="")
        .filter(
            Q(last_checked_at__lte=cutoff)
            | Q(last_checked_at__isnull=True, submitted_at__lte=cutoff)
            | Q(last_checked_at__isnull=True, submitted_at__isnull=True, created_at__lte=cutoff)
        )
        .order_by("last_checked_at", "created_at")
    )


def _claim(try_on: TryOn, now: datetime, *, force: bool) -> bool:
    """Take the next check of this try-on (False: someone checked it meanwhile)."""
    rows = TryOn.objects.filter(pk=try_on.pk, state=State.PENDING)
    if not force:
        cutoff = now - _after()
        rows = rows.filter(Q(last_checked_at__isnull=True) | Q(last_checked_at__lte=cutoff))
    return bool(rows.update(last_checked_at=now))


def _check(try_on: TryOn, client: GenlookClient, report: ReconcileReport) -> TryOn:
    report.checked += 1
    try:
        try_on = results.check(try_on, client=client)
    except NotFoundError as exc:
        results.fail(try_on, "GENERATION_LOST", str(exc))
        report.failed += 1
        return try_on
    except GenlookError as exc:  # transient or not: the next run asks again
        logger.info("Reconciler could not check try-on %s: %s", try_on.public_id, exc)
        report.errors += 1
        return TryOn.objects.filter(pk=try_on.pk).first() or try_on
    if try_on.state == State.COMPLETED:
        report.completed += 1
    elif try_on.state == State.FAILED:
        report.failed += 1
    return try_on


def _give_up(try_on: TryOn, report: ReconcileReport) -> None:
    age = float(genlook_settings.RECONCILE_MAX_AGE)
    if try_on.state == State.SUBMITTING and try_on.create_sent_at is not None:
        done = results.fail(
            try_on,
            "SUBMISSION_INTERRUPTED",
            f"Still being submitted {age:g}s after it was received: the submission was "
            "interrupted, maybe after it reached Genlook; it is not sent again, to avoid "
            "paying twice. Given up by the reconciler.",
        )
    elif try_on.state in (State.RECEIVED, State.SUBMITTING):  # the create never left
        done = results.fail(
            try_on,
            "TIMED_OUT",
            f"Never submitted to Genlook within {age:g}s (a lost task or a stuck queue); "
            "given up by the reconciler.",
        )
    else:
        done = results.fail(
            try_on,
            "TIMED_OUT",
            f"No result {age:g}s after it was received; given up by the reconciler.",
        )
    report.given_up += int(done)


def reconcile(
    *, client: GenlookClient | None = None, limit: int | None = None, now: datetime | None = None
) -> ReconcileReport:
    """One run (see the module's docstring); at most ``limit`` try-ons of each kind."""
    limit = limit or DEFAULT_LIMIT
    now = now or timezone.now()
    report = ReconcileReport()
    client_ = client

    def genlook() -> GenlookClient:
        nonlocal client_
        client_ = client_ or get_client()
        return client_

    for try_on in expired(now)[:limit]:
        if try_on.state == State.PENDING and try_on.generation_id:
            if not _claim(try_on, now, force=True):
                continue
            try_on = _check(try_on, genlook(), report)  # a result that did come is kept
        if not try_on.is_final:
            _give_up(try_on, report)
    for try_on in stale(now)[:limit]:
        if not _claim(try_on, now, force=False):
            continue
        try_on = _check(try_on, genlook(), report)
        if try_on.is_final:
            continue
        if results.timed_out(try_on):
            results.give_up(try_on)
            report.given_up += 1
        else:
            report.still_pending += 1
    if report.checked or report.given_up:
        logger.info("Reconciled try-ons: %s", report)
    return report
