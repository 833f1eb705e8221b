"""What is counted per shopper key for the quotas."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class UsageRecord(models.Model):
    """One upload or try-on, counted against the quotas. It outlives an erased try-on
    (deleting a try-on does not give its quota back) and holds nothing but a pseudonymous
    key and a time; records older than the longest window are purged.

    The same small table also keeps the per-network counts (the key is then a keyed hash
    of the network), the erasures owed at Genlook until a shopper's last open try-on ends,
    and the anonymous keys a signed-in shopper had before (for their erasure)."""

    class Kind(models.TextChoices):
        UPLOAD = "upload", _("Photo upload")
        TRY_ON = "try_on", _("Try-on")
        IP_UPLOAD = "ip_upload", _("Photo upload (per network)")
        IP_TRY_ON = "ip_try_on", _("Try-on (per network)")
        ERASURE_OWED = "erase_owed", _("Erasure owed at Genlook")
        PHOTO_ERASURE_OWED = "erase_photo", _("Photo erasure owed")
        ALIAS = "alias", _("Earlier key of a signed-in shopper")

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
