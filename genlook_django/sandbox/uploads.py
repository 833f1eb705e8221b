"""Person photos uploaded with ``POST /images/upload``, addressed by storage-path-like ids."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable

from genlook_django.sandbox.files import FileStore
from genlook_django.sandbox.images import JPEG
from genlook_django.sandbox.records import DAY, StoredFile, Upload


def new_image_id(keep_for_days: int, now: float) -> str:
    # Shaped like the documented examples: opaque, long, and containing "/".
    stamp = time.strftime("%Y%m%d%H%M%S", time.gmtime(now)) + f"{int(now * 1000) % 1000:03d}"
    return f"retention-{keep_for_days}d/{uuid.uuid4()}/customer/{stamp}.jpeg"


class Uploads:
    def __init__(self, lock: threading.RLock, now: Callable[[], float], files: FileStore) -> None:
        self._lock = lock
        self._now = now
        self._files = files
        self._uploads: dict[str, Upload] = {}

    def add(
        self, *, api_key: str, content: bytes, customer_id: str | None, keep_for_days: int
    ) -> tuple[Upload, StoredFile]:
        now = self._now()
        expires_at = now + keep_for_days * DAY
        stored = self._files.put(
            content,
            content_type=JPEG[0],
            extension=JPEG[1],
            api_key=api_key,
            customer_id=customer_id,
            expires_at=expires_at,
        )
        upload = Upload(
            image_id=new_image_id(keep_for_days, now),
            api_key=api_key,
            file_token=stored.token,
            customer_id=customer_id,
            expires_at=expires_at,
        )
        with self._lock:
            self._uploads[upload.image_id] = upload
        return upload, stored

    def content(self, api_key: str, image_id: str) -> bytes | None:
        """The stored photo of a live upload of this account (another account's is unknown)."""
        with self._lock:
            upload = self._uploads.get(image_id)
            if upload is None or upload.api_key != api_key:
                return None
            stored = self._files.get(upload.file_token)
            if stored is None or self._now() >= upload.expires_at:
                del self._uploads[image_id]
                return None
            return stored.content

    def erase_customer(self, api_key: str, customer_id: str) -> None:
        with self._lock:
            for image_id in [
                image_id
                for image_id, upload in self._uploads.items()
                if upload.api_key == api_key and upload.customer_id == customer_id
            ]:
                self._files.discard(self._uploads.pop(image_id).file_token)

    def purge_expired(self) -> None:
        now = self._now()
        with self._lock:
            for image_id in [i for i, u in self._uploads.items() if now >= u.expires_at]:
                self._files.discard(self._uploads.pop(image_id).file_token)

    def __len__(self) -> int:
        with self._lock:
            return len(self._uploads)
