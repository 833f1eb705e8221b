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
