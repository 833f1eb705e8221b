"""A shopper's finished look for a product, shown again when they come back to it.

Reopening the dialog or reloading the page shows the newest completed try-on of this
shopper for this product, as long as its result is kept (``RETENTION_DAYS``): nothing is
sent to Genlook, no credit is spent, no quota is counted.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from genlook_django.conf import genlook_settings
from genlook_django.models import TryOn


def retention_cutoff(now: datetime | None = None) -> datetime | None:
    """Results made before this are purged (or about to be); None: kept."""
    days = genlook_settings.RETENTION_DAYS
    if days is None:
        return None
    return (now or timezone.now()) - timedelta(days=float(days))


def retention_end(try_on: TryOn) -> datetime | None:
    """When this try-on's result leaves under ``RETENTION_DAYS``; None: kept."""
    days = genlook_settings.RETENTION_DAYS
    return None if days is None else try_on.created_at + timedelta(days=float(days))


def _content_type(reference: str) -> tuple[ContentType, str] | None:
    """The product model and primary key a widget reference names (``app.model:pk``),
    without loading the product: a look stays visible for a product since hidden."""
    label, _sep, pk = (reference or "").partition(":")
    app_label, _dot, model = label.partition(".")
    if not (app_label and model and pk):
        return None
    try:
        return ContentType.objects.get_by_natural_key(app_label, model.lower()), pk
    except ContentType.DoesNotExist:
        return None


def latest_look(shopper_key: str | None, reference: str) -> TryOn | None:
    """The shopper's newest completed try-on of the product, its result still kept."""
    if not shopper_key:
        return None
    found = _content_type(reference)
    if found is None:
        return None
    content_type, pk = found
    looks = TryOn.objects.filter(
        shopper_key=shopper_key,
        content_type=content_type,
        object_id=pk[:255],
        state=TryOn.State.COMPLETED,
        withdrawn_at__isnull=True,
    ).exclude(result_file="")
    cutoff = retention_cutoff()
    if cutoff is not None:
        looks = looks.filter(created_at__gte=cutoff)
    return looks.select_related("photo", "content_type").order_by("-created_at", "-pk").first()
