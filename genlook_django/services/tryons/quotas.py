"""Quotas: per shopper, per client network, and for the whole shop.

- per shopper key: new photos (``UPLOAD_QUOTA``) and try-ons (``TRY_ON_QUOTA``);
- per client network (an IPv4 address, an IPv6 /64), whatever its sessions and cookies, so
  that a script starting a fresh session for every request is stopped too:
  ``IP_UPLOAD_QUOTA`` and ``IP_TRY_ON_QUOTA``. The address is read from ``REMOTE_ADDR``, or
  from ``CLIENT_IP_HEADER`` behind ``TRUSTED_PROXY_COUNT`` proxies, and stored only as a
  keyed hash (HMAC with ``SECRET_KEY``) of the network;
- for the whole shop: try-ons in any 24 hours (``DAILY_TRY_ON_BUDGET``) and new photos
  (``UPLOAD_BUDGET``).

Counted in the database (``UsageRecord``), so every web process and worker sees the same
numbers without a shared cache, and erasing a try-on does not give its quota back. Each is a
sliding window: ``UPLOAD_QUOTA = (10, 300)`` means at most 10 uploads in any 5 minutes.

``reserve`` records first and checks after: the request's records are committed at once
(every concurrent request sees them), then every window is counted with them, and they are
deleted again if one is exceeded. Parallel requests cannot all pass a limit: two racing for
its last slot may both be refused (each told when to come back, ``Retry-After``), never
both let through. A try-on refused later (its photo, say) gives its try-on records back;
the upload stays counted, since the photo cost its decoding.
"""

from __future__ import annotations

import ipaddress
import math
import random
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext, ngettext

from genlook_django.conf import genlook_settings
from genlook_django.models import UsageRecord

Kind = UsageRecord.Kind
# Per client network, in the same table; their shopper_key is a keyed hash of the network.
IP_UPLOAD = Kind.IP_UPLOAD
IP_TRY_ON = Kind.IP_TRY_ON
COUNTED_KINDS = (Kind.UPLOAD, Kind.TRY_ON, IP_UPLOAD, IP_TRY_ON)
DAY = 24 * 3600
PURGE_CHANCE = 0.01  # one record in a hundred sweeps the expired ones


class QuotaExceeded(Exception):
    """A quota is used up. ``message`` is safe to show to the shopper; ``retry_after`` is
    the number of seconds until one more is allowed."""

    def __init__(self, code: str, message: Any, retry_after: int) -> None:
        super().__init__(str(message))
        self.code = code
        self.message = message
        self.retry_after = retry_after


@dataclass(frozen=True)
class Window:
    limit: int
    seconds: float

    @classmethod
    def parse(cls, value: Any, name: str) -> Window | None:
        """``(count, seconds)``; ``None`` (or a count of ``None``) means no limit."""
        if value is None:
            return None
        try:
            limit, seconds = value
        except (TypeError, ValueError):
            raise ValueError(f"GENLOOK[{name!r}] must be (count, seconds) or None.") from None
        if limit is None:
            return None
        return cls(int(limit), float(seconds))


def _describe(seconds: float) -> str:
    """ "a week", "5 minutes"...: the window, in words, in the active language."""
    if seconds >= DAY and seconds % DAY == 0:
        days = int(seconds // DAY)
        if days == 7:
            return gettext("a week")
        return ngettext("%(n)s day", "%(n)s days", days) % {"n": days}
    if seconds >= 3600 and seconds % 3600 == 0:
        hours = int(seconds // 3600)
        return ngettext("%(n)s hour", "%(n)s hours", hours) % {"n": hours}
    minutes = max(1, math.ceil(seconds / 60))
    return ngettext("%(n)s minute", "%(n)s minutes", minutes) % {"n": minutes}


def _check(
    kind: str,
    window: Window | None,
    shopper_key: str | None,
    now: datetime,
    exclude: Collection[int] = (),
) -> int | None:
    """None when under the limit, else the seconds until the oldest use leaves the window.
    ``exclude``: the caller's own records (a reservation), not counted against it."""
    if window is None:
        return None
    if window.limit <= 0:
        return int(window.seconds)
    since = now - timedelta(seconds=window.seconds)
    records = UsageRecord.objects.filter(kind=kind, created_at__gt=since)
    if shopper_key is not None:
        records = records.filter(shopper_key=shopper_key)
    if exclude:
        records = records.exclude(pk__in=list(exclude))
    # Only the limit-th newest use matters: none, and there is room; else the window has
    # room again once it leaves. One row read, not up to ``limit``.
    found = list(
        records.order_by("-created_at").values_list("created_at", flat=True)[
            window.limit - 1 : window.limit
        ]
    )
    if not found:
        return None
    oldest = found[0]
    return max(1, math.ceil((oldest + timedelta(seconds=window.seconds) - now).total_seconds()))


def check_budget(now: datetime | None = None) -> None:
    """Raise ``QuotaExceeded`` if the shop's ``DAILY_TRY_ON_BUDGET`` is spent."""
    now = now or timezone.now()
    budget = genlook_settings.DAILY_TRY_ON_BUDGET
    wait = _check(Kind.TRY_ON, Window(int(budget), DAY) if budget is not None else None, None, now)
    if wait is not None:
        raise QuotaExceeded(
            "DAILY_BUDGET_EXCEEDED",
            gettext("Virtual try-on is very popular today. Please come back tomorrow."),
            wait,
        )


def _window(name: str) -> Window | None:
    return Window.parse(getattr(genlook_settings, name), name)


def _refuse_if_over(
    kind: str, name: str, key: str | None, now: datetime, exclude: Collection[int]
) -> None:
    window = _window(name)
    wait = _check(kind, window, key, now, exclude)
    if wait is None:
        return
    assert window is not None
    values = {"limit": window.limit, "period": _describe(window.seconds)}
    messages = {
        "TRY_ON_QUOTA": gettext("You have reached the limit of %(limit)s try-ons in %(period)s."),
        "UPLOAD_QUOTA": gettext(
            "You have uploaded %(limit)s photos in %(period)s. Please wait a little, "
            "or use your last photo."
        ),
        "IP_TRY_ON_QUOTA": gettext(
            "Many try-ons were made from your network recently. Please come back later."
        ),
        "IP_UPLOAD_QUOTA": gettext(
            "Many photos were uploaded from your network recently. Please wait a little, "
            "or use your last photo."
        ),
        "UPLOAD_BUDGET": gettext(
            "Lots of shoppers are uploading photos right now. Please try again in a few "
            "minutes, or use your last photo."
        ),
    }
    raise QuotaExceeded(f"{name}_EXCEEDED", messages[name] % values, wait)


def _enforce(
    shopper_key: str,
    network: str | None,
    *,
    upload: bool,
    now: datetime,
    exclude: Collection[int] = (),
) -> None:
    """Raise ``QuotaExceeded`` for the first window that has no room (the shopper's own
    limits are named first: they say the most to the shopper)."""
    budget = genlook_settings.DAILY_TRY_ON_BUDGET
    wait = _check(
        Kind.TRY_ON, Window(int(budget), DAY) if budget is not None else None, None, now, exclude
    )
    if wait is not None:
        raise QuotaExceeded(
            "DAILY_BUDGET_EXCEEDED",
            gettext("Virtual try-on is very popular today. Please come back tomorrow."),
            wait,
        )
    _refuse_if_over(Kind.TRY_ON, "TRY_ON_QUOTA", shopper_key, now, exclude)
    if upload:
        _refuse_if_over(Kind.UPLOAD, "UPLOAD_QUOTA", shopper_key, now, exclude)
    if network is not None:
        _refuse_if_over(IP_TRY_ON, "IP_TRY_ON_QUOTA", network, now, exclude)
        if upload:
            _refuse_if_over(IP_UPLOAD, "IP_UPLOAD_QUOTA", network, now, exclude)
    if upload:
        _refuse_if_over(Kind.UPLOAD, "UPLOAD_BUDGET", None, now, exclude)


def check(shopper_key: str, *, upload: bool, client_ip: str | None = None) -> None:
    """Raise ``QuotaExceeded`` if this shopper may not start a try-on now (with a new photo
    when ``upload``). Nothing is recorded: prefer ``reserve``, which cannot be raced."""
    _enforce(shopper_key, network_key(client_ip), upload=upload, now=timezone.now())


@dataclass
class Reservation:
    """The records ``reserve`` made for one request."""

    try_ons: list[int] = field(default_factory=list)
    uploads: list[int] = field(default_factory=list)

    def release(self, *, uploads: bool = True) -> None:
        """Give the try-on back (and the upload, unless ``uploads`` is False)."""
        pks = self.try_ons + (self.uploads if uploads else [])
        if pks:
            UsageRecord.objects.filter(pk__in=pks).delete()
        self.try_ons = []
        if uploads:
            self.uploads = []


def reserve(shopper_key: str, *, upload: bool, client_ip: str | None = None) -> Reservation:
    """Count one try-on (and one new photo when ``upload``) for this shopper, their
    network and the shop, or raise ``QuotaExceeded`` having counted nothing.

    The records are committed before the windows are counted, so that concurrent requests
    see one another; call it outside any transaction (the storefront's views are not
    atomic), or they would not.
    """
    now = timezone.now()
    network = network_key(client_ip)
    plan: list[tuple[str, str]] = [(Kind.TRY_ON, shopper_key)]
    if upload:
        plan.append((Kind.UPLOAD, shopper_key))
    if network is not None and _window("IP_TRY_ON_QUOTA") is not None:
        plan.append((IP_TRY_ON, network))
    if network is not None and upload and _window("IP_UPLOAD_QUOTA") is not None:
        plan.append((IP_UPLOAD, network))
    reservation = Reservation()
    rows = [UsageRecord(kind=kind, shopper_key=key, created_at=now) for kind, key in plan]
    with transaction.atomic():
        if connection.features.can_return_rows_from_bulk_insert:
            UsageRecord.objects.bulk_create(rows)  # one INSERT, the primary keys set
        else:
            for row in rows:
                row.save(force_insert=True)
    for row in rows:
        (
            reservation.uploads if row.kind in (Kind.UPLOAD, IP_UPLOAD) else reservation.try_ons
        ).append(row.pk)
    try:
        _enforce(
            shopper_key,
            network,
            upload=upload,
            now=now,
            exclude=reservation.try_ons + reservation.uploads,
        )
    except QuotaExceeded:
        reservation.release()
        raise
    if random.random() < PURGE_CHANCE:
        purge_expired(now)
    return reservation


def record(shopper_key: str, *, upload: bool) -> None:
    """Count one try-on (and one upload when ``upload``)."""
    now = timezone.now()
    kinds = [Kind.TRY_ON, Kind.UPLOAD] if upload else [Kind.TRY_ON]
    UsageRecord.objects.bulk_create(
        [UsageRecord(kind=kind, shopper_key=shopper_key, created_at=now) for kind in kinds]
    )
    if random.random() < PURGE_CHANCE:
        purge_expired(now)


def longest_window() -> float:
    names = ("TRY_ON_QUOTA", "UPLOAD_QUOTA", "IP_TRY_ON_QUOTA", "IP_UPLOAD_QUOTA", "UPLOAD_BUDGET")
    windows = [_window(name) for name in names]
    return max([DAY, *(w.seconds for w in windows if w is not None)])


def purge_expired(now: datetime | None = None) -> int:
    """Delete the records no window can see any more; returns how many. (Other rows of
    the table, such as the erasures owed, are kept for their own purpose.)"""
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=longest_window())
    deleted, _ = UsageRecord.objects.filter(kind__in=COUNTED_KINDS, created_at__lt=cutoff).delete()
    return deleted


# -- The client's network ----------------------------------------------------------------------


def _meta_name(header: str) -> str:
    """``X-Forwarded-For`` -> ``HTTP_X_FORWARDED_FOR`` (a ``META`` name is kept as it is)."""
    if header.startswith("HTTP_") or header == "REMOTE_ADDR":
        return header
    return "HTTP_" + header.upper().replace("-", "_")


def _parse_ip(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    value = value.strip().strip('"')
    if value.startswith("[") and "]" in value:  # [2001:db8::1]:443
        value = value[1 : value.index("]")]
    elif value.count(":") == 1 and "." in value:  # 203.0.113.9:51234
        value = value.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def client_ip(request: HttpRequest) -> str | None:
    """The client's address: ``REMOTE_ADDR``, unless ``CLIENT_IP_HEADER`` names the header
    the shop's own proxies set. For a list (``X-Forwarded-For``), each of the
    ``TRUSTED_PROXY_COUNT`` proxies appended the address it saw: the entry that many from
    the right is the one the outermost trusted proxy saw (anything left of it may be made
    up by the client). An unusable header falls back to ``REMOTE_ADDR``."""
    header = genlook_settings.CLIENT_IP_HEADER
    if header:
        entries = [
            entry for entry in request.META.get(_meta_name(header), "").split(",") if entry.strip()
        ]
        if entries:
            hops = max(1, int(genlook_settings.TRUSTED_PROXY_COUNT or 1))
            address = _parse_ip(entries[-hops] if len(entries) >= hops else entries[0])
            if address is not None:
                return str(address)
    address = _parse_ip(request.META.get("REMOTE_ADDR", ""))
    return None if address is None else str(address)


def network_key(ip: str | None) -> str | None:
    """The key a client's quota is counted under: a keyed hash of its IPv4 address, or of
    its IPv6 /64 (one subscriber's network: an address of its own costs nothing)."""
    address = _parse_ip(ip) if ip else None
    if address is None:
        return None
    if isinstance(address, ipaddress.IPv6Address):
        network = str(ipaddress.IPv6Network((address, 64), strict=False))
    else:
        network = str(address)
    return (
        "n_" + salted_hmac("genlook_django.network", network, algorithm="sha256").hexdigest()[:40]
    )
