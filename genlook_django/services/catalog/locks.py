"""One product's sync runs alone: plan, push and record, within and across processes."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import connections, router, transaction

from genlook_django.models import SyncedProduct

_locks_guard = threading.Lock()
_locks: dict[tuple[int, str], list[Any]] = {}  # key -> [RLock, users]


@contextlib.contextmanager
def process_lock(content_type: ContentType, object_id: str) -> Iterator[None]:
    """One product's lock within this process (re-entrant: a nested sync cannot deadlock)."""
    key = (content_type.pk, object_id)
    with _locks_guard:
        entry = _locks.setdefault(key, [threading.RLock(), 0])
        entry[1] += 1
    try:
        with entry[0]:
            yield
    finally:
        with _locks_guard:
            entry[1] -= 1
            if entry[1] == 0:
                _locks.pop(key, None)


@contextlib.contextmanager
def serialised(content_type: ContentType, object_id: str) -> Iterator[bool]:
    """Run plan, push and record of one product alone.

    Within a process, a lock per product. Across processes, on databases with row locks
    (PostgreSQL, MySQL, Oracle), a transaction in which the caller locks the product's
    ``SyncedProduct`` row (``SELECT ... FOR UPDATE``) until the result is recorded; yields
    whether it does. SQLite has no row locks, and a transaction held across a network call
    would block every writer: there, the process lock alone serialises.
    """
    using = router.db_for_write(SyncedProduct)
    with process_lock(content_type, object_id):
        if connections[using].features.has_select_for_update:
            with transaction.atomic(using=using):
                yield True
        else:
            yield False
