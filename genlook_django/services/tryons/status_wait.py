"""Waiting for a try-on's status to change: what ``GET /tryons/{id}/?wait=<seconds>`` does.

A state change is announced by ``notify(try_on_pk)``, called wherever a try-on's state is
recorded (``records.ShopperTryOn.changed``) once the transaction commits: it writes a new
version of the try-on into the Django cache (``STATUS_WAIT_CACHE``; Redis in production, so
every process sees it).

A waiting request does not poll the cache itself: it registers with its process's one
watcher thread, which reads one key each ``STATUS_WAIT_TICK`` seconds (bumped by every
change, whichever try-on) and, when it moved, the versions of *every* waiting try-on with a
single ``get_many`` (50 shoppers waiting cost one small cache read per tick per process,
not 50), and wakes the requests whose version moved. The
request reads the database when woken, and otherwise every ``STATUS_WAIT_DB_INTERVAL``
seconds: by default every second with a cache each process keeps to itself (LocMem under
several gunicorn workers: the change is then seen within a second), only when the wait
ends with a shared one (a version lost by the cache costs at most the rest of the wait).

A waiting request holds a web thread (never a Celery worker) for at most its wait; see
docs/deployment.md for the gunicorn layout this asks for.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
import uuid
from typing import Any

from django.core.cache import caches
from django.db import transaction

from genlook_django.conf import genlook_settings

logger = logging.getLogger("genlook_django.status_wait")

VERSION_TTL = 3600  # a version outlives any wait by far


def _cache() -> Any:
    return caches[genlook_settings.STATUS_WAIT_CACHE]


def version_key(try_on_pk: int) -> str:
    return f"genlook:tryon-version:{try_on_pk}"


# Bumped by every change, whichever try-on: a watcher reads this one key each tick, and
# the versions of the try-ons it waits for only when it moved.
ANY_CHANGE_KEY = "genlook:tryon-version:any"


def max_wait() -> float:
    """The longest wait a request may ask for (``STATUS_WAIT_MAX``); 0: waits are off."""
    value = genlook_settings.STATUS_WAIT_MAX
    return max(0.0, float(value or 0))


def parse_wait(raw: Any) -> float:
    """``?wait=`` as seconds, bounded by ``STATUS_WAIT_MAX``; 0 when absent or invalid."""
    if raw in (None, ""):
        return 0.0
    try:
        seconds = float(raw)
    except (TypeError, ValueError):
        return 0.0
    if seconds != seconds or seconds <= 0:  # NaN, negative
        return 0.0
    return min(seconds, max_wait())


# Caches that one process keeps to itself: a change made in another process never shows.
PROCESS_LOCAL_CACHES = ("LocMemCache", "DummyCache")


def db_interval(wait: float) -> float:
    """Seconds between two database reads during a wait (``STATUS_WAIT_DB_INTERVAL``);
    "auto": 1 s with a process-local cache, else the whole wait (the cache announces
    every change; the read when the wait ends is the fallback)."""
    value = genlook_settings.STATUS_WAIT_DB_INTERVAL
    if value == "auto":
        local = type(_cache()).__name__ in PROCESS_LOCAL_CACHES
        return 1.0 if local else max(wait, 1.0)
    return max(0.05, float(value))


def notify(try_on_pk: int) -> None:
    """Announce that try-on ``try_on_pk`` changed state: when the current transaction
    commits (at once without one), so a woken request reads the new state. Never raises:
    a cache that is down only makes waiters fall back to the database."""

    def bump() -> None:
        try:
            cache = _cache()
            cache.set(version_key(try_on_pk), uuid.uuid4().hex, VERSION_TTL)
            cache.set(ANY_CHANGE_KEY, uuid.uuid4().hex, None)
        except Exception as exc:
            logger.warning("Could not announce the change of try-on %s: %s", try_on_pk, exc)
        _watcher().poke()

    transaction.on_commit(bump, robust=True)


def current_version(try_on_pk: int) -> Any:
    try:
        return _cache().get(version_key(try_on_pk))
    except Exception as exc:
        logger.warning("Could not read the version of try-on %s: %s", try_on_pk, exc)
        return None


class _Waiter:
    __slots__ = ("event", "key", "seen")

    def __init__(self, key: str, seen: Any) -> None:
        self.key, self.seen = key, seen
        self.event = threading.Event()


class _Watcher:
    """One thread per process reading every waiting try-on's version at each tick."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.waiters: set[_Waiter] = set()
        self.thread: threading.Thread | None = None
        self.pid = os.getpid()
        self.wake = threading.Event()
        self.last_change: Any = None  # ANY_CHANGE_KEY at the last full check
        self.new_waiters = False  # a waiter came since: check its try-on in full

    def add(self, waiter: _Waiter) -> None:
        with self.lock:
            if self.pid != os.getpid():  # forked after the thread started (gunicorn --preload)
                self.pid, self.thread, self.waiters = os.getpid(), None, set()
            self.waiters.add(waiter)
            self.new_waiters = True
            if self.thread is None or not self.thread.is_alive():
                self.thread = threading.Thread(
                    target=self._run, name="genlook-status-wait", daemon=True
                )
                self.thread.start()

    def remove(self, waiter: _Waiter) -> None:
        with self.lock:
            self.waiters.discard(waiter)

    def poke(self) -> None:
        """A change was announced in this process: look now rather than at the next tick."""
        self.wake.set()

    def _run(self) -> None:
        idle_since: float | None = None
        try:
            while True:
                with self.lock:  # the waiters and whether any is new, together
                    waiters = list(self.waiters)
                    full, self.new_waiters = self.new_waiters, False
                if not waiters:
                    idle_since = idle_since or time.monotonic()
                    if time.monotonic() - idle_since > 5.0:
                        with self.lock:
                            if not self.waiters:
                                self.thread = None
                                return
                else:
                    idle_since = None
                    self._check(waiters, full)
                self.wake.wait(float(genlook_settings.STATUS_WAIT_TICK))
                self.wake.clear()
        finally:
            # A DatabaseCache would have opened a connection in this thread.
            from django.db import connections

            with contextlib.suppress(Exception):
                connections.close_all()

    def _check(self, waiters: list[_Waiter], full: bool) -> None:
        """One cache read per tick when nothing changed anywhere; the waited try-ons'
        versions (one ``get_many``) when something did, or a waiter came meanwhile."""
        keys = list({waiter.key for waiter in waiters})
        try:
            cache = _cache()
            change = cache.get(ANY_CHANGE_KEY)
            if change == self.last_change and not full:
                return
            versions = cache.get_many(keys)
        except Exception as exc:  # the database fallback still runs
            with self.lock:
                self.new_waiters = True  # look again at the next tick
            logger.warning("Could not read try-on versions: %s", exc)
            return
        self.last_change = change
        for waiter in waiters:
            if versions.get(waiter.key) != waiter.seen:
                waiter.event.set()


_the_watcher = _Watcher()


def _watcher() -> _Watcher:
    return _the_watcher


def wait_for_change(try_on_pk: int, seen: Any, timeout: float) -> bool:
    """Block at most ``timeout`` seconds until try-on ``try_on_pk``'s version differs from
    ``seen`` (read with ``current_version`` *before* the state it was compared with). True
    if it changed."""
    if timeout <= 0:
        return False
    waiter = _Waiter(version_key(try_on_pk), seen)
    watcher = _watcher()
    watcher.add(waiter)
    try:
        return waiter.event.wait(timeout)
    finally:
        watcher.remove(waiter)


__all__ = [
    "current_version",
    "db_interval",
    "max_wait",
    "notify",
    "parse_wait",
    "wait_for_change",
]
