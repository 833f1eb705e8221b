"""Storefront try-ons: the shopper's photo and each try-on they asked for."""

from __future__ import annotations

import uuid

from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils.translation import gettext_lazy as _


class ShopperPhoto(models.Model):
    """A shopper's photo, normalised (upright, no EXIF, downscaled, JPEG), in the private
    ``PHOTOS_STORAGE``. Uploaded to Genlook once; its ``imageId`` serves the shopper's
    next try-ons until it expires at Genlook."""

    public_id = models.UUIDField(_("public id"), default=uuid.uuid4, unique=True, editable=False)
    shopper_key = models.CharField(
        _("shopper key"),
        max_length=64,
        db_index=True,
        help_text=_("Pseudonymous: never an e-mail or a name. Sent to Genlook as externalUserId."),
    )
    file_name = models.CharField(_("file"), max_length=255, help_text=_("In PHOTOS_STORAGE."))
    width = models.PositiveIntegerField(_("width"))
    height = models.PositiveIntegerField(_("height"))
    size_bytes = models.PositiveIntegerField(_("size in bytes"))
    source_format = models.CharField(_("uploaded as"), max_length=16, blank=True)
    genlook_image_id = models.CharField(_("Genlook imageId"), max_length=1024, blank=True)
    genlook_image_expires_at = models.DateTimeField(_("imageId expires"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    # Empty while the file is the upload as it came, left for the worker to normalise
    # (PHOTO_NORMALISE): never sent to Genlook nor shown in that state.
    normalised_at = models.DateTimeField(_("normalised"), null=True, blank=True, editable=False)
    # The shopper deleted it while an open try-on still used it: hidden from them at once,
    # deleted when the last of those try-ons ends.
    erasure_requested_at = models.DateTimeField(
        _("erasure requested"), null=True, blank=True, editable=False
    )

    class Meta:
        verbose_name = _("shopper photo")
        verbose_name_plural = _("shopper photos")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return str(self.public_id)


class TryOn(models.Model):
    """One try-on a shopper asked for, from the photo to the stored result.

    ``received`` (saved, not yet sent) → ``submitting`` (the create is on its way) →
    ``pending`` (Genlook accepted it: ``generation_id``) → ``completed`` (the result is in
    ``RESULTS_STORAGE``) or ``failed`` (``error_code``, ``error_message``).
    """

    class State(models.TextChoices):
        RECEIVED = "received", _("Received")
        SUBMITTING = "submitting", _("Submitting")
        PENDING = "pending", _("Pending at Genlook")
        COMPLETED = "completed", _("Completed")
        FAILED = "failed", _("Failed")

    FINAL_STATES = (State.COMPLETED, State.FAILED)

    public_id = models.UUIDField(_("public id"), default=uuid.uuid4, unique=True, editable=False)
    shopper_key = models.CharField(_("shopper key"), max_length=64, db_index=True)
    photo = models.ForeignKey(
        ShopperPhoto,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="try_ons",
        verbose_name=_("photo"),
    )
    content_type = models.ForeignKey(
        ContentType, on_delete=models.CASCADE, verbose_name=_("product model")
    )
    object_id = models.CharField(_("product id"), max_length=255)
    product = GenericForeignKey("content_type", "object_id")
    product_external_id = models.CharField(_("product external id"), max_length=255, blank=True)

    state = models.CharField(
        _("state"), max_length=16, choices=State.choices, default=State.RECEIVED
    )
    generation_id = models.CharField(_("Genlook generation id"), max_length=255, blank=True)
    result_file = models.CharField(
        _("result file"), max_length=255, blank=True, help_text=_("In RESULTS_STORAGE.")
    )
    error_code = models.CharField(_("error code"), max_length=64, blank=True, db_index=True)
    error_message = models.TextField(
        _("error message"), blank=True, help_text=_("For the merchant; never shown to shoppers.")
    )
    consent_version = models.CharField(_("consent version"), max_length=32)
    # The shopper erased it while it was in flight (Genlook's generation cannot be called
    # back): hidden from them at once, deleted when it ends.
    withdrawn_at = models.DateTimeField(_("withdrawn"), null=True, blank=True, editable=False)
    raw = models.JSONField(_("Genlook's answer"), default=dict, blank=True)
    retry_of = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="retries",
        verbose_name=_("retry of"),
        help_text=_("The failed try-on the merchant retried from the admin."),
    )

    created_at = models.DateTimeField(_("received"), auto_now_add=True)
    # Set (atomically, by one submission only) right before the create request leaves:
    # a submission redelivered after a crash resends only when it is still empty.
    create_sent_at = models.DateTimeField(_("create sent"), null=True, blank=True, editable=False)
    submitted_at = models.DateTimeField(_("accepted by Genlook"), null=True, blank=True)
    last_checked_at = models.DateTimeField(_("last checked"), null=True, blank=True)
    checks = models.PositiveIntegerField(_("status checks"), default=0)
    webhook_confirmations = models.PositiveIntegerField(
        _("webhook confirmations"),
        default=0,
        editable=False,
        help_text=_("GET /generations asked for its webhook deliveries (bounded)."),
    )
    remote_finished_at = models.DateTimeField(_("finished at Genlook"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True, db_index=True)
    # The per-try-on webhook URL's token, hashed (SHA-256 hex): the token itself is only
    # ever in the URL given to Genlook, so a leaked database does not let anyone post.
    webhook_token_hash = models.CharField(
        _("webhook token (hashed)"), max_length=64, blank=True, db_index=True, editable=False
    )

    class Meta:
        verbose_name = _("try-on")
        verbose_name_plural = _("try-ons")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["state", "created_at"], name="genlook_tryon_state"),
            models.Index(fields=["generation_id"], name="genlook_tryon_generation"),
            # The admin's list: newest first (-created_at, then -pk), read off an index.
            models.Index(fields=["created_at", "id"], name="genlook_tryon_recent"),
            # The admin's exact search by a product's external id.
            models.Index(fields=["product_external_id"], name="genlook_tryon_product_ext"),
            # The admin's prefix searches (LIKE 'term%'; the opclass is PostgreSQL's, other
            # databases ignore it).
            models.Index(
                fields=["generation_id"],
                name="genlook_tryon_gen_prefix",
                opclasses=["varchar_pattern_ops"],
            ),
            models.Index(
                fields=["product_external_id"],
                name="genlook_tryon_ext_prefix",
                opclasses=["varchar_pattern_ops"],
            ),
            models.Index(
                fields=["error_code"],
                name="genlook_tryon_err_prefix",
                opclasses=["varchar_pattern_ops"],
            ),
        ]

    def __str__(self) -> str:
        return str(self.public_id)

    @property
    def is_final(self) -> bool:
        return self.state in self.FINAL_STATES
