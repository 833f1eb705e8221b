"""Handing accepted webhook deliveries to the task queue: one message for several under a burst.

Publishing a Celery message costs more than storing the delivery, so a burst of webhooks
would spend most of its time in Celery. ``Dispatcher.add`` combines: each request adds its
delivery; whichever request finds nobody publishing publishes everything waiting, in one
message, and again until nothing waits, while requests arriving meanwhile return at once.
Alone, a delivery is published at once in a message of its own (``process_webhook``);
nothing waits longer than one publish, and no thread of its own is needed.

A failed publish is logged and loses nothing: the deliveries stay ``pending`` in the
database (``genlook_replay_webhooks --pending``), and the reconciler polls their try-ons.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from genlook_django import jobs

logger = logging.getLogger("genlook_django.webhooks")


class Dispatcher:
    def __init__(self, publish: Callable[[list[int]], None]) -> None:
        self._publish = publish
        self._waiting: list[int] = []
        self._waiting_lock = threading.Lock()
        self._publishing = threading.Lock()

    def add(self, delivery_id: int) -> None:
        with self._waiting_lock:
            self._waiting.append(delivery_id)
        # Whoever holds ``_publishing`` takes what waits, until nothing does; one that
        # added after the holder's last look sees it again once the holder has let go.
        while self._publishing.acquire(blocking=False):
            try:
                while batch := self._take():
                    self._publish_safely(batch)
            finally:
                self._publishing.release()
            with self._waiting_lock:
                if not self._waiting:
                    return

    def _take(self) -> list[int]:
        with self._waiting_lock:
            batch, self._waiting = self._waiting, []
        return batch

    def _publish_safely(self, batch: list[int]) -> None:
        try:
            self._publish(batch)
        except Exception:
            logger.exception("Could not enqueue webhook deliveries %s", batch)


def publish(delivery_ids: list[int]) -> None:
    """One delivery as ``genlook.process_webhook``, several as ``genlook.process_webhooks``
    (``jobs``: published by name, or run now when tasks run inline)."""
    if len(delivery_ids) == 1:
        jobs.enqueue("genlook.process_webhook", delivery_ids[0])
    else:
        jobs.enqueue("genlook.process_webhooks", delivery_ids)


dispatcher = Dispatcher(publish)


def enqueue(delivery_id: int) -> None:
    """Hand the delivery to the task queue (several per message under a burst). A broker
    error is logged: the delivery stays ``pending`` (``genlook_replay_webhooks --pending``),
    and the reconciler polls the try-on."""
    dispatcher.add(delivery_id)
