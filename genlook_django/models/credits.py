"""The credit balance Genlook reported, and the low-balance alert."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class CreditSnapshot(models.Model):
    """The credit balance Genlook reported, at one moment."""

    balance = models.IntegerField(_("balance"))
    taken_at = models.DateTimeField(_("taken"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("credit snapshot")
        # The admin index lists the credits dashboard under this name.
        verbose_name_plural = _("credits and usage")
        ordering = ["-taken_at"]
        get_latest_by = "taken_at"

    def __str__(self) -> str:
        return f"{self.balance} @ {self.taken_at:%Y-%m-%d %H:%M}"


class CreditAlert(models.Model):
    """One row (``load()``): whether the balance is below ``LOW_BALANCE_THRESHOLD``.

    ``low_since`` is set by a conditional update when the balance crosses below the
    threshold, so ``credits_low`` is sent once per crossing however many processes fetch
    the balance at the same time, and cleared when it is back above."""

    low_since = models.DateTimeField(_("low since"), null=True, blank=True)
    balance = models.IntegerField(_("last known balance"), null=True, blank=True)
    checked_at = models.DateTimeField(_("last checked"), null=True, blank=True)

    class Meta:
        verbose_name = _("credit alert")
        verbose_name_plural = _("credit alerts")

    def __str__(self) -> str:
        return f"low since {self.low_since}" if self.low_since else "not low"

    @classmethod
    def load(cls) -> CreditAlert:
        row, _created = cls.objects.get_or_create(pk=1)
        return row


class ChargedGeneration(models.Model):
    """One generation Genlook charged a credit for (it completed), written once by the
    ingestion of its result. It outlives the try-on or batch item it came from (no
    foreign key: a deletion or an erasure keeps the credit spent on the books) and holds
    no shopper data, only what it was for, so the credits page's "spent" reconciles with
    what was charged."""

    class Kind(models.TextChoices):
        SHOPPER = "shopper", _("Shopper try-on")
        RETRIED = "retried", _("Retried from the admin")
        BATCH = "batch", _("Batch (catalog)")

    generation_id = models.CharField(_("Genlook generation id"), max_length=255, unique=True)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    # Plain ids, not foreign keys: the ledger row stays when its record is deleted.
    try_on_id = models.BigIntegerField(_("try-on id"), null=True, blank=True, db_index=True)
    batch_item_id = models.BigIntegerField(_("batch item id"), null=True, blank=True)
    charged_at = models.DateTimeField(_("charged"), default=timezone.now, db_index=True)
    # Set when the shopper had their try-on erased (a deletion by the merchant or the
    # retention purge is seen from the try-on's absence).
    erased_at = models.DateTimeField(_("erased"), null=True, blank=True)

    class Meta:
        verbose_name = _("charged generation")
        verbose_name_plural = _("charged generations")
        ordering = ["-charged_at"]

    def __str__(self) -> str:
        return f"{self.kind} {self.generation_id}"
