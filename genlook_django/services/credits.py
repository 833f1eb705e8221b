"""Credits and usage, for the admin's dashboard.

- ``get_balance()``: ``GET /account/credits``, cached ``CREDITS_CACHE_SECONDS`` in the Django
  cache; every fetch stores a ``CreditSnapshot`` (at most one per
  ``CREDITS_SNAPSHOT_INTERVAL``) and checks the balance against ``LOW_BALANCE_THRESHOLD``.
- ``check_low_balance()``: the ``credits_low`` signal (and, with ``LOW_BALANCE_MAIL_ADMINS``,
  a mail to ``ADMINS``) once per crossing below the threshold, whatever the number of
  processes: the crossing is claimed by a conditional update of the ``CreditAlert`` row.
- ``projection()``: how many days the balance lasts at the rate of the last 7 days.
- ``daily_stats()``, ``balance_history()``, ``funnel()``, ``timings()``, ``top_errors()``:
  what the charts show, from the local rows only (no API call).
"""

from __future__ import annotations

import hashlib
import logging
import statistics
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.core.mail import mail_admins
from django.db.models import Count
from django.db.models.functions import TruncDate
from django.utils import timezone

from genlook_django.client import GenlookClient, GenlookError
from genlook_django.conf import genlook_settings
from genlook_django.models import CreditAlert, CreditSnapshot, FunnelEvent, TryOn
from genlook_django.services.genlook import get_client
from genlook_django.services.tryons import start
from genlook_django.signals import credits_low

logger = logging.getLogger("genlook_django.credits")

State = TryOn.State
RATE_DAYS = 7  # the projection's window
CHART_DAYS = 30  # the charts' window


@dataclass(frozen=True)
class Balance:
    """The credit balance as the dashboard shows it.

    ``credits`` is None when it has never been known; ``error`` says why the last fetch
    failed, and then ``credits`` and ``fetched_at`` come from the last snapshot."""

    credits: int | None
    fetched_at: datetime | None
    error: str = ""
    cached: bool = False

    @property
    def stale(self) -> bool:
        return bool(self.error)


def _cache_key() -> str:
    # Per endpoint and key: switching accounts (or a test's sandbox) never shows another's.
    account = f"{genlook_settings.BASE_URL}|{genlook_settings.API_KEY}"
    return "genlook:credits:" + hashlib.sha256(account.encode()).hexdigest()[:24]


def get_balance(*, refresh: bool = False, client: GenlookClient | None = None) -> Balance:
    """The balance: from the cache unless ``refresh``, else from Genlook (which stores a
    snapshot and checks the threshold). Never raises for Genlook's sake: a failed fetch
    returns the last snapshot with ``error`` set. The classic API has no credits endpoint:
    there nothing is asked and ``error`` says so."""
    if genlook_settings.classic:
        return Balance(None, None, error="The classic Genlook API has no credits endpoint.")
    key = _cache_key()
    if not refresh:
        cached = cache.get(key)
        if isinstance(cached, dict):
            # A fetch by another process since (its cache is not this one's) stored a
            # newer snapshot: the snapshot is what every page shows.
            latest = latest_snapshot()
            if latest is not None and latest.taken_at > cached["fetched_at"]:
                return Balance(latest.balance, latest.taken_at, cached=True)
            return Balance(cached["credits"], cached["fetched_at"], cached=True)
    try:
        credits = (client or get_client(max_retries=1, rate_wait_timeout=5.0)).get_credits()
    except (GenlookError, ImproperlyConfigured) as exc:  # down, refused, or no API_KEY
        logger.warning("Could not read the Genlook credit balance: %s", exc)
        last = latest_snapshot()
        return Balance(
            last.balance if last else None,
            last.taken_at if last else None,
            error=str(exc) or type(exc).__name__,
        )
    now = timezone.now()
    cache.set(
        key,
        {"credits": credits, "fetched_at": now},
        timeout=int(genlook_settings.CREDITS_CACHE_SECONDS),
    )
    record(credits, now=now)
    return Balance(credits, now)


def record(balance: int, *, now: datetime | None = None) -> CreditSnapshot | None:
    """Store the balance just fetched as the latest snapshot, and check the threshold.

    A new snapshot at most once per ``CREDITS_SNAPSHOT_INTERVAL``; within it, the latest
    snapshot of the same local day is moved to this balance and time, so the dashboard's
    card, its snapshot table and its chart show the same figure after every fetch.
    Returns the snapshot written (new or moved), None if nothing changed."""
    now = now or timezone.now()
    interval = timedelta(seconds=float(genlook_settings.CREDITS_SNAPSHOT_INTERVAL))
    latest = CreditSnapshot.objects.order_by("-taken_at", "-pk").first()
    snapshot = None
    if latest is None or now - latest.taken_at >= interval:
        snapshot = CreditSnapshot.objects.create(balance=balance, taken_at=now)
    elif timezone.localdate(latest.taken_at) != timezone.localdate(now):
        # Yesterday's closing balance stays as it was: the chart shows it.
        snapshot = CreditSnapshot.objects.create(balance=balance, taken_at=now)
    elif latest.balance != balance and latest.taken_at <= now:
        CreditSnapshot.objects.filter(pk=latest.pk).update(balance=balance, taken_at=now)
        latest.balance, latest.taken_at = balance, now
        snapshot = latest
    check_low_balance(balance, now=now)
    return snapshot


def latest_snapshot() -> CreditSnapshot | None:
    """The balance last fetched, as stored: what the dashboard's card shows."""
    return CreditSnapshot.objects.order_by("-taken_at", "-pk").first()


def check_low_balance(balance: int, *, now: datetime | None = None) -> bool:
    """Compare ``balance`` with ``LOW_BALANCE_THRESHOLD``; True if this call is the one
    that saw it cross below (and so sent ``credits_low``)."""
    now = now or timezone.now()
    threshold = genlook_settings.LOW_BALANCE_THRESHOLD
    CreditAlert.objects.get_or_create(pk=1)
    CreditAlert.objects.filter(pk=1).update(balance=balance, checked_at=now)
    if threshold is None or balance >= int(threshold):
        CreditAlert.objects.filter(pk=1, low_since__isnull=False).update(low_since=None)
        return False
    crossed = CreditAlert.objects.filter(pk=1, low_since__isnull=True).update(low_since=now)
    if not crossed:
        return False
    logger.warning("Genlook credit balance is low: %s (threshold %s)", balance, threshold)
    credits_low.send(sender=CreditSnapshot, balance=balance, threshold=int(threshold))
    if genlook_settings.LOW_BALANCE_MAIL_ADMINS:
        try:
            mail_admins(
                f"Genlook credits are low: {balance} left",
                f"The Genlook credit balance is {balance}, below the threshold of {threshold} "
                "(GENLOOK['LOW_BALANCE_THRESHOLD']). When it reaches 0, virtual try-on pauses "
                "for shoppers.\n\nTop up: https://platform.genlook.app/topup\n",
            )
        except Exception:  # a broken mail set-up must not stop the balance check
            logger.exception("Could not mail ADMINS about the low Genlook credit balance")
    return True


# -- What the admin banner shows ----------------------------------------------------------------


@dataclass(frozen=True)
class Alerts:
    low_balance: int | None  # the balance, while it is below the threshold
    threshold: int | None
    out_of_credits_since: datetime | None  # Genlook answered 402, nothing completed since

    def __bool__(self) -> bool:
        return self.low_balance is not None or self.out_of_credits_since is not None


def alerts() -> Alerts:
    """The alerts of the admin banner, from the database only (no API call)."""
    threshold = genlook_settings.LOW_BALANCE_THRESHOLD
    row = CreditAlert.objects.filter(pk=1).values("low_since", "balance").first()
    low = None
    if threshold is not None and row and row["low_since"] and row["balance"] is not None:
        low = row["balance"] if row["balance"] < int(threshold) else None
    return Alerts(
        low_balance=low,
        threshold=int(threshold) if threshold is not None else None,
        out_of_credits_since=start.credits_alert(),
    )


# -- Statistics ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Projection:
    completed: int  # completed try-ons over the window
    days: int  # the window
    days_left: float | None  # None: no usage, or no balance

    @property
    def per_day(self) -> float:
        return self.completed / self.days


def projection(
    balance: int | None, *, days: int = RATE_DAYS, now: datetime | None = None
) -> Projection:
    """How long ``balance`` lasts at the average daily number of completed try-ons (one
    credit each) over the last ``days`` days."""
    now = now or timezone.now()
    completed = TryOn.objects.filter(
        state=State.COMPLETED, finished_at__gte=now - timedelta(days=days)
    ).count()
    days_left = None
    if balance is not None and completed:
        days_left = max(0, balance) / (completed / days)
    return Projection(completed=completed, days=days, days_left=days_left)


@dataclass(frozen=True)
class Day:
    day: date
    started: int = 0
    completed: int = 0
    failed: int = 0


def _days(days: int, now: datetime) -> list[date]:
    today = timezone.localdate(now)
    return [today - timedelta(days=offset) for offset in range(days - 1, -1, -1)]


def _window_start(days: int, now: datetime) -> datetime:
    first = _days(days, now)[0]
    return timezone.make_aware(datetime.combine(first, datetime.min.time()))


def chart_start(*, days: int = CHART_DAYS, now: datetime | None = None) -> datetime:
    """The start of the charts' window: local midnight ``days - 1`` days ago."""
    return _window_start(days, now or timezone.now())


def daily_stats(*, days: int = CHART_DAYS, now: datetime | None = None) -> list[Day]:
    """Try-ons started per local day, and how many of them completed or failed."""
    now = now or timezone.now()
    counts: dict[date, dict[str, int]] = {}
    rows = (
        TryOn.objects.filter(created_at__gte=_window_start(days, now))
        .annotate(day=TruncDate("created_at", tzinfo=timezone.get_current_timezone()))
        .values("day", "state")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for row in rows:
        counts.setdefault(row["day"], {})[row["state"]] = row["n"]
    return [
        Day(
            day,
            started=sum(counts.get(day, {}).values()),
            completed=counts.get(day, {}).get(State.COMPLETED, 0),
            failed=counts.get(day, {}).get(State.FAILED, 0),
        )
        for day in _days(days, now)
    ]


def success_rate(day_stats: list[Day]) -> float | None:
    """Completed over finished (completed + failed); None when nothing finished."""
    completed = sum(d.completed for d in day_stats)
    finished = completed + sum(d.failed for d in day_stats)
    return completed / finished if finished else None


def balance_history(
    *, days: int = CHART_DAYS, now: datetime | None = None
) -> list[tuple[date, int]]:
    """The balance at the end of each local day, from the first day with a snapshot in the
    window (a day without a snapshot keeps the day before's)."""
    now = now or timezone.now()
    start = _window_start(days, now)
    before = (
        CreditSnapshot.objects.filter(taken_at__lt=start)
        .order_by("-taken_at")
        .values_list("balance", flat=True)
        .first()
    )
    closing: dict[date, int] = {}
    for taken_at, balance in (
        CreditSnapshot.objects.filter(taken_at__gte=start, taken_at__lte=now)
        .order_by("taken_at")
        .values_list("taken_at", "balance")
    ):
        closing[timezone.localdate(taken_at)] = balance
    history: list[tuple[date, int]] = []
    current = before
    for day in _days(days, now):
        current = closing.get(day, current)
        if current is not None:
            history.append((day, current))
    return history


@dataclass(frozen=True)
class Funnel:
    started: int
    completed: int
    added_to_cart: int  # try-ons followed by an add-to-cart of their product
    days: int

    def rate(self, part: int, whole: int) -> float | None:
        return part / whole if whole else None


def funnel(*, days: int = CHART_DAYS, now: datetime | None = None) -> Funnel:
    """Try-ons started → completed → followed by an add-to-cart of the same product, for
    try-ons started in the last ``days`` days."""
    now = now or timezone.now()
    try_ons = TryOn.objects.filter(created_at__gte=now - timedelta(days=days))
    added = (
        FunnelEvent.objects.filter(
            kind=FunnelEvent.Kind.ADDED_TO_CART, try_on__in=try_ons.values("pk")
        )
        .values("try_on")
        .distinct()
        .count()
    )
    return Funnel(
        started=try_ons.count(),
        completed=try_ons.filter(state=State.COMPLETED).count(),
        added_to_cart=added,
        days=days,
    )


@dataclass(frozen=True)
class Timings:
    count: int
    median_seconds: float | None
    p90_seconds: float | None


def timings(*, days: int = RATE_DAYS, now: datetime | None = None, limit: int = 2000) -> Timings:
    """Time from the shopper's request to the stored result, for the latest completed
    try-ons of the last ``days`` days (at most ``limit`` of them)."""
    now = now or timezone.now()
    rows = (
        TryOn.objects.filter(state=State.COMPLETED, finished_at__gte=now - timedelta(days=days))
        .order_by("-finished_at")
        .values_list("created_at", "finished_at")[:limit]
    )
    durations = sorted((finished - created).total_seconds() for created, finished in rows)
    if not durations:
        return Timings(0, None, None)
    p90 = durations[min(len(durations) - 1, round(0.9 * (len(durations) - 1)))]
    return Timings(len(durations), statistics.median(durations), p90)


def top_errors(
    *, days: int = RATE_DAYS, now: datetime | None = None, limit: int = 5
) -> list[tuple[str, int]]:
    """The most frequent error codes of the try-ons that failed in the last ``days`` days."""
    now = now or timezone.now()
    rows = (
        TryOn.objects.filter(state=State.FAILED, finished_at__gte=now - timedelta(days=days))
        .values("error_code")
        .annotate(n=Count("pk"))
        .order_by("-n", "error_code")[:limit]
    )
    return [(row["error_code"] or "-", row["n"]) for row in rows]
