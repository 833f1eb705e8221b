"""Where try-on files live: two aliases of Django's ``STORAGES``, read at access time.

``PHOTOS_STORAGE`` holds shoppers' photos: point it at a private storage (a directory the
web server does not serve, or a private S3 bucket). ``RESULTS_STORAGE`` holds the try-on
images. Neither is ever linked directly: the storefront streams files to their owner
through an owner-checked view.
"""

from __future__ import annotations

import contextlib
import logging

from django.core.files.base import ContentFile
from django.core.files.storage import Storage, storages

from genlook_django.conf import genlook_settings

logger = logging.getLogger("genlook_django.files")


def photos_storage() -> Storage:
    return storages[genlook_settings.PHOTOS_STORAGE]


def results_storage() -> Storage:
    return storages[genlook_settings.RESULTS_STORAGE]


def save(storage: Storage, name: str, content: bytes) -> str:
    """Save ``content``; returns the name the storage chose (it may differ from ``name``)."""
    return storage.save(name, ContentFile(content))


def delete_quietly(storage: Storage, name: str) -> None:
    """Delete a file; a missing file or a storage error is logged, never raised (erasure
    goes on with the rest)."""
    if not name:
        return
    try:
        storage.delete(name)
    except Exception:
        logger.exception("Could not delete %s from %r", name, storage)


def exists(storage: Storage, name: str) -> bool:
    with contextlib.suppress(Exception):
        return bool(name) and storage.exists(name)
    return False
