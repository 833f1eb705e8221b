"""A shopper's photo, received: normalised in the request, or by the worker before it is sent.

Decoding and re-encoding a phone photo costs a web process 30-60 ms of CPU, which under a
crowd of shoppers is what sets the storefront's slowest answers. So when a worker runs the
tasks (``PHOTO_NORMALISE`` ``"auto"``, or ``"worker"``), a JPEG that passes every check
made without decoding (size, type, pixel count, smallest edge) is stored as it came, under
``genlook/photos/incoming/`` in ``PHOTOS_STORAGE``, and the submission task normalises it
before anything is sent to Genlook; the file as uploaded (its EXIF included) is deleted
then, and never leaves the shop. A JPEG that turns out not to decode fails its try-on
with the code and message the request would have answered (``PHOTO_INVALID``).
Other formats (PNG, WebP, HEIC: not what the widget sends) are normalised in the request.
Without a worker (the task runs inside the request anyway) everything is normalised in
the request, as before.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import IO

from django.utils import timezone

from genlook_django import jobs
from genlook_django.conf import genlook_settings
from genlook_django.models import ShopperPhoto
from genlook_django.services import files
from genlook_django.services.tryons import photos

logger = logging.getLogger("genlook_django.photos")

MODES = ("auto", "request", "worker")
# The worker waits for a slot of the photo pipeline rather than refusing: the shopper's
# request was answered long ago.
WORKER_SLOT_WAIT = 60.0


def deferred() -> bool:
    """Whether an upload's decoding is left to the worker (``PHOTO_NORMALISE``)."""
    mode = genlook_settings.PHOTO_NORMALISE
    if mode == "worker":
        return True
    return mode == "auto" and not jobs.runs_inline()


def receive(photo_file: bytes | IO[bytes]) -> photos.NormalisedPhoto | photos.Received:
    """The upload checked (and normalised, unless a worker will); raises ``PhotoError``."""
    if not deferred():
        return photos.normalise(photo_file)
    received = photos.inspect(photo_file)
    if received.source_format != photos.JPEG:
        return photos.normalise(received.content)
    return received


def save(shopper_key: str, photo: photos.NormalisedPhoto | photos.Received) -> ShopperPhoto:
    """The ``ShopperPhoto`` for what ``receive`` gave, its file in ``PHOTOS_STORAGE``."""
    normalised = isinstance(photo, photos.NormalisedPhoto)
    row = ShopperPhoto(
        shopper_key=shopper_key,
        width=photo.width,
        height=photo.height,
        size_bytes=len(photo.content),
        source_format=photo.source_format,
        normalised_at=timezone.now() if normalised else None,
    )
    folder = "genlook/photos/" if normalised else "genlook/photos/incoming/"
    row.file_name = files.save(
        files.photos_storage(), f"{folder}{row.public_id}.jpg", photo.content
    )
    row.save()
    return row


def ensure_normalised(photo: ShopperPhoto) -> ShopperPhoto:
    """The photo, normalised (at once if it already is); raises ``PhotoError`` when the
    stored upload cannot be decoded. Safe to run twice at once: one result is kept."""
    if photo.normalised_at is not None:
        return photo
    storage = files.photos_storage()
    with storage.open(photo.file_name, "rb") as stored:
        uploaded = stored.read()
    limits = dataclasses.replace(photos.PhotoLimits.from_settings(), wait=WORKER_SLOT_WAIT)
    normalised = photos.normalise(uploaded, limits)
    name = files.save(storage, f"genlook/photos/{photo.public_id}.jpg", normalised.content)
    fields = {
        "file_name": name,
        "width": normalised.width,
        "height": normalised.height,
        "size_bytes": len(normalised.content),
        "normalised_at": timezone.now(),
    }
    if not ShopperPhoto.objects.filter(pk=photo.pk, normalised_at__isnull=True).update(**fields):
        files.delete_quietly(storage, name)  # normalised meanwhile by someone else
        photo.refresh_from_db()
        return photo
    files.delete_quietly(storage, photo.file_name)  # the upload as it came, EXIF and all
    for field, value in fields.items():
        setattr(photo, field, value)
    return photo


def shown(photo: ShopperPhoto) -> ShopperPhoto | None:
    """The photo fit to show its shopper (normalised first if the worker has yet to), or
    None when the stored upload cannot be decoded (it is then deleted)."""
    try:
        return ensure_normalised(photo)
    except photos.PhotoError:
        discard(photo)
        return None


def discard(photo: ShopperPhoto) -> None:
    """Delete a stored upload that turned out not to decode (its try-ons lose it)."""
    logger.info("Shopper photo %s could not be decoded: deleted", photo.public_id)
    files.delete_quietly(files.photos_storage(), photo.file_name)
    ShopperPhoto.objects.filter(pk=photo.pk).delete()
