"""A logo chosen on the watermark page but not saved yet, because the form had another
error: kept aside (``genlook/watermark/pending/`` in the default storage) under a signed
token the page carries along, so the merchant need not choose it again and the preview
shows it. The token is signed (``SECRET_KEY``) and expires: no other file can be named.
A logo never saved is deleted by the retention purge once its token has expired
(``purge_unused``)."""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta
from pathlib import PurePosixPath

from django.core import signing
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

logger = logging.getLogger("genlook_django.watermark")

FOLDER = "genlook/watermark/pending"
SALT = "genlook_django.watermark.pending_logo"
MAX_AGE = 24 * 3600  # seconds a stashed logo can be used
EXTENSIONS = {".png", ".jpg", ".jpeg", ".webp"}


def stash(content: bytes, original_name: str) -> str:
    """Keep ``content`` aside; returns the token naming it."""
    extension = PurePosixPath(original_name).suffix.lower()
    if extension not in EXTENSIONS:
        extension = ".png"
    name = default_storage.save(f"{FOLDER}/{uuid.uuid4().hex}{extension}", ContentFile(content))
    return signing.dumps({"name": name, "original": PurePosixPath(original_name).name}, salt=SALT)


def _entry(token: str) -> dict[str, str] | None:
    if not token:
        return None
    try:
        entry = signing.loads(token, salt=SALT, max_age=MAX_AGE)
    except signing.BadSignature:  # also an expired one
        return None
    name = entry.get("name", "") if isinstance(entry, dict) else ""
    if not name.startswith(FOLDER + "/"):
        return None
    return entry


def load(token: str) -> ContentFile | None:
    """The stashed logo as a file named as the merchant's (None: unknown or expired)."""
    entry = _entry(token)
    if entry is None:
        return None
    try:
        with default_storage.open(entry["name"], "rb") as handle:
            content = handle.read()
    except OSError:
        return None
    return ContentFile(content, name=entry.get("original") or PurePosixPath(entry["name"]).name)


def original_name(token: str) -> str:
    entry = _entry(token)
    return entry.get("original", "") if entry else ""


def discard(token: str) -> None:
    entry = _entry(token)
    if entry is not None:
        _delete(entry["name"])


def _delete(name: str) -> bool:
    try:
        default_storage.delete(name)
    except OSError as exc:
        logger.warning("Could not delete the stashed logo %s: %s", name, exc)
        return False
    return True


def purge_unused(now: datetime, *, dry_run: bool = False) -> int:
    """Delete the stashed logos older than ``MAX_AGE`` (no token can name them any more);
    returns how many were, or with ``dry_run`` would be, deleted."""
    try:
        _folders, names = default_storage.listdir(FOLDER)
    except (FileNotFoundError, NotADirectoryError):  # nothing was ever stashed
        return 0
    too_old = now - timedelta(seconds=MAX_AGE)
    count = 0
    for name in names:
        path = f"{FOLDER}/{name}"
        try:
            modified = default_storage.get_modified_time(path)
        except NotImplementedError:
            logger.warning(
                "The default storage cannot tell a file's age: stashed watermark logos in "
                "%s are not purged; delete them there by hand.",
                FOLDER,
            )
            return count
        except OSError as exc:  # deleted meanwhile, or unreadable: the next purge sees
            logger.warning("Could not read the age of the stashed logo %s: %s", path, exc)
            continue
        if modified < too_old and (dry_run or _delete(path)):
            count += 1
    return count
