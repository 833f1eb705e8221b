"""Background work: a timer thread for due transitions and a small pool for slow jobs.

Generations must complete on time even if nobody polls (webhooks depend on it), so the
sandbox cannot advance them lazily on ``GET``. All threads are daemons: a test run or a
``manage.py`` process never waits for them on exit.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import queue
import threading
import time
from collections.abc import Callable

logger = logging.getLogger(__name__)

Job = Callable[[], None]


def _run_safely(job: Job) -> None:
    try:
        job()
    except Exception:  # a failing job must never kill the thread that runs the others
        logger.exception("Genlook sandbox background job failed")


class Scheduler:
    """Runs quick callables at ``time.monotonic()`` instants, on one daemon thread."""

    def __init__(self, name: str = "genlook-sandbox-timer") -> None:
        self._name = name
        self._heap: list[tuple[float, int, Job]] = []
        self._order = itertools.count()
        self._condition = threading.Condition()
        self._thread: threading.Thread | None = None

    def call_at(self, when: float, job: Job) -> None:
        with self._condition:
            heapq.heappush(self._heap, (when, next(self._order), job))
            self._condition.notify()
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
                self._thread.start()

    def call_later(self, delay: float, job: Job) -> None:
        self.call_at(time.monotonic() + max(0.0, delay), job)

    def _run(self) -> None:
        while True:
            with self._condition:
                while not self._heap:
                    self._condition.wait()
                when, _, job = self._heap[0]
                delay = when - time.monotonic()
                if delay > 0:
                    self._condition.wait(delay)
                    continue
                heapq.heappop(self._heap)
            _run_safely(job)


class WorkerPool:
    """A fixed set of daemon threads draining one queue (rendering, fetching, webhooks)."""

    def __init__(self, size: int = 8, name: str = "genlook-sandbox-worker") -> None:
        self._size = size
        self._name = name
        self._queue: queue.SimpleQueue[Job] = queue.SimpleQueue()
        self._started = False
        self._lock = threading.Lock()

    def submit(self, job: Job) -> None:
        self._queue.put(job)
        with self._lock:
            if not self._started:
                self._started = True
                for index in range(self._size):
                    threading.Thread(
                        target=self._run, name=f"{self._name}-{index}", daemon=True
                    ).start()

    def _run(self) -> None:
        while True:
            _run_safely(self._queue.get())
