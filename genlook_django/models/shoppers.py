"""What is kept per shopper key besides their try-ons: the quota counts, the erasures
owed at Genlook, and the keys a signed-in shopper had before."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class UsageRecord(models.Model):
    """One upload or try-on, counted against the quotas. It outlives an erased try-on
    (deleting a try-on does not give its quota back) and holds nothing but a pseudonymous
    key and a time; records older than the longest window are purged. The per-network
    counts are kept here too: the key is then a keyed hash of the network."""

    class Kind(models.TextChoices):
        UPLOAD = "upload", _("Photo upload")
        TRY_ON = "try_on", _("Try-on")
        IP_UPLOAD = "ip_upload", _("Photo upload (per network)")
        IP_TRY_ON = "ip_try_on", _("Try-on (per network)")

    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    shopper_key = models.CharField(_("shopper key"), max_length=64)
    created_at = models.DateTimeField(_("at"), default=timezone.now)

    class Meta:
        verbose_name = _("usage record")
        verbose_name_plural = _("usage records")
        indexes = [
            models.Index(
                fields=["kind", "shopper_key", "created_at"], name="genlook_usage_shopper"
            ),
            models.Index(fields=["kind", "created_at"], name="genlook_usage_kind"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.created_at:%Y-%m-%d %H:%M}"


class ErasureDebt(models.Model):
    """An erasure at Genlook that a shopper asked for while a try-on of theirs was in
    flight. Genlook erases by customer only, and a generation running then would escape
    the erasure: it is made when the shopper's last open try-on ends."""

    shopper_key = models.CharField(_("shopper key"), max_length=64, unique=True)
    created_at = models.DateTimeField(_("owed since"), default=timezone.now)

    class Meta:
        verbose_name = _("erasure owed at Genlook")
        verbose_name_plural = _("erasures owed at Genlook")

    def __str__(self) -> str:
        return f"{self.shopper_key[:8]}… since {self.created_at:%Y-%m-%d %H:%M}"


class ShopperAlias(models.Model):
    """A key a signed-in shopper had before (a visitor's), under which Genlook may still
    hold what they did: erased at Genlook with theirs. The signed-in shopper's key is kept
    as a keyed hash (``owner_tag``), so only ``SECRET_KEY`` links the two keys."""

    owner_tag = models.CharField(_("owner (keyed hash)"), max_length=20)
    old_key = models.CharField(_("earlier shopper key"), max_length=64)
    created_at = models.DateTimeField(_("recorded"), default=timezone.now)

    class Meta:
        verbose_name = _("earlier key of a signed-in shopper")
        verbose_name_plural = _("earlier keys of signed-in shoppers")
        constraints = [
            models.UniqueConstraint(fields=["owner_tag", "old_key"], name="genlook_alias_pair")
        ]

    def __str__(self) -> str:
        return f"{self.owner_tag} ← {self.old_key[:8]}…"
