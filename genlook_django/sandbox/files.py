"""Files served at signed, expiring URLs (uploads and results), kept in memory."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable
from urllib.parse import urlsplit

from genlook_django.sandbox.records import StoredFile

FILES_SEGMENT = "_files"


def file_url(api_root: str, stored: StoredFile) -> str:
    return f"{api_root}/{FILES_SEGMENT}/{stored.name}"


def token_from_url(url: str) -> str | None:
    """The token of a sandbox file URL (any host or prefix), or None if it is not one."""
    parts = urlsplit(url).path.rstrip("/").split("/")
    if len(parts) >= 2 and parts[-2] == FILES_SEGMENT:
        return parts[-1].split(".", 1)[0]
    return None


class FileStore:
    def __init__(self, lock: threading.RLock, now: Callable[[], float]) -> None:
        self._lock = lock
        self._now = now
        self._files: dict[str, StoredFile] = {}

    def put(
        self,
        content: bytes,
        *,
        content_type: str,
        extension: str,
        api_key: str,
        customer_id: str | None,
        expires_at: float | None,
    ) -> StoredFile:
        # The token is the signature: 192 random bits, so a URL cannot be guessed.
        stored = StoredFile(
            token=secrets.token_urlsafe(24),
            content=content,
            content_type=content_type,
            extension=extension,
            api_key=api_key,
            customer_id=customer_id,
            expires_at=expires_at,
        )
        with self._lock:
            self._files[stored.token] = stored
        return stored

    def get(self, token: str) -> StoredFile | None:
        """The live file behind ``token``; expired files are forgotten on the way."""
        with self._lock:
            stored = self._files.get(token)
            expired = stored is not None and _expired(stored, self._now())
            if expired:
                del self._files[token]
            return None if expired else stored

    def get_by_url(self, url: str) -> StoredFile | None:
        token = token_from_url(url)
        return self.get(token) if token else None

    def discard(self, token: str | None) -> None:
        if token:
            with self._lock:
                self._files.pop(token, None)

    def erase_customer(self, api_key: str, customer_id: str) -> int:
        with self._lock:
            doomed = [
                token
                for token, stored in self._files.items()
                if stored.api_key == api_key and stored.customer_id == customer_id
            ]
            for token in doomed:
                del self._files[token]
        return len(doomed)

    def purge_expired(self) -> None:
        now = self._now()
        with self._lock:
            for token in [t for t, stored in self._files.items() if _expired(stored, now)]:
                del self._files[token]

    def __len__(self) -> int:
        with self._lock:
            return len(self._files)


def _expired(stored: StoredFile, now: float) -> bool:
    return stored.expires_at is not None and now >= stored.expires_at
