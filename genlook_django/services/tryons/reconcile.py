"""The reconciler: nothing stays pending forever, and no result depends on a webhook alone.

Run periodically (the task ``genlook.reconcile_try_ons`` on Celery beat, or the command
``genlook_reconcile`` from cron). It looks after shoppers' try-ons (``TryOn``) and batch
items (``BatchItem``) alike, through the same ingestion (``results``): a batch item's result
or failure closes its job when it was the job's last open item. Each run:

- polls the ``pending`` records nobody has checked for ``RECONCILE_AFTER`` seconds (the
  poll tasks, the status view, the admin's batch pages and a confirmed webhook all update
  ``last_checked_at``): one ``GET /generations/{id}``, ingested by ``results.ingest`` like
  any other path. One still running ``RESULT_TIMEOUT`` after its submission is given up
  (``TIMED_OUT``). This is what finishes the batch items whose poll task was lost (a worker
  died between Genlook accepting them and their poll tasks being queued);
- fails every record still open ``RECONCILE_MAX_AGE`` seconds on, whatever its state:
  ``pending`` ones after one last check, waiting ones (``received`` / ``queued``) and
  ``submitting`` ones whose create never left (a lost task, a stuck queue) as
  ``TIMED_OUT``, ``submitting`` ones whose create left (a worker died mid-create, and the
  create may have reached Genlook) as ``SUBMISSION_INTERRUPTED``. None is submitted again
  here: a late submission would surprise the shopper, and an uncertain one could be paid
  twice. A try-on's age runs from when it was received. A batch item has no such date:
  its age runs from its own last step (accepted by Genlook, create sent), else from its
  job's last create sent, else from when the job was started (or created), so the items
  of a large job still moving through the request budget are not failed for waiting.

Shoppers' try-ons come first (someone is waiting for them); each run makes at most
``limit`` checks of each kind (forgotten, too old), try-ons and batch items together.
Checks are claimed with a conditional update, so overlapping runs, the poll tasks and the
status view never ask Genlook twice for the same record at once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Max, Q, QuerySet
from django.utils import timezone

from genlook_django.client import GenlookClient, GenlookError, NotFoundError
from genlook_django.conf import genlook_settings
from genlook_django.models import BatchItem, BatchJob, TryOn
from genlook_django.services.genlook import get_client
from genlook_django.services.tryons import results
from genlook_django.services.tryons.records import (
    COMPLETED,
    FAILED,
    PENDING,
    SUBMITTING,
    tracked,
)

logger = logging.getLogger("genlook_django.reconcile")

Record = TryOn | BatchItem
DEFAULT_LIMIT = 200  # records looked at per run of each kind (each pending one costs a request)


@dataclass
class Tally:
    """What one run did with one kind of record."""

    checked: int = 0  # pending records asked about
    completed: int = 0
    failed: int = 0  # failed by Genlook's answer (or lost there)
    still_pending: int = 0
    given_up: int = 0  # failed here: too old
    errors: int = 0  # checks that could not be made (Genlook or the network)

    @property
    def acted(self) -> bool:
        return bool(self.checked or self.given_up)

    def __str__(self) -> str:
        return (
            f"{self.checked} checked: {self.completed} completed, {self.failed} failed, "
            f"{self.still_pending} still pending; {self.given_up} given up; "
            f"{self.errors} errors"
        )


@dataclass
class ReconcileReport(Tally):
    """A run's tally: the try-ons' at the top (as it always was), the batch items' below."""

    batch_items: Tally = field(default_factory=Tally)

    @property
    def try_ons(self) -> Tally:
        return Tally(**{f.name: getattr(self, f.name) for f in fields(Tally)})

    @property
    def acted(self) -> bool:
        return self.try_ons.acted or self.batch_items.acted

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def __str__(self) -> str:
        return f"try-ons: {self.try_ons}; batch items: {self.batch_items}"


def _after() -> timedelta:
    return timedelta(seconds=float(genlook_settings.RECONCILE_AFTER))


def _max_age() -> timedelta:
    return timedelta(seconds=float(genlook_settings.RECONCILE_MAX_AGE))


# -- What each run looks at --------------------------------------------------------------------


def expired(now: datetime | None = None) -> QuerySet[TryOn]:
    """Open try-ons received more than ``RECONCILE_MAX_AGE`` ago, oldest first."""
    now = now or timezone.now()
    return TryOn.objects.filter(
        state__in=results.OPEN_STATES, created_at__lte=now - _max_age()
    ).order_by("created_at")


def _stalled_jobs(cutoff: datetime) -> QuerySet[BatchJob]:
    """Unfinished jobs none of whose creates left since ``cutoff``."""
    return (
        BatchJob.objects.filter(finished_at__isnull=True)
        .annotate(last_sent_at=Max("items__create_sent_at"))
        .filter(
            Q(last_sent_at__lte=cutoff) | Q(last_sent_at__isnull=True),
            Q(started_at__lte=cutoff) | Q(started_at__isnull=True, created_at__lte=cutoff),
        )
    )


def expired_batch_items(now: datetime | None = None) -> QuerySet[BatchItem]:
    """Open batch items still open ``RECONCILE_MAX_AGE`` after their own last step
    (accepted by Genlook, create sent) or, with none, after their job last moved."""
    cutoff = (now or timezone.now()) - _max_age()
    return (
        BatchItem.objects.filter(state__in=BatchItem.OPEN_STATES)
        .filter(
            Q(submitted_at__lte=cutoff)
            | Q(submitted_at__isnull=True, create_sent_at__lte=cutoff)
            | Q(
                submitted_at__isnull=True,
                create_sent_at__isnull=True,
                job__in=_stalled_jobs(cutoff).values("pk"),
            )
        )
        .order_by("pk")
    )


def _unchecked(rows: QuerySet, cutoff: datetime, received: str) -> QuerySet:
    """The pending ``rows`` with a generation nobody has checked since ``cutoff`` (never
    checked: since their submission, else since ``received``), least recently first."""
    return (
        rows.filter(state=PENDING)
        .exclude(generation_id="")
        .filter(
            Q(last_checked_at__lte=cutoff)
            | Q(last_checked_at__isnull=True, submitted_at__lte=cutoff)
            | Q(last_checked_at__isnull=True, submitted_at__isnull=True, **{received: cutoff})
        )
        .order_by("last_checked_at", "pk")
    )


def stale(now: datetime | None = None) -> QuerySet[TryOn]:
    """Pending try-ons nobody has checked for ``RECONCILE_AFTER``, least recently first."""
    cutoff = (now or timezone.now()) - _after()
    return _unchecked(TryOn.objects.all(), cutoff, "created_at__lte")


def stale_batch_items(now: datetime | None = None) -> QuerySet[BatchItem]:
    """Pending batch items nobody has checked for ``RECONCILE_AFTER`` (a lost poll task)."""
    cutoff = (now or timezone.now()) - _after()
    return _unchecked(BatchItem.objects.all(), cutoff, "job__created_at__lte")


# -- One record --------------------------------------------------------------------------------


def _claim(record: Record, now: datetime, *, force: bool) -> bool:
    """Take the next check of this record (False: someone checked it meanwhile)."""
    rows = type(record).objects.filter(pk=record.pk, state=PENDING)
    if not force:
        cutoff = now - _after()
        rows = rows.filter(Q(last_checked_at__isnull=True) | Q(last_checked_at__lte=cutoff))
    return bool(rows.update(last_checked_at=now))


def _check(record: Record, client: GenlookClient, tally: Tally) -> Record:
    tally.checked += 1
    try:
        record = results.check(record, client=client)
    except NotFoundError as exc:
        results.fail(record, "GENERATION_LOST", str(exc))
        tally.failed += 1
        return record
    except GenlookError as exc:  # transient or not: the next run asks again
        logger.info("Reconciler could not check %s: %s", tracked(record).label, exc)
        tally.errors += 1
        return type(record).objects.filter(pk=record.pk).first() or record
    if record.state == COMPLETED:
        tally.completed += 1
    elif record.state == FAILED:
        tally.failed += 1
    return record


def _give_up(record: Record, tally: Tally) -> None:
    age = float(genlook_settings.RECONCILE_MAX_AGE)
    since = "queued" if isinstance(record, BatchItem) else "received"
    if record.state == SUBMITTING and record.create_sent_at is not None:
        done = results.fail(
            record,
            "SUBMISSION_INTERRUPTED",
            f"Still being submitted {age:g}s after it was {since}: the submission was "
            "interrupted, maybe after it reached Genlook; it is not sent again, to avoid "
            "paying twice. Given up by the reconciler.",
        )
    elif record.state in (tracked(record).waiting, SUBMITTING):  # the create never left
        done = results.fail(
            record,
            "TIMED_OUT",
            f"Never submitted to Genlook within {age:g}s (a lost task or a stuck queue); "
            "given up by the reconciler.",
        )
    else:
        done = results.fail(
            record,
            "TIMED_OUT",
            f"No result {age:g}s after it was {since}; given up by the reconciler.",
        )
    tally.given_up += int(done)


# -- A run -------------------------------------------------------------------------------------


def _end_expired(
    rows: Iterable[Record], now: datetime, genlook: Callable[[], GenlookClient], tally: Tally
) -> None:
    """One last check of the pending ones (a result that did come is kept), then give up."""
    for record in rows:
        if record.state == PENDING and record.generation_id:
            if not _claim(record, now, force=True):
                continue
            record = _check(record, genlook(), tally)
        if not record.is_final:
            _give_up(record, tally)


def _check_stale(
    rows: Iterable[Record], now: datetime, genlook: Callable[[], GenlookClient], tally: Tally
) -> None:
    """One check each, unless someone else claimed it first; too long running: given up."""
    for record in rows:
        if not _claim(record, now, force=False):
            continue
        record = _check(record, genlook(), tally)
        if record.is_final:
            continue
        if results.timed_out(record):
            results.give_up(record)
            tally.given_up += 1
        else:
            tally.still_pending += 1


def _shared(limit: int, first: QuerySet, then: QuerySet) -> tuple[list, list]:
    """At most ``limit`` rows in all: ``first``'s, then ``then``'s with what is left."""
    first_rows = list(first[:limit])
    return first_rows, list(then[: limit - len(first_rows)])


def reconcile(
    *, client: GenlookClient | None = None, limit: int | None = None, now: datetime | None = None
) -> ReconcileReport:
    """One run (see the module's docstring): of each kind, at most ``limit`` records,
    shoppers' try-ons first and batch items with what is left."""
    limit = limit or DEFAULT_LIMIT
    now = now or timezone.now()
    report = ReconcileReport()
    client_ = client

    def genlook() -> GenlookClient:
        nonlocal client_
        client_ = client_ or get_client()
        return client_

    try_ons, items = _shared(limit, expired(now), expired_batch_items(now))
    _end_expired(try_ons, now, genlook, report)
    _end_expired(items, now, genlook, report.batch_items)
    try_ons, items = _shared(limit, stale(now), stale_batch_items(now))
    _check_stale(try_ons, now, genlook, report)
    _check_stale(items, now, genlook, report.batch_items)
    if report.acted:
        logger.info("Reconciled %s", report)
    return report
