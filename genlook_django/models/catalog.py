"""The catalog as Genlook knows it."""

from __future__ import annotations

from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils.translation import gettext_lazy as _


class SyncedProduct(models.Model):
    """One product of the shop's catalog as Genlook knows it (or should know it).

    ``content_hash`` is the hash of the last payload Genlook accepted, so a save that
    changes nothing Genlook sees costs no API call. ``remote`` keeps Genlook's raw answer:
    a field the API adds tomorrow is there without a migration.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SYNCED = "synced", _("Synced")
        FAILED = "failed", _("Failed")
        DELETED = "deleted", _("Deleted")

    external_id = models.CharField(_("external id"), max_length=255, unique=True)
    content_type = models.ForeignKey(
        ContentType, on_delete=models.CASCADE, verbose_name=_("product model")
    )
    object_id = models.CharField(_("object id"), max_length=255)
    source = GenericForeignKey("content_type", "object_id")

    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.PENDING
    )
    content_hash = models.CharField(
        _("content hash"),
        max_length=64,
        blank=True,
        help_text=_("SHA-256 of the payload Genlook last accepted."),
    )
    last_synced_at = models.DateTimeField(_("last synced"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    last_error_code = models.CharField(_("last error code"), max_length=64, blank=True)
    # The HTTP status Genlook answered the last failed call with (None: no answer, or not
    # a call's failure): what decides, with the code, whether a failure is worth retrying.
    last_error_status = models.PositiveSmallIntegerField(
        _("last error HTTP status"), null=True, blank=True
    )
    failure_count = models.PositiveIntegerField(
        _("failures in a row"), default=0, help_text=_("Reset by a successful sync.")
    )
    remote_expires_at = models.DateTimeField(
        _("expires at Genlook"),
        null=True,
        blank=True,
        help_text=_("Empty: kept forever."),
    )
    remote = models.JSONField(_("Genlook's answer"), default=dict, blank=True)
    image_issues = models.JSONField(
        _("image issues"),
        default=list,
        blank=True,
        help_text=_("What the last image audit found: [{url, problem, message}]."),
    )
    images_checked_at = models.DateTimeField(_("images checked"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("synced product")
        verbose_name_plural = _("synced products")
        ordering = ["-updated_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["content_type", "object_id"], name="genlook_syncedproduct_source"
            )
        ]
        indexes = [
            models.Index(fields=["status"], name="genlook_sp_status"),
            # The admin's list: newest first (-updated_at, then -pk), read off an index.
            models.Index(fields=["updated_at", "id"], name="genlook_sp_recent"),
            # The admin's exact search by the shop's product id.
            models.Index(fields=["object_id"], name="genlook_sp_object"),
        ]

    def __str__(self) -> str:
        return self.external_id

    @property
    def image_urls(self) -> list[str]:
        """The image URLs Genlook holds for this product, from its last answer."""
        return [
            image.get("sourceUrl") or image.get("url")
            for image in self.remote.get("images") or ()
            if isinstance(image, dict) and (image.get("sourceUrl") or image.get("url"))
        ]
