"""Photos at Genlook: each uploaded once, its ``imageId`` reused until it nearly expires.

A shopper's photo goes under the shopper's key (``externalUserId``, which the shopper's
erasure deletes at Genlook) and is cropped to Genlook's 4:5; a batch's model photo goes
under ``BATCH_USER_ID`` (never a shopper's key) with its whole frame (``crop=false``).

The classic API takes no upload: there the photo is offered as a fresh signed link
(``photo_links``) that Genlook fetches itself, and nothing is stored on the photo.
"""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from genlook_django.client import GenlookClient, ImageFile
from genlook_django.conf import genlook_settings
from genlook_django.models import BatchPhoto, ShopperPhoto
from genlook_django.services import files
from genlook_django.services.tryons import photo_links

BATCH_USER_ID = "genlook-batch"  # the batches' photos at Genlook: never a shopper's key
IMAGE_ID_MARGIN = timedelta(hours=1)  # re-upload a little before Genlook forgets the photo


def ensure_uploaded(
    photo: ShopperPhoto | BatchPhoto, client: GenlookClient, *, force: bool = False
) -> str:
    """The photo's Genlook ``imageId``: the stored one while it lives (unless ``force``:
    Genlook refused it), else a fresh upload, remembered on the photo. With the classic
    API: a fresh link to the photo (``photo_links.url_for``)."""
    now = timezone.now()
    shopper = isinstance(photo, ShopperPhoto)
    reused = {"last_used_at": now} if shopper else {}
    if genlook_settings.classic:
        link = photo_links.url_for(photo)
        if reused:
            type(photo).objects.filter(pk=photo.pk).update(**reused)
        return link
    expires = photo.genlook_image_expires_at
    if photo.genlook_image_id and not force and expires and expires > now + IMAGE_ID_MARGIN:
        if reused:
            type(photo).objects.filter(pk=photo.pk).update(**reused)
        return photo.genlook_image_id
    with files.photos_storage().open(photo.file_name, "rb") as stored:
        content = stored.read()
    keep_for_days = genlook_settings.KEEP_FOR_DAYS
    uploaded = client.upload_image(
        ImageFile(content, "photo.jpg" if shopper else "model.jpg", "image/jpeg"),
        crop=shopper,
        external_user_id=photo.shopper_key if shopper else BATCH_USER_ID,
        keep_for_days=keep_for_days,
    )
    # Without KEEP_FOR_DAYS the account's retention applies, which may be one day.
    fields = {
        "genlook_image_id": uploaded.image_id,
        "genlook_image_expires_at": now + timedelta(days=keep_for_days or 1),
        **reused,
    }
    type(photo).objects.filter(pk=photo.pk).update(**fields)
    for name, value in fields.items():
        setattr(photo, name, value)
    return uploaded.image_id
