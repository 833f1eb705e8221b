"""A shopper's "delete": their try-on or photo, here and at Genlook.

Genlook erases by customer only, and a customer erased while one of its generations runs
loses only what is finished: the running one completes *detached* from the customer, and
no later erasure reaches it. So nothing is erased at Genlook while the shopper has a
try-on in flight: the erasure is owed (an ``ErasureDebt``), and made when their last open
try-on ends (a ``tryon_completed`` / ``tryon_failed`` receiver; the poll task, the status
view, the reconciler or ``RESULT_TIMEOUT`` end every open try-on).

A try-on erased while in flight is *withdrawn* (``TryOn.withdrawn_at``: hidden from its
shopper) and deleted when it ends; a photo still used by an open try-on is marked
(``ShopperPhoto.erasure_requested_at``: hidden too) and deleted when the last of them ends.
"""

from __future__ import annotations

import logging
from typing import Any

from django.utils import timezone

from genlook_django import jobs
from genlook_django.client import GenlookClient
from genlook_django.conf import genlook_settings
from genlook_django.models import ErasureDebt, ShopperPhoto, TryOn
from genlook_django.services import files, ledger
from genlook_django.services.genlook import get_client
from genlook_django.services.tryons import results, shoppers
from genlook_django.signals import tryon_completed, tryon_failed

logger = logging.getLogger("genlook_django.tryons")

State = TryOn.State


def _open(**filters: Any) -> bool:
    return TryOn.objects.filter(state__in=results.OPEN_STATES, **filters).exists()


def photo_erasure_owed(photo: ShopperPhoto) -> bool:
    """The shopper asked for this photo to go; it waits for a try-on that still uses it."""
    return ShopperPhoto.objects.filter(pk=photo.pk, erasure_requested_at__isnull=False).exists()


def erase_photo(photo: ShopperPhoto) -> None:
    """Delete a shopper's photo (file and row; try-ons that used it keep their result) and
    erase what Genlook holds for the shopper. Both wait while a try-on is in flight: the
    photo while an open try-on uses it, Genlook's erasure while the shopper has one."""
    shopper_key = photo.shopper_key
    erase_photo_when_unused(photo)
    erase_remote_when_idle(shopper_key)


def erase_try_on(try_on: TryOn) -> None:
    """The shopper's "delete": the try-on, its result, its photo, and Genlook's copies.

    A try-on not sent yet is deleted before its submission can start; one in flight
    (``submitting``, ``pending``) is withdrawn, and deleted when it ends. The photo waits
    for any other open try-on using it, Genlook's erasure for the shopper's open try-ons.
    """
    shopper_key = try_on.shopper_key
    photo = ShopperPhoto.objects.filter(pk=try_on.photo_id).first() if try_on.photo_id else None
    if not withdraw(try_on):
        result_file = (
            TryOn.objects.filter(pk=try_on.pk).values_list("result_file", flat=True).first()
        )
        files.delete_quietly(files.results_storage(), result_file or try_on.result_file)
        ledger.erased([try_on.pk])
        TryOn.objects.filter(pk=try_on.pk).delete()
    if photo is not None:
        erase_photo_when_unused(photo)
    erase_remote_when_idle(shopper_key)


def withdraw(try_on: TryOn) -> bool:
    """True if the try-on is in flight and now withdrawn (kept until it ends)."""
    if try_on.is_final:
        return False
    _total, deleted = TryOn.objects.filter(pk=try_on.pk, state=State.RECEIVED).delete()
    if deleted.get(TryOn._meta.label):
        return False  # gone before its submission could claim it: nothing was sent
    withdrawn = TryOn.objects.filter(
        pk=try_on.pk, state__in=(State.SUBMITTING, State.PENDING)
    ).update(withdrawn_at=timezone.now())
    if withdrawn:
        logger.info("Try-on %s withdrawn while in flight: erased once it ends", try_on.public_id)
    return bool(withdrawn)


def _settle(shopper_key: str) -> bool:
    """Take the erasure owed to the shopper (True once, for whoever deletes the debt)."""
    deleted, _by_model = ErasureDebt.objects.filter(shopper_key=shopper_key).delete()
    return bool(deleted)


def _delete_photo(photo: ShopperPhoto) -> None:
    files.delete_quietly(files.photos_storage(), photo.file_name)
    ShopperPhoto.objects.filter(pk=photo.pk).delete()


def erase_photo_when_unused(photo: ShopperPhoto) -> None:
    if not _open(photo_id=photo.pk):
        _delete_photo(photo)
        return
    ShopperPhoto.objects.filter(pk=photo.pk, erasure_requested_at__isnull=True).update(
        erasure_requested_at=timezone.now()
    )
    if not _open(photo_id=photo.pk):  # its last try-on ended meanwhile
        _delete_photo(photo)


def erase_remote_when_idle(shopper_key: str) -> None:
    if not _open(shopper_key=shopper_key):
        _erase_remote_on_commit(shopper_key)
        return
    ErasureDebt.objects.get_or_create(shopper_key=shopper_key)
    logger.info("Erasure of %s… at Genlook waits for its open try-ons", shopper_key[:8])
    if not _open(shopper_key=shopper_key) and _settle(shopper_key):
        _erase_remote_on_commit(shopper_key)  # they ended meanwhile


def settle_owed_erasures(shopper_key: str | None = None) -> int:
    """Make the erasures owed to shoppers (all, or ``shopper_key``'s) who have no open
    try-on any more; returns how many were enqueued. Run when a try-on ends; safe to run
    any time (e.g. after the reconciler)."""
    owed = ErasureDebt.objects.all()
    if shopper_key is not None:
        owed = owed.filter(shopper_key=shopper_key)
    enqueued = 0
    for key in list(owed.values_list("shopper_key", flat=True)):
        if not _open(shopper_key=key) and _settle(key):
            _erase_remote_on_commit(key)
            enqueued += 1
    return enqueued


def _on_try_on_ended(sender: Any, try_on: TryOn, **kwargs: Any) -> None:
    """``tryon_completed`` / ``tryon_failed``: delete a withdrawn try-on, and make the
    photo deletion and the Genlook erasure that waited for it."""
    try:
        row = (
            TryOn.objects.filter(pk=try_on.pk)
            .values("shopper_key", "withdrawn_at", "result_file", "photo_id")
            .first()
        )
        if row is None:
            return
        if row["withdrawn_at"] is not None:
            files.delete_quietly(files.results_storage(), row["result_file"])
            ledger.erased([try_on.pk])
            TryOn.objects.filter(pk=try_on.pk).delete()
        owed_photo = ShopperPhoto.objects.filter(
            pk=row["photo_id"], erasure_requested_at__isnull=False
        ).first()
        if owed_photo is not None and not _open(photo_id=owed_photo.pk):
            _delete_photo(owed_photo)
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
    key the shopper had before signing in (``shoppers.aliases``), forgotten once erased.

    The classic API has no such endpoint: nothing is sent, and the log says what stays at
    Genlook (the results, for the account's retention; the photo was only ever a link)."""
    if genlook_settings.classic:
        logger.warning(
            "Shopper erasure: the classic API has no customer deletion, so the try-on "
            "results Genlook made stay there for the account's retention; the photos "
            "were only offered as expiring links and are deleted here."
        )
        return
    client = client or get_client()
    old_keys = shoppers.aliases(shopper_key)
    client.delete_customer(shopper_key)
    for old_key in old_keys:
        client.delete_customer(old_key)
    if old_keys:
        shoppers.forget_aliases(shopper_key, old_keys)
