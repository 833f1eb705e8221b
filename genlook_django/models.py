"""Local state of the Genlook integration."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
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


# -- Storefront try-ons -----------------------------------------------------------------


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
        ]

    def __str__(self) -> str:
        return str(self.public_id)

    @property
    def is_final(self) -> bool:
        return self.state in self.FINAL_STATES


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

    def __str__(self) -> str:
        return f"{self.received_at:%Y-%m-%d %H:%M:%S} {self.verdict} {self.generation_id}"


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


class WatermarkSettings(models.Model):
    """The one row of watermark settings the merchant edits in the admin."""

    class Position(models.TextChoices):
        TOP_LEFT = "top-left", _("Top left")
        TOP_RIGHT = "top-right", _("Top right")
        BOTTOM_LEFT = "bottom-left", _("Bottom left")
        BOTTOM_RIGHT = "bottom-right", _("Bottom right")
        CENTER = "center", _("Centre")

    genlook_watermark = models.BooleanField(
        _("Genlook watermark"),
        default=True,
        help_text=_("Ask Genlook to brand results with the logo set in the Genlook dashboard."),
    )
    overlay_enabled = models.BooleanField(
        _("apply my logo"), default=False, help_text=_("Lay the logo below over stored results.")
    )
    logo = models.ImageField(_("logo"), upload_to="genlook/watermark/", blank=True)
    position = models.CharField(
        _("position"), max_length=16, choices=Position.choices, default=Position.BOTTOM_RIGHT
    )
    scale = models.FloatField(
        _("width (share of the image)"),
        default=0.2,
        validators=[MinValueValidator(0.02), MaxValueValidator(1.0)],
        help_text=_("The logo's width as a share of the result's width: 0.02 to 1."),
    )
    opacity = models.FloatField(
        _("opacity"),
        default=0.8,
        validators=[MinValueValidator(0.0), MaxValueValidator(1.0)],
        help_text=_("0: invisible, 1: as drawn."),
    )
    margin = models.FloatField(
        _("margin (share of the width)"),
        default=0.03,
        validators=[MinValueValidator(0.0), MaxValueValidator(0.25)],
        help_text=_("The gap to the edges as a share of the result's width: 0 to 0.25."),
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("watermark settings")
        verbose_name_plural = _("watermark settings")

    def __str__(self) -> str:
        return str(_("Watermark settings"))

    @classmethod
    def load(cls) -> WatermarkSettings:
        settings_row, _created = cls.objects.get_or_create(pk=1)
        return settings_row


class FunnelEvent(models.Model):
    """An add-to-cart reported by the shop (``track_add_to_cart``), for the funnel chart."""

    class Kind(models.TextChoices):
        ADDED_TO_CART = "added_to_cart", _("Added to cart")

    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    shopper_key = models.CharField(_("shopper key"), max_length=64, db_index=True)
    content_type = models.ForeignKey(
        ContentType, on_delete=models.CASCADE, verbose_name=_("product model")
    )
    object_id = models.CharField(_("product id"), max_length=255)
    try_on = models.ForeignKey(
        "TryOn",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="funnel_events",
        verbose_name=_("after try-on"),
    )
    created_at = models.DateTimeField(_("at"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("funnel event")
        verbose_name_plural = _("funnel events")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.kind} {self.object_id}"


# -- Batch processing: catalog images ---------------------------------------------------


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
