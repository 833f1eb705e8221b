"""Handing accepted webhook deliveries to Celery, off the request's path.

Publishing a Celery message costs more CPU than storing the delivery (Celery's own work
and the broker's round trip), so a burst of webhooks would spend most of its time there.
``Dispatcher.add`` only queues the delivery's id in memory and wakes one publisher thread
per process, which sends what waits: a message of its own for a delivery alone
(``process_webhook``), one message for several under a burst (``process_webhooks``).
Nothing waits for company: the thread publishes as soon as it is woken.

Nothing is lost if a publish fails or the process dies with ids still queued: the
deliveries are ``pending`` in the database (``genlook_replay_webhooks --pending``), and the
reconciler polls their try-ons. With Celery in eager mode (no worker) the publish runs in
the request, as before: there is nobody else to run it.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
from collections.abc import Callable

logger = logging.getLogger("genlook_django.webhooks")

MAX_BATCH = 100  # deliveries per message


class Dispatcher:
    def __init__(
        self, publish: Callable[[list[int]], None], *, inline: Callable[[], bool] = lambda: False
    ) -> None:
        self._publish = publish
        self._inline = inline
        self._lock = threading.Lock()
        self._reset()
        atexit.register(self.flush)

    def _reset(self) -> None:
        self._pid = os.getpid()
        self._waiting: list[int] = []
        self._wake = threading.Condition(self._lock)
        self._thread: threading.Thread | None = None
        self._busy = False

    def add(self, delivery_id: int) -> None:
        if self._inline():
            self._publish_safely([delivery_id])
            return
        with self._lock:
            if self._pid != os.getpid():  # forked (a pre-loading server): a thread of our own
                self._reset()
            self._waiting.append(delivery_id)
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="genlook-webhook-dispatch", daemon=True
                )
                self._thread.start()
            self._wake.notify()

    def flush(self, timeout: float = 5.0) -> None:
        """Wait until everything queued so far has been handed over (or ``timeout``)."""
        with self._lock:
            self._wake.wait_for(lambda: not self._waiting and not self._busy, timeout)

    def _run(self) -> None:
        while True:
            with self._lock:
                self._wake.wait_for(lambda: bool(self._waiting))
                batch, self._waiting = self._waiting[:MAX_BATCH], self._waiting[MAX_BATCH:]
                self._busy = True
            try:
                self._publish_safely(batch)
            finally:
                with self._lock:
                    self._busy = False
                    self._wake.notify_all()

    def _publish_safely(self, batch: list[int]) -> None:
        try:
            self._publish(batch)
        except Exception:
            logger.exception("Could not enqueue webhook deliveries %s", batch)


def _celery_is_eager() -> bool:
    from genlook_django import tasks

    return bool(tasks.process_webhook.app.conf.task_always_eager)


def publish_to_celery(delivery_ids: list[int]) -> None:
    from genlook_django import tasks

    if len(delivery_ids) == 1:
        task, args = tasks.process_webhook, (delivery_ids[0],)
    else:
        task, args = tasks.process_webhooks, (delivery_ids,)
    if task.app.conf.task_always_eager:
        task.apply_async(args)
    else:
        # By name: the message and the routes of ``delay()``, without its per-call work
        # (about half the cost of a publish); these tasks set no options of their own.
        task.app.send_task(task.name, args)


dispatcher = Dispatcher(publish_to_celery, inline=_celery_is_eager)
