"""Requests released together from threads, against the test's SQLite database. Fixture:
``sqlite_waits_for_locks`` (a pytest plugin, see ``tests/support/__init__.py``)."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable

import pytest
from django.db import connection, connections
from django.db.backends.sqlite3 import base


@pytest.fixture
def sqlite_waits_for_locks(monkeypatch):
    """The test database is SQLite in memory with a shared cache, where a statement fails at
    once (SQLITE_LOCKED) while another connection holds its table; a file database or
    PostgreSQL waits for the lock instead. Wait the same way here, so that parallel
    requests test the quotas, not that."""
    if connection.vendor != "sqlite":
        return

    def patient(method):
        def run(self, *args, **kwargs):
            deadline = time.monotonic() + 10
            while True:
                try:
                    return method(self, *args, **kwargs)
                except sqlite3.OperationalError as exc:
                    if "locked" not in str(exc) or time.monotonic() > deadline:
                        raise
                    time.sleep(0.002)

        return run

    for name in ("execute", "executemany"):
        monkeypatch.setattr(
            base.SQLiteCursorWrapper, name, patient(getattr(base.SQLiteCursorWrapper, name))
        )


def in_parallel(count: int, request: Callable[[int], object]) -> list:
    """Run ``request(i)`` in ``count`` threads released at once; their answers (or the
    exception each raised)."""
    barrier = threading.Barrier(count)
    answers: list = [None] * count

    def run(i: int) -> None:
        try:
            barrier.wait(5)
            answers[i] = request(i)
        except BaseException as exc:  # reported by the caller
            answers[i] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return answers
