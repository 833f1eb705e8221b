"""Retention and erasure of shoppers' data kept here.

``purge_expired()`` (``manage.py genlook_purge``, the task ``genlook.purge_expired``):

- photos (``ShopperPhoto`` rows and files) and result images older than ``RETENTION_DAYS``
  are deleted; the try-on rows stay for the statistics, anonymised (no shopper key, no
  result file, no raw answer from Genlook), and so do add-to-cart events (no shopper key);
  webhook deliveries (their sender's address, headers and body) are deleted, and so are
  share links to such a try-on;
- try-on rows, add-to-cart events and credit snapshots older than ``STATS_RETENTION_DAYS``
  are deleted;
- whatever the retention settings: share links past their expiry, and watermark logos
  chosen on a form that was never saved (``logo_stash``) once they can no longer be used.

Genlook's own copies follow ``KEEP_FOR_DAYS`` (1, 3 or 7 days), so the purge sends nothing.

``erase_shopper(key)`` (the admin's "erase this shopper", ``manage.py genlook_erase``, and a
deleted Django user): every try-on, photo, file, add-to-cart event and quota record of the
key goes at once, but a try-on in flight (and its photo) is withdrawn and goes when it ends;
``DELETE /customers/{key}`` is enqueued on commit, or once the last of those ends (a Celery
task, retried while Genlook cannot be reached).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from genlook_django import jobs
from genlook_django.conf import genlook_settings
from genlook_django.models import (
    CreditSnapshot,
    ErasureDebt,
    FunnelEvent,
    ShareLink,
    ShopperPhoto,
    TryOn,
    UsageRecord,
    WebhookDelivery,
)
from genlook_django.services import files, ledger, logo_stash
from genlook_django.services.tryons import erasure, looks, shoppers
from genlook_django.services.tryons.results import OPEN_STATES

logger = logging.getLogger("genlook_django.retention")

BATCH = 1000  # rows read, and changed or deleted, per query: bounded, whatever the backlog


# What each figure of a ``PurgeReport`` counts, as the command and the admin page say it.
REPORT_LINES = [
    ("photos", "shopper photos deleted"),
    ("results", "result images deleted"),
    ("try_ons_anonymised", "try-ons anonymised"),
    ("funnel_events_anonymised", "add-to-cart events anonymised"),
    ("webhook_deliveries_deleted", "webhook deliveries deleted"),
    ("share_links_deleted", "share links deleted (expired, or to a try-on past retention)"),
    ("stashed_logos_deleted", "watermark logos deleted (chosen, never saved)"),
    ("try_ons_deleted", "try-ons deleted (statistics retention)"),
    ("funnel_events_deleted", "add-to-cart events deleted"),
    ("snapshots_deleted", "credit snapshots deleted"),
]


@dataclass
class PurgeReport:
    photos: int = 0  # photos deleted (row and file)
    results: int = 0  # result images deleted
    try_ons_anonymised: int = 0
    funnel_events_anonymised: int = 0
    webhook_deliveries_deleted: int = 0
    share_links_deleted: int = 0  # expired, or of a try-on past RETENTION_DAYS
    stashed_logos_deleted: int = 0  # logo_stash files past their use
    try_ons_deleted: int = 0  # past STATS_RETENTION_DAYS
    funnel_events_deleted: int = 0
    snapshots_deleted: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def _batches(queryset: QuerySet) -> Iterator[list[int]]:
    """The primary keys of ``queryset``, ``BATCH`` at a time in key order, read one batch
    at a time (never every key at once): each is acted on before the next is read, so
    rows the action takes out of ``queryset`` are not read again."""
    last = None
    while True:
        page = queryset.order_by("pk")
        if last is not None:
            page = page.filter(pk__gt=last)
        pks = list(page.values_list("pk", flat=True)[:BATCH])
        if not pks:
            return
        yield pks
        last = pks[-1]


def _delete_in_batches(queryset: QuerySet) -> int:
    """Delete ``queryset`` ``BATCH`` rows at a time; returns the rows deleted (cascades
    included, as ``QuerySet.delete`` counts them)."""
    deleted = 0
    for batch in _batches(queryset):
        count, _by_model = queryset.model.objects.filter(pk__in=batch).delete()
        deleted += count
    return deleted


def _days(name: str) -> float | None:
    value = getattr(genlook_settings, name)
    return None if value is None else float(value)


def purge_expired(*, now: datetime | None = None, dry_run: bool = False) -> PurgeReport:
    """Apply ``RETENTION_DAYS`` and ``STATS_RETENTION_DAYS``; with ``dry_run``, only count."""
    now = now or timezone.now()
    report = PurgeReport()
    # Rows past STATS_RETENTION_DAYS are deleted first, and not anonymised before.
    stats_days = _days("STATS_RETENTION_DAYS")
    floor = None if stats_days is None else now - timedelta(days=stats_days)
    if floor is not None:
        _purge_statistics(floor, report, dry_run)
    cutoff = looks.retention_cutoff(now)
    if cutoff is not None:
        _purge_personal_data(cutoff, floor, report, dry_run)
    _purge_share_links(now, cutoff, report, dry_run)
    report.stashed_logos_deleted = logo_stash.purge_unused(now, dry_run=dry_run)
    if not dry_run:
        logger.info("Genlook purge: %s", report.as_dict())
    return report


def _purge_personal_data(
    cutoff: datetime, floor: datetime | None, report: PurgeReport, dry_run: bool
) -> None:
    photos = ShopperPhoto.objects.filter(created_at__lt=cutoff)
    old_try_ons = TryOn.objects.filter(created_at__lt=cutoff)
    if floor is not None:  # older ones go with the statistics (a dry run leaves them)
        old_try_ons = old_try_ons.filter(created_at__gte=floor)
    with_result = old_try_ons.exclude(result_file="")
    personal = old_try_ons.filter(~Q(shopper_key="") | ~Q(result_file="") | ~Q(raw={}))
    events = FunnelEvent.objects.filter(created_at__lt=cutoff).exclude(shopper_key="")
    if floor is not None:
        events = events.filter(created_at__gte=floor)
    deliveries = WebhookDelivery.objects.filter(received_at__lt=cutoff)
    if dry_run:
        report.webhook_deliveries_deleted = deliveries.count()
        report.photos = photos.count()
        report.results = with_result.count()
        report.try_ons_anonymised = personal.count()
        report.funnel_events_anonymised = events.count()
        return

    storage = files.photos_storage()
    for batch in _batches(photos):
        for name in ShopperPhoto.objects.filter(pk__in=batch).values_list("file_name", flat=True):
            files.delete_quietly(storage, name)
        deleted, _by_model = ShopperPhoto.objects.filter(pk__in=batch).delete()
        report.photos += deleted
    storage = files.results_storage()
    for batch in _batches(with_result):
        for name in TryOn.objects.filter(pk__in=batch).values_list("result_file", flat=True):
            files.delete_quietly(storage, name)
        report.results += len(batch)
    for batch in _batches(personal):
        report.try_ons_anonymised += TryOn.objects.filter(pk__in=batch).update(
            shopper_key="", result_file="", raw={}, webhook_token_hash=""
        )
    for batch in _batches(events):
        report.funnel_events_anonymised += FunnelEvent.objects.filter(pk__in=batch).update(
            shopper_key=""
        )
    report.webhook_deliveries_deleted += _delete_in_batches(deliveries)


def _purge_share_links(
    now: datetime, cutoff: datetime | None, report: PurgeReport, dry_run: bool
) -> None:
    # A link past its expiry opens nothing; one to a try-on past retention must not.
    gone = Q(expires_at__lte=now)
    if cutoff is not None:
        gone |= Q(try_on__created_at__lt=cutoff)
    links = ShareLink.objects.filter(gone)
    report.share_links_deleted = links.count() if dry_run else _delete_in_batches(links)


def _purge_statistics(cutoff: datetime, report: PurgeReport, dry_run: bool) -> None:
    try_ons = TryOn.objects.filter(created_at__lt=cutoff)
    events = FunnelEvent.objects.filter(created_at__lt=cutoff)
    snapshots = CreditSnapshot.objects.filter(taken_at__lt=cutoff)
    if dry_run:
        report.try_ons_deleted = try_ons.count()
        report.funnel_events_deleted = events.count()
        report.snapshots_deleted = snapshots.count()
        return
    storage = files.results_storage()
    for batch in _batches(try_ons):
        # Only when RETENTION_DAYS is off (None) can such an old row still have a file.
        for name in (
            TryOn.objects.filter(pk__in=batch)
            .exclude(result_file="")
            .values_list("result_file", flat=True)
        ):
            files.delete_quietly(storage, name)
        report.try_ons_deleted += _delete_try_ons(batch)
    report.funnel_events_deleted += _delete_in_batches(events)
    report.snapshots_deleted += _delete_in_batches(snapshots)


def _delete_try_ons(pks: list[int]) -> int:
    _total, by_model = TryOn.objects.filter(pk__in=pks).delete()
    return by_model.get(TryOn._meta.label, 0)


# -- Erasure ---------------------------------------------------------------------------------


@dataclass
class ErasureReport:
    shopper_key: str
    try_ons: int = 0
    photos: int = 0
    funnel_events: int = 0
    usage_records: int = 0

    @property
    def total(self) -> int:
        return self.try_ons + self.photos + self.funnel_events + self.usage_records


def local_data(shopper_key: str) -> ErasureReport:
    """What ``erase_shopper`` would delete here, counted."""
    return ErasureReport(
        shopper_key=shopper_key,
        try_ons=TryOn.objects.filter(shopper_key=shopper_key).count(),
        photos=ShopperPhoto.objects.filter(shopper_key=shopper_key).count(),
        funnel_events=FunnelEvent.objects.filter(shopper_key=shopper_key).count(),
        usage_records=UsageRecord.objects.filter(shopper_key=shopper_key).count(),
    )


def erase_shopper(shopper_key: str, *, remote: bool = True) -> ErasureReport:
    """Erase everything kept here for ``shopper_key`` (files first, then rows), and on
    commit enqueue ``DELETE /customers/{shopper_key}`` at Genlook (unless ``remote`` is
    False). Files that cannot be deleted are logged, never block the rest.

    A try-on in flight is withdrawn as the shopper's own "delete" does it
    (``erasure.withdraw``): hidden at once, and deleted when it ends, once the ledger has
    its charge; its photo goes then too, and Genlook's erasure waits for it (a customer
    erased mid-generation would leave that generation's result behind)."""
    if not shopper_key:
        raise ValueError("An empty shopper key names nobody.")
    report = ErasureReport(shopper_key=shopper_key)
    with transaction.atomic():
        try_ons = TryOn.objects.filter(shopper_key=shopper_key)
        in_flight = list(try_ons.filter(state__in=OPEN_STATES))
        # Each is withdrawn, or deleted if not sent yet, or has just ended (then below).
        withdrawn = sum(erasure.withdraw(try_on) for try_on in in_flight)
        ended = try_ons.exclude(state__in=OPEN_STATES)
        results = files.results_storage()
        for name in ended.exclude(result_file="").values_list("result_file", flat=True):
            files.delete_quietly(results, name)
        report.funnel_events, _ = FunnelEvent.objects.filter(shopper_key=shopper_key).delete()
        erased_ids = list(ended.values_list("pk", flat=True))
        ledger.erased(erased_ids)  # the credits they cost stay on the books
        ended_meanwhile = {try_on.pk for try_on in in_flight} & set(erased_ids)
        report.try_ons = _delete_try_ons(erased_ids) + len(in_flight) - len(ended_meanwhile)
        for photo in ShopperPhoto.objects.filter(shopper_key=shopper_key):
            erasure.erase_photo_when_unused(photo)  # or when its withdrawn try-on ends
            report.photos += 1
        report.usage_records, _ = UsageRecord.objects.filter(shopper_key=shopper_key).delete()
        ErasureDebt.objects.filter(shopper_key=shopper_key).delete()  # this erasure supersedes it
        if remote:
            erasure.erase_remote_when_idle(shopper_key)
    logger.info(
        "Erased shopper %s…: %s try-on(s) (%s withdrawn until they end), %s photo(s)",
        shopper_key[:8],
        report.try_ons,
        withdrawn,
        report.photos,
    )
    return report


# -- A deleted Django user -----------------------------------------------------------------------


def user_deleted(sender: Any, instance: Any, **kwargs: Any) -> None:
    """``post_delete`` of the user model: once the deletion commits, a task erases the
    user's try-ons, photos and events here and at Genlook. Nothing is enqueued for a user
    who never used try-on. Makes no network call itself, and never blocks the deletion."""
    shopper_key = shoppers.user_key(instance.pk)
    if not local_data(shopper_key).total:
        return

    jobs.enqueue_on_commit("genlook.erase_shopper", shopper_key)


def connect_user_erasure() -> None:
    """Called when the app is ready: erase a user's data when the user is deleted."""
    from django.conf import settings
    from django.db.models.signals import post_delete

    post_delete.connect(
        user_deleted,
        sender=settings.AUTH_USER_MODEL,
        dispatch_uid="genlook_django.retention.user_deleted",
    )
