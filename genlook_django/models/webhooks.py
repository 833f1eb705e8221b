"""The webhook deliveries Genlook posted."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class WebhookDelivery(models.Model):
    """Every POST to the webhook receiver, stored before anything else is done with it."""

    class Verdict(models.TextChoices):
        ACCEPTED = "accepted", _("Accepted")
        REJECTED = "rejected", _("Rejected")

    class Outcome(models.TextChoices):
        PENDING = "pending", _("Waiting to be processed")
        PROCESSED = "processed", _("Processed")
        DUPLICATE = "duplicate", _("Duplicate (absorbed)")
        IGNORED = "ignored", _("Ignored")
        FAILED = "failed", _("Processing failed")
        NOT_PROCESSED = "not_processed", _("Not processed (rejected)")

    received_at = models.DateTimeField(_("received"), default=timezone.now, db_index=True)
    try_on = models.ForeignKey(
        "TryOn",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="webhook_deliveries",
        verbose_name=_("try-on"),
    )
    remote_addr = models.GenericIPAddressField(_("remote address"), null=True, blank=True)
    headers = models.JSONField(_("headers"), default=dict, blank=True)
    body = models.TextField(_("body"), blank=True)
    body_truncated = models.BooleanField(_("body truncated"), default=False)
    body_hash = models.CharField(
        _("body hash"),
        max_length=64,
        blank=True,
        db_index=True,
        help_text=_("SHA-256 of the body."),
    )
    verdict = models.CharField(_("verdict"), max_length=16, choices=Verdict.choices)
    reason = models.CharField(_("reason"), max_length=64, blank=True)
    generation_id = models.CharField(_("generation id"), max_length=255, blank=True, db_index=True)
    status_hint = models.CharField(_("status (as sent)"), max_length=32, blank=True)
    dedupe_key = models.CharField(
        _("deduplication key"),
        max_length=300,
        null=True,
        blank=True,
        unique=True,
        help_text=_(
            "try-on:generation:status of the first accepted delivery; later ones are duplicates."
        ),
    )
    outcome = models.CharField(
        _("outcome"), max_length=16, choices=Outcome.choices, default=Outcome.PENDING
    )
    attempts = models.PositiveIntegerField(_("processing attempts"), default=0)
    processed_at = models.DateTimeField(_("processed"), null=True, blank=True)
    error = models.TextField(_("traceback"), blank=True)

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        ordering = ["-received_at"]
        indexes = [
            # The admin's list: newest first (-received_at, then -pk), read off an index.
            models.Index(fields=["received_at", "id"], name="genlook_wd_recent"),
            # The admin's reason filter (its choices, and the rows of one).
            models.Index(fields=["reason"], name="genlook_wd_reason"),
            # The admin's search by a generation id's start (LIKE 'term%', PostgreSQL).
            models.Index(
                fields=["generation_id"],
                name="genlook_wd_gen_prefix",
                opclasses=["varchar_pattern_ops"],
            ),
        ]

    def __str__(self) -> str:
        return f"{self.received_at:%Y-%m-%d %H:%M:%S} {self.verdict} {self.generation_id}"
