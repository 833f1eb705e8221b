"""Batch processing: try-ons of model photos x products made for the catalog."""

from __future__ import annotations

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils.translation import gettext_lazy as _


class BatchJob(models.Model):
    """Try-ons of model photos x products made for the catalog (not for a shopper).

    Every (photo, product) pair is a ``BatchItem``; the job is ``running`` until each
    item is final, then ``done``. Started from the admin or ``genlook_batch``.
    """

    class State(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        CANCELLED = "cancelled", _("Cancelled")

    name = models.CharField(_("name"), max_length=200, blank=True)
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.QUEUED)
    watermark = models.BooleanField(
        _("Genlook watermark"),
        default=False,
        help_text=_("Ask Genlook to brand these images (catalog images usually go without)."),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        verbose_name = _("batch job")
        verbose_name_plural = _("batch jobs")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.name or f"Batch {self.pk}"


class BatchPhoto(models.Model):
    """A model photo of a batch, normalised, in ``PHOTOS_STORAGE``; uploaded to Genlook
    once (``crop=false``: the whole frame is kept) and its ``imageId`` used by every item."""

    job = models.ForeignKey(
        BatchJob, on_delete=models.CASCADE, related_name="photos", verbose_name=_("batch job")
    )
    label = models.CharField(_("label"), max_length=200, blank=True)
    file_name = models.CharField(_("file"), max_length=255, help_text=_("In PHOTOS_STORAGE."))
    width = models.PositiveIntegerField(_("width"), default=0)
    height = models.PositiveIntegerField(_("height"), default=0)
    genlook_image_id = models.CharField(_("Genlook imageId"), max_length=1024, blank=True)
    genlook_image_expires_at = models.DateTimeField(_("imageId expires"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("batch model photo")
        verbose_name_plural = _("batch model photos")
        ordering = ["pk"]

    def __str__(self) -> str:
        return self.label or f"Photo {self.pk}"


class BatchItem(models.Model):
    """One try-on of a batch: a model photo wearing a product; its result, once
    ``completed``, is in ``RESULTS_STORAGE``."""

    class State(models.TextChoices):
        QUEUED = "queued", _("Queued")
        SUBMITTING = "submitting", _("Submitting")
        PENDING = "pending", _("Pending at Genlook")
        COMPLETED = "completed", _("Completed")
        FAILED = "failed", _("Failed")

    FINAL_STATES = (State.COMPLETED, State.FAILED)
    OPEN_STATES = (State.QUEUED, State.SUBMITTING, State.PENDING)

    job = models.ForeignKey(
        BatchJob, on_delete=models.CASCADE, related_name="items", verbose_name=_("batch job")
    )
    photo = models.ForeignKey(
        BatchPhoto, on_delete=models.CASCADE, related_name="items", verbose_name=_("model photo")
    )
    content_type = models.ForeignKey(
        ContentType, on_delete=models.CASCADE, verbose_name=_("product model")
    )
    object_id = models.CharField(_("product id"), max_length=255)
    product = GenericForeignKey("content_type", "object_id")
    product_label = models.CharField(_("product"), max_length=255, blank=True)
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.QUEUED)
    generation_id = models.CharField(_("Genlook generation id"), max_length=255, blank=True)
    result_file = models.CharField(
        _("result file"), max_length=255, blank=True, help_text=_("In RESULTS_STORAGE.")
    )
    error_code = models.CharField(_("error code"), max_length=64, blank=True)
    error_message = models.TextField(_("error message"), blank=True)
    last_checked_at = models.DateTimeField(_("last checked"), null=True, blank=True)
    # As TryOn.create_sent_at: set by one submission only, right before the create leaves.
    create_sent_at = models.DateTimeField(_("create sent"), null=True, blank=True, editable=False)
    submitted_at = models.DateTimeField(_("accepted by Genlook"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    used_as_catalog_image_at = models.DateTimeField(
        _("used as catalog image"), null=True, blank=True
    )

    class Meta:
        verbose_name = _("batch try-on")
        verbose_name_plural = _("batch try-ons")
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["job", "photo", "content_type", "object_id"], name="genlook_batchitem_pair"
            )
        ]
        indexes = [
            models.Index(fields=["job", "state"], name="genlook_batchitem_state"),
            models.Index(fields=["content_type", "object_id"], name="genlook_batchitem_product"),
        ]

    def __str__(self) -> str:
        return f"{self.photo_id} x {self.product_label or self.object_id}"

    @property
    def is_final(self) -> bool:
        return self.state in self.FINAL_STATES
