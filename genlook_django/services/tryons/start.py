"""Storefront try-ons: accept a shopper's request (the web request), erase it on demand.

``start``: consent, availability, quotas, the photo pipeline, then a ``TryOn`` row
(``received``) whose submission (``submission.submit_try_on``, in a task) is enqueued
when the transaction commits. ``retry``: the merchant's retry of a failed try-on, the same
way. While Genlook's last answer was a 402 (less than ``CREDITS_RETRY_AFTER`` seconds ago)
new try-ons are refused.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import IO, Any

from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from genlook_django import jobs
from genlook_django.conf import genlook_settings
from genlook_django.models import ShopperPhoto, TryOn
from genlook_django.services import files
from genlook_django.services.catalog import registry
from genlook_django.services.tryons import intake, photos, quotas, results
from genlook_django.services.tryons.erasure import photo_erasure_owed

logger = logging.getLogger("genlook_django.tryons")

State = TryOn.State
CREDITS = "INSUFFICIENT_CREDITS"


class TryOnRefused(Exception):
    """The storefront will not start this try-on. ``message`` is safe for the shopper."""

    def __init__(self, code: str, message: Any, status: int = 400) -> None:
        super().__init__(str(message))
        self.code = code
        self.message = message
        self.status = status


# -- Products --------------------------------------------------------------------------------


def product_reference(product: models.Model) -> str:
    """How the storefront names a product: ``"<app_label>.<model>:<pk>"``."""
    return f"{registry.get_adapter(product).label}:{product.pk}"


def resolve_product(reference: str) -> models.Model:
    """The registered, try-on-able product a reference names (for a variant, the product
    it is tried on as); ``TryOnRefused`` otherwise."""
    label, _sep, pk = (reference or "").partition(":")
    unavailable = TryOnRefused(
        "PRODUCT_UNAVAILABLE", _("This product cannot be tried on."), status=404
    )
    if not label or not pk:
        raise unavailable
    try:
        adapter = registry.get_adapter(label)
    except (registry.NotRegistered, LookupError, ValueError):
        raise unavailable from None
    try:
        product = adapter.get_queryset().filter(pk=pk).first()
        if product is None:  # a variant, kept out of the synced products: its product
            variant = adapter.model._default_manager.filter(pk=pk).first()
            if variant is not None and adapter.variant_of(variant) is not None:
                product = variant
    except (ValueError, TypeError):  # a pk of the wrong type
        product = None
    try:
        if product is not None:
            product = registry.get_tryon_product(product)  # a variant: its product
            adapter = registry.get_adapter(product)
        if product is None or not adapter.should_sync(product):
            raise unavailable
        adapter.get_external_id(product)
    except TryOnRefused:
        raise
    except Exception as exc:  # the adapter cannot describe it: not try-on-able
        logger.warning("Product %s cannot be tried on: %s", reference, exc)
        raise unavailable from exc
    return product


# -- Availability and photos -----------------------------------------------------------------


def _last_credits_refusal() -> datetime | None:
    """When Genlook last answered 402 to a try-on."""
    return (
        TryOn.objects.filter(error_code=CREDITS, finished_at__isnull=False)
        .order_by("-finished_at")
        .values_list("finished_at", flat=True)
        .first()
    )


def credits_paused_until() -> datetime | None:
    """While set, new try-ons are refused: Genlook answered 402 less than
    ``CREDITS_RETRY_AFTER`` seconds ago."""
    last = _last_credits_refusal()
    if last is None:
        return None
    until = last + timedelta(seconds=float(genlook_settings.CREDITS_RETRY_AFTER))
    return until if until > timezone.now() else None


def credits_alert() -> datetime | None:
    """When Genlook last answered 402, if no try-on has completed since (for the admin)."""
    last = _last_credits_refusal()
    if last is None:
        return None
    if TryOn.objects.filter(state=State.COMPLETED, finished_at__gt=last).exists():
        return None
    return last


def last_photo(shopper_key: str) -> ShopperPhoto | None:
    """The shopper's newest photo still offered for reuse (``PHOTO_REUSE_DAYS``)."""
    since = timezone.now() - timedelta(days=float(genlook_settings.PHOTO_REUSE_DAYS))
    recent = ShopperPhoto.objects.filter(shopper_key=shopper_key, created_at__gte=since)
    for photo in recent.order_by("-created_at")[:5]:
        if not photo_erasure_owed(photo) and (shown := intake.shown(photo)) is not None:
            return shown
    return None


# -- Starting a try-on (the web request) -----------------------------------------------------


def start(
    *,
    shopper_key: str,
    product: models.Model,
    consent: bool,
    photo_file: bytes | IO[bytes] | None = None,
    reuse_photo: bool = False,
    client_ip: str | None = None,
) -> TryOn:
    """Check and record a try-on, and enqueue its submission on commit.

    With ``reuse_photo`` and no ``photo_file``, the shopper's last photo is used. Raises
    ``TryOnRefused``, ``photos.PhotoError`` or ``quotas.QuotaExceeded``, each with a code
    and a message for the shopper.

    The quotas (the shopper's, ``client_ip``'s network's, the shop's) are reserved before
    the photo is decoded, in their own committed transaction so that parallel requests
    cannot all pass them (``quotas.reserve``): call this outside any transaction.
    """
    if not consent:
        raise TryOnRefused(
            "CONSENT_REQUIRED",
            _("Please agree to the use of your photo for the virtual try-on."),
        )
    if credits_paused_until() is not None:
        raise TryOnRefused(
            "TRY_ON_UNAVAILABLE",
            _("Virtual try-on is temporarily unavailable. Please try again later."),
            status=503,
        )
    upload = photo_file is not None
    reused = None
    if not upload:
        reused = last_photo(shopper_key) if reuse_photo else None
        if reused is None:
            raise TryOnRefused("PHOTO_REQUIRED", _("Please choose a photo of yourself."))
    reservation = quotas.reserve(shopper_key, upload=upload, client_ip=client_ip)
    try:
        received = intake.receive(photo_file) if upload else None
    except photos.PhotoError as exc:
        # A refused photo still counts as an upload (it was decoded), unless the pipeline
        # was too busy to look at it; the try-on is given back.
        reservation.release(uploads=exc.code == photos.BUSY)
        raise
    except BaseException:
        reservation.release()
        raise

    adapter = registry.get_adapter(product)
    try:
        with transaction.atomic():
            photo = intake.save(shopper_key, received) if received is not None else reused
            try_on = TryOn.objects.create(
                shopper_key=shopper_key,
                photo=photo,
                content_type=ContentType.objects.get_for_model(product, for_concrete_model=False),
                object_id=str(product.pk),
                product_external_id=adapter.get_external_id(product)[:255],
                consent_version=str(genlook_settings.CONSENT_VERSION)[:32],
            )
            pk = try_on.pk
            transaction.on_commit(lambda: enqueue_submission(pk))
    except BaseException:
        reservation.release()
        raise
    try_on.refresh_from_db()
    return try_on


def enqueue_submission(try_on_id: int) -> None:
    """Hand the try-on to the task queue (or run it now); if the broker refuses it, the
    try-on fails at once (rather than waiting forever in ``received``)."""
    try:
        jobs.enqueue("genlook.submit_try_on", try_on_id)
    except Exception as exc:
        logger.exception("Could not enqueue the submission of try-on %s", try_on_id)
        try_on = TryOn.objects.filter(pk=try_on_id).first()
        if try_on is not None:
            results.fail(try_on, "GENLOOK_UNAVAILABLE", f"Could not enqueue: {exc}")


def retry(failed: TryOn) -> TryOn:
    """The merchant's "retry" of a failed try-on: a new try-on (``retry_of`` = ``failed``)
    for the same photo and product, under the consent the shopper gave, enqueued on commit.

    It counts against the shop's ``DAILY_TRY_ON_BUDGET`` (and the shopper's try-on count),
    and is refused while credits are paused. Raises ``TryOnRefused`` (a message for the
    merchant) or ``quotas.QuotaExceeded``."""
    if failed.state != State.FAILED:
        raise TryOnRefused("NOT_FAILED", _("Only a failed try-on can be retried."))
    photo = failed.photo
    if photo is None or not files.exists(files.photos_storage(), photo.file_name):
        raise TryOnRefused(
            "PHOTO_DELETED", _("The shopper's photo is no longer kept (erased or purged).")
        )
    product = failed.product
    try:
        product = resolve_product(product_reference(product)) if product is not None else None
    except (TryOnRefused, registry.NotRegistered, LookupError):
        product = None
    if product is None:
        raise TryOnRefused(
            "PRODUCT_UNAVAILABLE", _("The product is gone, hidden or no longer registered.")
        )
    if credits_paused_until() is not None:
        raise TryOnRefused(
            "TRY_ON_UNAVAILABLE",
            _("Genlook has no credits left: top up before retrying."),
            status=503,
        )
    quotas.check_budget()

    with transaction.atomic():
        try_on = TryOn.objects.create(
            shopper_key=failed.shopper_key,
            photo=photo,
            content_type=failed.content_type,
            object_id=failed.object_id,
            product_external_id=registry.get_adapter(product).get_external_id(product)[:255],
            consent_version=failed.consent_version,
            retry_of=failed,
        )
        quotas.record(failed.shopper_key, upload=False)
        pk = try_on.pk
        transaction.on_commit(lambda: enqueue_submission(pk))
    return try_on
