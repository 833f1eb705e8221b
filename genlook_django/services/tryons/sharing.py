"""Share links: a shopper's link to one finished look that anyone can open for a while.

The token is 32 random bytes (``secrets.token_urlsafe``); only its SHA-256 is stored. A
link works for ``SHARE_LINK_DAYS`` (7 by default) and never past the result's
``RETENTION_DAYS``; a try-on has at most ``SHARE_LINKS_PER_TRY_ON`` links at once. Revoking
a link deletes it, and deleting the try-on deletes its links. The page a link opens shows
the result image (served through the link), the shop's name and the product: never the
shopper's photo.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.apps import apps
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from genlook_django.conf import genlook_settings
from genlook_django.models import ShareLink, TryOn
from genlook_django.services.catalog import registry
from genlook_django.services.tryons import looks

logger = logging.getLogger("genlook_django.sharing")

TOKEN_BYTES = 32


class ShareRefused(Exception):
    """No link for this try-on. ``message`` is safe to show to the shopper."""

    def __init__(self, code: str, message: Any, status: int = 400) -> None:
        super().__init__(str(message))
        self.code = code
        self.message = message
        self.status = status


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _expiry(try_on: TryOn, now: datetime) -> datetime:
    expires = now + timedelta(days=float(genlook_settings.SHARE_LINK_DAYS))
    end = looks.retention_end(try_on)
    return expires if end is None else min(expires, end)


def _shareable(try_on: TryOn) -> bool:
    return (
        try_on.state == TryOn.State.COMPLETED
        and bool(try_on.result_file)
        and try_on.withdrawn_at is None
    )


def create(try_on: TryOn) -> tuple[ShareLink, str]:
    """A new link to the try-on's result, and its token (shown once). ``ShareRefused``
    for a result not ready or about to be purged, or past the cap of links."""
    if not _shareable(try_on):
        raise ShareRefused("NOT_READY", _("Only a finished look can be shared."), 409)
    now = timezone.now()
    expires_at = _expiry(try_on, now)
    if expires_at <= now + timedelta(minutes=5):
        raise ShareRefused(
            "SHARE_UNAVAILABLE", _("This look is about to be deleted and cannot be shared."), 410
        )
    cap = int(genlook_settings.SHARE_LINKS_PER_TRY_ON)
    with transaction.atomic():
        # One request at a time per try-on, so that parallel ones cannot pass the cap.
        TryOn.objects.select_for_update().filter(pk=try_on.pk).first()
        if ShareLink.objects.filter(try_on=try_on, expires_at__gt=now).count() >= cap:
            raise ShareRefused(
                "SHARE_LIMIT",
                _("This look already has %(count)s share links. Stop sharing one first.")
                % {"count": cap},
                429,
            )
        ShareLink.objects.filter(try_on=try_on, expires_at__lte=now).delete()
        token = secrets.token_urlsafe(TOKEN_BYTES)
        link = ShareLink.objects.create(
            try_on=try_on, token_hash=token_hash(token), expires_at=expires_at
        )
    logger.info("Share link %s made for try-on %s", link.public_id, try_on.public_id)
    return link, token


def revoke(link: ShareLink) -> None:
    ShareLink.objects.filter(pk=link.pk).delete()
    logger.info("Share link %s revoked", link.public_id)


def owned_link(shopper_key: str | None, public_id: Any) -> ShareLink | None:
    """The shopper's own link (any other: None, as for one that never existed)."""
    if not shopper_key:
        return None
    return (
        ShareLink.objects.filter(
            public_id=public_id,
            try_on__shopper_key=shopper_key,
            try_on__withdrawn_at__isnull=True,
        )
        .select_related("try_on")
        .first()
    )


def opened(token: str) -> ShareLink | None:
    """The live link a token opens: not revoked, not expired, its result still kept."""
    if not token or len(token) > 128:
        return None
    link = (
        ShareLink.objects.filter(token_hash=token_hash(token), expires_at__gt=timezone.now())
        .select_related("try_on", "try_on__content_type")
        .first()
    )
    if link is None or not _shareable(link.try_on):
        return None
    cutoff = looks.retention_cutoff()
    if cutoff is not None and link.try_on.created_at < cutoff:
        return None
    return link


# -- What the shared page shows -----------------------------------------------------------------


def shop_name(host: str) -> str:
    """``SHOP_NAME``, else the Sites framework's current site, else the host."""
    if genlook_settings.SHOP_NAME:
        return str(genlook_settings.SHOP_NAME)
    if apps.is_installed("django.contrib.sites"):
        from django.contrib.sites.models import Site

        try:
            name = Site.objects.get_current().name
        except Exception:  # no SITE_ID and no matching domain: fall back to the host
            logger.debug("No current site for the shared page", exc_info=True)
        else:
            if name:
                return name
    return host


@dataclass(frozen=True)
class SharedProduct:
    title: str
    url: str | None


def product_of(try_on: TryOn) -> SharedProduct | None:
    """The product as the shop shows it (its adapter's title and URL); None when it is
    gone, hidden or no longer registered."""
    try:
        product: models.Model | None = try_on.product
        if product is None:
            return None
        adapter = registry.get_adapter(product)
        if not adapter.should_sync(product):
            return None
        return SharedProduct(title=adapter.get_title(product), url=adapter.get_url(product))
    except Exception:  # the product cannot be described: the look is shown without it
        logger.warning("Shared try-on %s: its product cannot be shown", try_on.public_id)
        return None
