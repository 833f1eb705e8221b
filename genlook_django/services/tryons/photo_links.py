"""Private, expiring links to a normalised photo, for the classic API to fetch.

The classic API takes the person photo as a URL (``model_image``), not as an upload. The
shop offers it one: ``PUBLIC_BASE_URL`` + ``genlook:photo-link`` + a token signed with the
project's ``SECRET_KEY`` (``django.core.signing``) that names the photo's file in
``PHOTOS_STORAGE`` and stops working ``PHOTO_LINK_MAX_AGE`` seconds after it was made. The
link is the only way to the file: nothing lists photos, and an erased photo's link answers
404.
"""

from __future__ import annotations

from django.core import signing
from django.urls import NoReverseMatch, reverse

from genlook_django.client import GenlookError
from genlook_django.conf import genlook_settings
from genlook_django.models import BatchPhoto, ShopperPhoto
from genlook_django.services import files

SALT = "genlook_django.photo-link"
PREFIX = "genlook/"  # only the app's own files are ever served


class PhotoLinkError(GenlookError):
    """No link can be made: the set-up lacks ``PUBLIC_BASE_URL`` or the app's URLs."""


def url_for(photo: ShopperPhoto | BatchPhoto) -> str:
    """A fresh link to the photo's normalised JPEG, valid ``PHOTO_LINK_MAX_AGE`` seconds."""
    base = genlook_settings.PUBLIC_BASE_URL
    if not base:
        raise PhotoLinkError(
            "The classic API fetches the shopper's photo by URL: set "
            "GENLOOK['PUBLIC_BASE_URL'] to the address the shop is served at.",
            code="PUBLIC_BASE_URL_MISSING",
        )
    token = signing.dumps(photo.file_name, salt=SALT, compress=True)
    try:
        path = reverse("genlook:photo-link", kwargs={"token": token})
    except NoReverseMatch as exc:
        raise PhotoLinkError(
            "genlook_django.urls is not included: no photo link can be made.",
            code="PHOTO_LINK_UNROUTED",
        ) from exc
    return str(base).rstrip("/") + path


def file_name(token: str) -> str | None:
    """The photo file a link names, or None if its signature is wrong or it expired."""
    try:
        name = signing.loads(token, salt=SALT, max_age=float(genlook_settings.PHOTO_LINK_MAX_AGE))
    except signing.BadSignature:  # SignatureExpired included
        return None
    if not isinstance(name, str) or not name.startswith(PREFIX) or ".." in name:
        return None
    return name


def read(token: str) -> bytes | None:
    """The linked photo's bytes, or None (bad or expired link, photo erased)."""
    name = file_name(token)
    if name is None:
        return None
    try:
        with files.photos_storage().open(name, "rb") as stored:
            return stored.read()
    except OSError:  # erased, or the storage cannot read it
        return None
