"""The pseudonymous shopper key: who owns a try-on, and the ``externalUserId`` Genlook sees.

- A signed-in user: an HMAC of the user's primary key with the project's ``SECRET_KEY``
  (``salted_hmac``), so the same user gets the same key on every device and the key tells
  nothing about the user to whoever reads it (Genlook included). Rotating ``SECRET_KEY``
  gives every user a new key.
- An anonymous visitor: a random key kept in their session, created on first use.

Never an e-mail, a name or a database id: it is sent to Genlook, and it is what
``DELETE /customers/{customerId}`` erases there.

A visitor who signs in keeps what they did anonymously: on ``user_logged_in`` their
try-ons, photos, quota records and add-to-cart events move to the user's key
(``adopt_anonymous``), so the try-on they were watching stays theirs. Genlook is told
nothing: what it holds under the visitor's key stays there (until ``KEEP_FOR_DAYS``), and
that key is remembered as an *alias* of the user's, so that erasing the user at Genlook
erases it too (``aliases``, used by ``erasure.erase_at_genlook``).
"""

from __future__ import annotations

import logging
import secrets
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.crypto import salted_hmac

from genlook_django.conf import genlook_settings
from genlook_django.models import (
    ErasureDebt,
    FunnelEvent,
    ShopperAlias,
    ShopperPhoto,
    TryOn,
    UsageRecord,
)

logger = logging.getLogger("genlook_django.shoppers")

SESSION_KEY = "genlook_shopper"
_SALT = "genlook_django.shopper"


def user_key(user_pk: object) -> str:
    """The shopper key of a signed-in user (stable across sessions and devices)."""
    return "u_" + salted_hmac(_SALT, str(user_pk), algorithm="sha256").hexdigest()[:40]


def shopper_key(request: HttpRequest, *, create: bool = True) -> str | None:
    """This request's shopper key; with ``create=False``, None for a visitor who has none."""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return user_key(user.pk)
    session = getattr(request, "session", None)
    if session is None:
        return None
    key = session.get(SESSION_KEY)
    if isinstance(key, str) and key.startswith("a_"):
        return key
    if not create:
        return None
    key = "a_" + secrets.token_hex(20)
    session[SESSION_KEY] = key
    return key


# -- Signing in: the visitor's try-ons become the user's ---------------------------------------


def _alias_tag(key: str) -> str:
    """``ShopperAlias.owner_tag``: the signed-in shopper's key, as a keyed hash."""
    return salted_hmac(_SALT + ".alias", key, algorithm="sha256").hexdigest()[:20]


def _alias_lifetime() -> timedelta | None:
    """How long Genlook may still hold something under an old key: ``KEEP_FOR_DAYS`` and a
    day's margin; None (the account's own retention, unknown here): kept until erased."""
    days = genlook_settings.KEEP_FOR_DAYS
    return None if days is None else timedelta(days=float(days) + 1)


def aliases(key: str) -> list[str]:
    """The other keys ``key``'s shopper had at Genlook (a visitor's, before signing in)."""
    rows = ShopperAlias.objects.filter(owner_tag=_alias_tag(key))
    lifetime = _alias_lifetime()
    if lifetime is not None:
        rows = rows.filter(created_at__gte=timezone.now() - lifetime)
    return sorted(rows.values_list("old_key", flat=True))


def forget_aliases(key: str, old_keys: list[str] | None = None) -> None:
    """Drop ``key``'s aliases (those given, or all): once erased at Genlook, say."""
    rows = ShopperAlias.objects.filter(owner_tag=_alias_tag(key))
    if old_keys is not None:
        rows = rows.filter(old_key__in=old_keys)
    rows.delete()


def record_alias(key: str, old_key: str) -> None:
    if len(old_key) > ShopperAlias._meta.get_field("old_key").max_length:  # not one of ours
        logger.warning("Shopper key %s… too long to be kept as an alias", old_key[:8])
        return
    now = timezone.now()
    lifetime = _alias_lifetime()
    if lifetime is not None:  # aliases Genlook has forgotten by now
        ShopperAlias.objects.filter(created_at__lt=now - lifetime).delete()
    ShopperAlias.objects.update_or_create(
        owner_tag=_alias_tag(key), old_key=old_key, defaults={"created_at": now}
    )


def _move_erasure_owed(old: str, new: str) -> int:
    """An erasure owed to the visitor is owed to the user now: their try-ons moved."""
    moved, _by_model = ErasureDebt.objects.filter(shopper_key=old).delete()
    if moved:
        ErasureDebt.objects.get_or_create(shopper_key=new)
    return moved


def adopt_anonymous(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    """``user_logged_in``: move the session's anonymous key's rows to the user's key and
    remember the old key as an alias (nothing is sent to Genlook). The photos' Genlook
    imageIds are forgotten, so the next upload is made under the user's key."""
    session = getattr(request, "session", None)
    if session is None or user is None or getattr(user, "pk", None) is None:
        return
    old = session.get(SESSION_KEY)
    if not (isinstance(old, str) and old.startswith("a_")):
        return
    new = user_key(user.pk)
    with transaction.atomic():
        moved = TryOn.objects.filter(shopper_key=old).update(shopper_key=new)
        moved += ShopperPhoto.objects.filter(shopper_key=old).update(
            shopper_key=new, genlook_image_id="", genlook_image_expires_at=None
        )
        moved += UsageRecord.objects.filter(shopper_key=old).update(shopper_key=new)
        moved += _move_erasure_owed(old, new)
        FunnelEvent.objects.filter(shopper_key=old).update(shopper_key=new)
        if moved:  # something may be at Genlook under the old key
            record_alias(new, old)
    session.pop(SESSION_KEY, None)
    if moved:
        logger.info("Visitor %s… signed in: their try-ons moved to %s…", old[:8], new[:8])


def connect_login_adoption() -> None:
    """Called when the app is ready."""
    from django.contrib.auth.signals import user_logged_in

    user_logged_in.connect(adopt_anonymous, dispatch_uid="genlook_django.shoppers.adopt")
