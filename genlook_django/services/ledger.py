"""The credit ledger: one ``ChargedGeneration`` per generation Genlook charged for.

``charge(record)`` is called by the ingestion of results (``tryons.results.ingest``), the
one place a completed generation is recorded, once per generation (the row is keyed by
the generation id, so a second caller adds nothing). The row outlives its try-on:
``erased(ids)`` notes a shopper's erasure, and a try-on deleted otherwise (the retention
purge, a deletion in the shell) is seen from its absence. ``breakdown()`` counts them
per kind for the credits page, where "spent" (from the balance snapshots) is set beside
"charged" (from here).
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import Count, Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from genlook_django.conf import genlook_settings
from genlook_django.models import BatchItem, ChargedGeneration, CreditSnapshot, TryOn

logger = logging.getLogger("genlook_django.credits")

Kind = ChargedGeneration.Kind

# What the credits page lists, in this order: each charged generation in exactly one.
ROWS = ("shopper", "retried", "batch", "deleted", "erased")
LABELS = {
    "shopper": Kind.SHOPPER.label,
    "retried": Kind.RETRIED.label,
    "batch": Kind.BATCH.label,
    "deleted": _("Try-on deleted since (retention purge or by hand)"),
    "erased": _("Try-on erased at the shopper's request"),
}


def kind_of(record: TryOn | BatchItem) -> str:
    if isinstance(record, BatchItem):
        return Kind.BATCH
    return Kind.RETRIED if record.retry_of_id else Kind.SHOPPER


def charge(record: TryOn | BatchItem, *, at: datetime | None = None) -> bool:
    """Write the ledger row of a completed try-on or batch item; False if it was already
    written (or the record names no generation, which Genlook could not have charged)."""
    if not record.generation_id:
        logger.warning("A completed %s has no generation id: not in the ledger", record)
        return False
    is_batch = isinstance(record, BatchItem)
    try:
        with transaction.atomic():
            _row, created = ChargedGeneration.objects.get_or_create(
                generation_id=record.generation_id,
                defaults={
                    "kind": kind_of(record),
                    "try_on_id": None if is_batch else record.pk,
                    "batch_item_id": record.pk if is_batch else None,
                    "charged_at": at or record.finished_at or timezone.now(),
                },
            )
    except IntegrityError:  # a racing caller wrote it first
        return False
    return created


def erased(try_on_ids: Iterable[int], *, at: datetime | None = None) -> int:
    """The shopper had these try-ons erased: their charges stay, marked so."""
    ids = list(try_on_ids)
    if not ids:
        return 0
    return ChargedGeneration.objects.filter(try_on_id__in=ids, erased_at__isnull=True).update(
        erased_at=at or timezone.now()
    )


@dataclass(frozen=True)
class Breakdown:
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def rows(self) -> list[tuple[str, str, int]]:
        """(key, label, count) in the page's order, every row even when 0."""
        return [(key, str(LABELS[key]), self.counts.get(key, 0)) for key in ROWS]


def breakdown(*, since: datetime | None = None, until: datetime | None = None) -> Breakdown:
    """The generations charged in ``(since, until]``, per row of ``ROWS``: a batch one is
    "batch"; a try-on's is "erased" if the shopper erased it, "deleted" if it is gone
    otherwise, else "retried" or "shopper"."""
    rows = ChargedGeneration.objects.all()
    if since is not None:
        rows = rows.filter(charged_at__gt=since)
    if until is not None:
        rows = rows.filter(charged_at__lte=until)
    kept = rows.filter(erased_at__isnull=True).exclude(kind=Kind.BATCH)
    counts: dict[str, int] = {key: 0 for key in ROWS}
    counts["batch"] = rows.filter(kind=Kind.BATCH).count()
    counts["erased"] = rows.exclude(kind=Kind.BATCH).filter(erased_at__isnull=False).count()
    for kind, total in kept.values_list("kind").annotate(n=Count("pk")).order_by():
        counts[kind] = total
    # One anti-join for the try-ons gone since, by kind (not a subquery per row).
    gone = kept.filter(~Exists(TryOn.objects.filter(pk=OuterRef("try_on_id"))))
    for kind, total in gone.values_list("kind").annotate(n=Count("pk")).order_by():
        counts[kind] -= total
        counts["deleted"] += total
    return Breakdown(counts)


@dataclass(frozen=True)
class Spending:
    """What the balance snapshots say was spent between two of them, beside what the
    ledger says was charged in the same interval. Without a balance to compare (the
    classic API has none; fewer than two snapshots), ``spent`` is None, ``charged``
    covers the whole interval asked for, and ``no_balance`` says why."""

    since: datetime | None  # the first snapshot of the interval (or the interval's start)
    until: datetime | None  # the last (or now)
    spent: int | None  # the balance's drops, added up
    topped_up: int  # its rises (top-ups, refunds)
    charged: Breakdown
    no_balance: str = ""  # "", NO_BALANCE_CLASSIC or NO_BALANCE_SNAPSHOTS

    @property
    def difference(self) -> int:
        """Spent minus charged: 0 when every credit spent is accounted for here (or when
        nothing was spent to compare)."""
        return 0 if self.spent is None else self.spent - self.charged.total


NO_BALANCE_CLASSIC = "classic"  # the classic API has no credits endpoint
NO_BALANCE_SNAPSHOTS = "snapshots"  # fewer than two snapshots in the interval


def spending(*, since: datetime, now: datetime | None = None) -> Spending:
    """From the last snapshot before ``since`` (else the first after) to the latest; the
    charges since ``since`` alone when there is no balance to set beside them."""
    now = now or timezone.now()
    if genlook_settings.classic:
        return _charged_only(since, now, NO_BALANCE_CLASSIC)
    before = CreditSnapshot.objects.filter(taken_at__lt=since).order_by("-taken_at", "-pk")
    points = list(before.values_list("taken_at", "balance")[:1])
    points += list(
        CreditSnapshot.objects.filter(taken_at__gte=since, taken_at__lte=now)
        .order_by("taken_at", "pk")
        .values_list("taken_at", "balance")
    )
    if len(points) < 2:
        return _charged_only(since, now, NO_BALANCE_SNAPSHOTS)
    spent = topped_up = 0
    for (_t1, previous), (_t2, current) in itertools.pairwise(points):
        spent += max(0, previous - current)
        topped_up += max(0, current - previous)
    start, end = points[0][0], points[-1][0]
    return Spending(start, end, spent, topped_up, breakdown(since=start, until=end))


def _charged_only(since: datetime, now: datetime, reason: str) -> Spending:
    return Spending(since, now, None, 0, breakdown(since=since, until=now), no_balance=reason)
