"""Storefront try-ons: accept a shopper's request, submit it to Genlook, erase it on demand.

``start`` (in the web request): consent, availability, quotas, the photo pipeline, then a
``TryOn`` row (``received``) whose submission is enqueued when the transaction commits.

``submit`` (in the Celery task): the photo is uploaded once per shopper and its ``imageId``
reused until it expires; the try-on is created reference-first (``tryons.products.create_try_on``:
the product goes inline on ``PRODUCT_NOT_FOUND``), with ``externalUserId`` = the shopper
key, the watermark flag (the admin's, or ``WATERMARK``: ``watermark.genlook_watermark``)
and ``KEEP_FOR_DAYS``. With a worker it uses ``/try-on/sync``
and ingests the result at once (or leaves the rest to the poll task on a 202); run eagerly
inside a request it uses the asynchronous ``/try-on`` and the status view polls through.

A create that may have reached Genlook (a lost answer: ``may_have_been_processed``) is never
sent again: the try-on fails with ``SUBMISSION_UNCERTAIN`` and the shopper may try again on
purpose. A 402 fails it with ``INSUFFICIENT_CREDITS``, sends ``credits_exhausted`` and
pauses new try-ons for ``CREDITS_RETRY_AFTER`` seconds.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import IO, Any

from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from genlook_django import jobs, registry
from genlook_django.client import (
    AuthenticationError,
    GenlookClient,
    GenlookError,
    ImageFile,
    InsufficientCreditsError,
    PermissionDeniedError,
    ValidationError,
)
from genlook_django.conf import genlook_settings
from genlook_django.models import ShopperPhoto, TryOn, UsageRecord
from genlook_django.services import files, watermark, webhooks
from genlook_django.services.genlook import get_client
from genlook_django.services.tryons import photos, products, quotas, results, shoppers, status_wait
from genlook_django.signals import credits_exhausted, tryon_completed, tryon_failed

logger = logging.getLogger("genlook_django.tryons")

State = TryOn.State
CREDITS = "INSUFFICIENT_CREDITS"
IMAGE_ID_MARGIN = timedelta(hours=1)  # re-upload a little before Genlook forgets the photo
# What Genlook says about a photo it will not use.
PHOTO_REJECTIONS = {"INVALID_IMAGE", "FILE_TOO_LARGE", "CUSTOMER_IMAGE_FETCH_FAILED"}


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
    """The registered, try-on-able product a reference names; ``TryOnRefused`` otherwise."""
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
    except (ValueError, TypeError):  # a pk of the wrong type
        product = None
    try:
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


def credits_paused_until() -> datetime | None:
    """While set, new try-ons are refused: Genlook answered 402 less than
    ``CREDITS_RETRY_AFTER`` seconds ago."""
    last = (
        TryOn.objects.filter(error_code=CREDITS, finished_at__isnull=False)
        .order_by("-finished_at")
        .values_list("finished_at", flat=True)
        .first()
    )
    if last is None:
        return None
    until = last + timedelta(seconds=float(genlook_settings.CREDITS_RETRY_AFTER))
    return until if until > timezone.now() else None


def credits_alert() -> datetime | None:
    """When Genlook last answered 402, if no try-on has completed since (for the admin)."""
    last = (
        TryOn.objects.filter(error_code=CREDITS, finished_at__isnull=False)
        .order_by("-finished_at")
        .values_list("finished_at", flat=True)
        .first()
    )
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
        if not photo_erasure_owed(photo):  # not one its shopper asked to delete
            return photo
    return None


def save_photo(shopper_key: str, normalised: photos.NormalisedPhoto) -> ShopperPhoto:
    photo = ShopperPhoto(
        shopper_key=shopper_key,
        width=normalised.width,
        height=normalised.height,
        size_bytes=len(normalised.content),
        source_format=normalised.source_format,
    )
    photo.file_name = files.save(
        files.photos_storage(), f"genlook/photos/{photo.public_id}.jpg", normalised.content
    )
    photo.save()
    return photo


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
        normalised = photos.normalise(photo_file) if upload else None
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
            photo = save_photo(shopper_key, normalised) if normalised is not None else reused
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


# -- Submitting (the Celery task) ------------------------------------------------------------


def ensure_uploaded(photo: ShopperPhoto, client: GenlookClient, *, force: bool = False) -> str:
    """The photo's Genlook ``imageId``: the stored one while it lives, else a fresh upload."""
    now = timezone.now()
    expires = photo.genlook_image_expires_at
    if photo.genlook_image_id and not force and expires and expires > now + IMAGE_ID_MARGIN:
        ShopperPhoto.objects.filter(pk=photo.pk).update(last_used_at=now)
        return photo.genlook_image_id
    with files.photos_storage().open(photo.file_name, "rb") as stored:
        content = stored.read()
    keep_for_days = genlook_settings.KEEP_FOR_DAYS
    uploaded = client.upload_image(
        ImageFile(content, filename="photo.jpg", content_type="image/jpeg"),
        external_user_id=photo.shopper_key,
        keep_for_days=keep_for_days,
    )
    # Without KEEP_FOR_DAYS the account's retention applies, which may be one day.
    photo.genlook_image_id = uploaded.image_id
    photo.genlook_image_expires_at = now + timedelta(days=keep_for_days or 1)
    photo.last_used_at = now
    ShopperPhoto.objects.filter(pk=photo.pk).update(
        genlook_image_id=photo.genlook_image_id,
        genlook_image_expires_at=photo.genlook_image_expires_at,
        last_used_at=now,
    )
    return uploaded.image_id


def _person_rejected(error: GenlookError) -> bool:
    """Genlook refused the ``imageId`` (expired, erased): a validation error on ``person``."""
    return isinstance(error, ValidationError) and any(
        str(detail.get("path", "")).startswith(("person", "customer")) for detail in error.details
    )


def _create(
    try_on: TryOn,
    product: models.Model,
    image_id: str,
    *,
    wait: bool,
    client: Any,
    webhook_url: str | None = None,
):
    # webhook_url only when WEBHOOKS is on and PUBLIC_BASE_URL is set (webhooks.py).
    options: dict[str, Any] = {"webhook_url": webhook_url} if webhook_url else {}
    return products.create_try_on(
        product,
        person=image_id,
        wait=wait,
        client=client,
        external_user_id=try_on.shopper_key,
        watermark=watermark.genlook_watermark(),
        keep_for_days=genlook_settings.KEEP_FOR_DAYS,
        **options,
    )


def submit(
    try_on_id: int,
    *,
    wait: bool,
    client: GenlookClient | None = None,
    raise_transient: bool = False,
) -> str:
    """Send one ``received`` try-on to Genlook; returns what is left to do: ``"done"``
    (final already), ``"poll"`` (pending: someone must ask for the result), ``"elsewhere"``
    (another delivery of the task is sending it) or ``"missing"``.

    ``wait`` uses ``/try-on/sync``. With ``raise_transient`` a transient failure that
    certainly created nothing (5xx before processing, 429, no connection) puts the try-on
    back to ``received`` and is re-raised, for Celery to retry; otherwise it fails the
    try-on with ``GENLOOK_UNAVAILABLE``.

    A task redelivered after its worker died finds the try-on ``submitting``: it goes on
    if the create had not left yet (``create_sent_at`` empty), and fails it
    ``SUBMISSION_INTERRUPTED`` if it had, since sending it again could be paid twice.
    """
    claimed = TryOn.objects.filter(pk=try_on_id, state=State.RECEIVED).update(
        state=State.SUBMITTING
    )
    try_on = TryOn.objects.select_related("photo", "content_type").filter(pk=try_on_id).first()
    if try_on is None:
        return "missing"
    if not claimed:
        if try_on.state != State.SUBMITTING:
            return "done" if try_on.is_final else "poll"
        if try_on.create_sent_at is not None:
            results.fail(
                try_on,
                "SUBMISSION_INTERRUPTED",
                "The submission was interrupted after it may have reached Genlook; it is "
                "not sent again, to avoid paying twice.",
            )
            return "done"
        logger.info("Submission of %s interrupted before its create: going on", try_on.public_id)

    product = try_on.product
    photo = try_on.photo
    if product is None or photo is None:
        code = "PRODUCT_UNAVAILABLE" if product is None else "PHOTO_DELETED"
        results.fail(try_on, code, "The product or the photo was deleted before submission.")
        return "done"
    client = client or get_client()

    # 1. The photo, uploaded once (free, and safe to send again).
    try:
        image_id = ensure_uploaded(photo, client)
    except FileNotFoundError:
        results.fail(try_on, "PHOTO_DELETED", "The stored photo is missing.")
        return "done"
    except results.TRANSIENT_ERRORS as exc:
        return _transient(try_on, exc, raise_transient)
    except GenlookError as exc:
        return _rejected(try_on, exc)

    # 2. The try-on: reference first, the product inline on PRODUCT_NOT_FOUND; with
    # WEBHOOKS, a fresh per-try-on webhook URL (only its token's hash is kept).
    # Marked first: a submission that is not the one sending the create must not replace
    # the webhook token of the one that is.
    if not _mark_create_sent(try_on):
        return "elsewhere"
    hook = webhooks.url_for_submission(try_on)
    try:
        try:
            generation = _create(
                try_on, product, image_id, wait=wait, client=client, webhook_url=hook
            )
        except ValidationError as exc:
            if not _person_rejected(exc):
                raise
            logger.info("Genlook refused imageId of photo %s: uploading again", photo.pk)
            image_id = ensure_uploaded(photo, client, force=True)
            generation = _create(
                try_on, product, image_id, wait=wait, client=client, webhook_url=hook
            )
    except InsufficientCreditsError as exc:
        if results.fail(try_on, CREDITS, str(exc)):
            logger.warning("Genlook has no credits left: try-ons paused (%s)", exc)
            credits_exhausted.send(sender=TryOn, try_on=try_on, error=exc)
        return "done"
    except GenlookError as exc:
        if exc.may_have_been_processed:
            results.fail(
                try_on,
                "SUBMISSION_UNCERTAIN",
                f"Genlook may have accepted this try-on but its answer was lost ({exc}); "
                "it is not sent again, to avoid paying twice.",
            )
            return "done"
        if isinstance(exc, results.TRANSIENT_ERRORS):
            return _transient(try_on, exc, raise_transient)
        return _rejected(try_on, exc)
    except Exception as exc:  # the adapter, the database: recorded, not left hanging
        logger.exception("Try-on %s could not be submitted", try_on.public_id)
        results.fail(try_on, "SUBMISSION_ERROR", f"{type(exc).__name__}: {exc}")
        return "done"

    now = timezone.now()
    pending = TryOn.objects.filter(pk=try_on.pk, state=State.SUBMITTING).update(
        state=State.PENDING,
        generation_id=generation.id,
        product_external_id=(generation.product_external_id or try_on.product_external_id)[:255],
        submitted_at=now,
        last_checked_at=now,
        raw=generation.raw,
    )
    if pending:
        status_wait.notify(try_on.pk)
    try_on.state, try_on.generation_id = State.PENDING, generation.id
    if generation.is_finished:  # /try-on/sync's 200
        try:
            results.ingest(try_on, generation, client=client)
        except results.TRANSIENT_ERRORS as exc:
            logger.info("Result of %s not downloaded yet: %s", try_on.public_id, exc)
            return "poll"
        return "done"
    return "poll"


def _mark_create_sent(try_on: TryOn) -> bool:
    """Whether this submission may send the create: only one may, once. Committed before
    the request leaves, so a crash afterwards is known to have perhaps reached Genlook."""
    now = timezone.now()
    marked = TryOn.objects.filter(
        pk=try_on.pk, state=State.SUBMITTING, create_sent_at__isnull=True
    ).update(create_sent_at=now)
    if marked:
        try_on.create_sent_at = now
    return bool(marked)


def _transient(try_on: TryOn, error: Exception, raise_transient: bool) -> str:
    if raise_transient:
        # Nothing was created: the retry may send the create again.
        TryOn.objects.filter(pk=try_on.pk, state=State.SUBMITTING).update(
            state=State.RECEIVED, create_sent_at=None
        )
        raise error
    results.fail(try_on, "GENLOOK_UNAVAILABLE", str(error))
    return "done"


def _rejected(try_on: TryOn, error: GenlookError) -> str:
    if isinstance(error, AuthenticationError | PermissionDeniedError):
        logger.error("Genlook refused the API key: %s", error)
        code = "CONFIGURATION_ERROR"
    elif error.code in PHOTO_REJECTIONS or _person_rejected(error):
        code = "PHOTO_REJECTED"
    else:
        code = error.code or type(error).__name__
    results.fail(try_on, code, str(error))
    return "done"


# -- Erasure -----------------------------------------------------------------------------------


# Genlook erases by customer only, and a customer erased while one of its generations runs
# loses only what is finished: the running one completes *detached* from the customer, and no
# later erasure reaches it. So nothing is erased at Genlook while the shopper has a try-on
# in flight: the erasure is owed, and made when their last open try-on ends (a
# tryon_completed / tryon_failed receiver; the poll task, the status view, the reconciler
# or RESULT_TIMEOUT end every open try-on). A try-on erased while in flight is *withdrawn*
# (hidden from its shopper, consent_version "withdrawn") and deleted when it ends; a photo
# still used by an open try-on is deleted when the last of them ends.
#
# What is owed is kept as UsageRecord rows of these kinds; purge_expired of the quotas
# leaves them alone.
WITHDRAWN = "withdrawn"
ERASURE_OWED = UsageRecord.Kind.ERASURE_OWED  # shopper_key: the shopper to erase at Genlook
PHOTO_ERASURE_OWED = UsageRecord.Kind.PHOTO_ERASURE_OWED  # shopper_key: "p_" + photo id


def _photo_marker(photo_public_id: Any) -> str:
    return f"p_{getattr(photo_public_id, 'hex', photo_public_id)}"


def _open(**filters: Any) -> bool:
    return TryOn.objects.filter(state__in=results.OPEN_STATES, **filters).exists()


def photo_erasure_owed(photo: ShopperPhoto) -> bool:
    """The shopper asked for this photo to go; it waits for a try-on that still uses it."""
    return UsageRecord.objects.filter(
        kind=PHOTO_ERASURE_OWED, shopper_key=_photo_marker(photo.public_id)
    ).exists()


def erase_photo(photo: ShopperPhoto) -> None:
    """Delete a shopper's photo (file and row; try-ons that used it keep their result) and
    erase what Genlook holds for the shopper. Both wait while a try-on is in flight: the
    photo while an open try-on uses it, Genlook's erasure while the shopper has one."""
    shopper_key = photo.shopper_key
    _erase_photo_when_unused(photo)
    _erase_remote_when_idle(shopper_key)


def erase_try_on(try_on: TryOn) -> None:
    """The shopper's "delete": the try-on, its result, its photo, and Genlook's copies.

    A try-on not sent yet is deleted before its submission can start; one in flight
    (``submitting``, ``pending``) is withdrawn, and deleted when it ends. The photo waits
    for any other open try-on using it, Genlook's erasure for the shopper's open try-ons.
    """
    shopper_key = try_on.shopper_key
    photo = ShopperPhoto.objects.filter(pk=try_on.photo_id).first() if try_on.photo_id else None
    if not _withdraw(try_on):
        result_file = (
            TryOn.objects.filter(pk=try_on.pk).values_list("result_file", flat=True).first()
        )
        files.delete_quietly(files.results_storage(), result_file or try_on.result_file)
        TryOn.objects.filter(pk=try_on.pk).delete()
    if photo is not None:
        _erase_photo_when_unused(photo)
    _erase_remote_when_idle(shopper_key)


def _withdraw(try_on: TryOn) -> bool:
    """True if the try-on is in flight and now withdrawn (kept until it ends)."""
    if try_on.is_final:
        return False
    _total, deleted = TryOn.objects.filter(pk=try_on.pk, state=State.RECEIVED).delete()
    if deleted.get(TryOn._meta.label):
        return False  # gone before its submission could claim it: nothing was sent
    withdrawn = TryOn.objects.filter(
        pk=try_on.pk, state__in=(State.SUBMITTING, State.PENDING)
    ).update(consent_version=WITHDRAWN)
    if withdrawn:
        logger.info("Try-on %s withdrawn while in flight: erased once it ends", try_on.public_id)
    return bool(withdrawn)


def _owe(kind: str, key: str) -> None:
    if not UsageRecord.objects.filter(kind=kind, shopper_key=key).exists():
        UsageRecord.objects.create(kind=kind, shopper_key=key)


def _settle(kind: str, key: str) -> bool:
    """Take what is owed (True once, for whoever deletes the record)."""
    deleted, _by_model = UsageRecord.objects.filter(kind=kind, shopper_key=key).delete()
    return bool(deleted)


def _delete_photo(photo: ShopperPhoto) -> None:
    files.delete_quietly(files.photos_storage(), photo.file_name)
    ShopperPhoto.objects.filter(pk=photo.pk).delete()
    _settle(PHOTO_ERASURE_OWED, _photo_marker(photo.public_id))


def _erase_photo_when_unused(photo: ShopperPhoto) -> None:
    if not _open(photo_id=photo.pk):
        _delete_photo(photo)
        return
    _owe(PHOTO_ERASURE_OWED, _photo_marker(photo.public_id))
    if not _open(photo_id=photo.pk):  # its last try-on ended meanwhile
        _delete_photo(photo)


def _erase_remote_when_idle(shopper_key: str) -> None:
    if not _open(shopper_key=shopper_key):
        _erase_remote_on_commit(shopper_key)
        return
    _owe(ERASURE_OWED, shopper_key)
    logger.info("Erasure of %s… at Genlook waits for its open try-ons", shopper_key[:8])
    if not _open(shopper_key=shopper_key) and _settle(ERASURE_OWED, shopper_key):
        _erase_remote_on_commit(shopper_key)  # they ended meanwhile


def settle_owed_erasures(shopper_key: str | None = None) -> int:
    """Make the erasures owed to shoppers (all, or ``shopper_key``'s) who have no open
    try-on any more; returns how many were enqueued. Run when a try-on ends; safe to run
    any time (e.g. after the reconciler)."""
    owed = UsageRecord.objects.filter(kind=ERASURE_OWED)
    if shopper_key is not None:
        owed = owed.filter(shopper_key=shopper_key)
    enqueued = 0
    for key in set(owed.values_list("shopper_key", flat=True)):
        if not _open(shopper_key=key) and _settle(ERASURE_OWED, key):
            _erase_remote_on_commit(key)
            enqueued += 1
    return enqueued


def _on_try_on_ended(sender: Any, try_on: TryOn, **kwargs: Any) -> None:
    """``tryon_completed`` / ``tryon_failed``: delete a withdrawn try-on, and make the
    photo deletion and the Genlook erasure that waited for it."""
    try:
        row = (
            TryOn.objects.filter(pk=try_on.pk)
            .values("shopper_key", "consent_version", "result_file", "photo_id")
            .first()
        )
        if row is None:
            return
        if row["consent_version"] == WITHDRAWN:
            files.delete_quietly(files.results_storage(), row["result_file"])
            TryOn.objects.filter(pk=try_on.pk).delete()
        photo = ShopperPhoto.objects.filter(pk=row["photo_id"]).first() if row["photo_id"] else None
        if photo is not None and photo_erasure_owed(photo) and not _open(photo_id=photo.pk):
            _delete_photo(photo)
        if row["shopper_key"]:
            settle_owed_erasures(row["shopper_key"])
    except Exception:  # never in the way of recording the result itself
        logger.exception("Erasures waiting for try-on %s could not be made", try_on.public_id)


def connect_signals() -> None:
    """Called when the app is ready: owed erasures follow the try-ons' ends, and a visitor
    who signs in keeps their try-ons."""
    tryon_completed.connect(_on_try_on_ended, dispatch_uid="genlook_django.tryons.completed")
    tryon_failed.connect(_on_try_on_ended, dispatch_uid="genlook_django.tryons.failed")
    shoppers.connect_login_adoption()


def _erase_remote_on_commit(shopper_key: str) -> None:
    # Genlook erases by customer only: every upload of this shopper goes, so the photos
    # left here must be uploaded again before their next use.
    ShopperPhoto.objects.filter(shopper_key=shopper_key).update(
        genlook_image_id="", genlook_image_expires_at=None
    )

    jobs.enqueue_on_commit("genlook.erase_shopper_at_genlook", shopper_key)


def erase_at_genlook(shopper_key: str, *, client: GenlookClient | None = None) -> None:
    """``DELETE /customers/{shopper_key}`` (idempotent at Genlook), and the same for every
    key the shopper had before signing in (``shoppers.aliases``), forgotten once erased."""
    client = client or get_client()
    old_keys = shoppers.aliases(shopper_key)
    client.delete_customer(shopper_key)
    for old_key in old_keys:
        client.delete_customer(old_key)
    if old_keys:
        shoppers.forget_aliases(shopper_key, old_keys)
