"""Per-account sliding-window rate limit over request arrival times."""

from __future__ import annotations

import math
import threading
from collections import defaultdict, deque


class SlidingWindowLimiter:
    """At most ``limit`` accepted requests in any ``window`` seconds, per key.

    Only accepted requests are remembered, so ``Retry-After`` is honest: once it has
    passed, the oldest accepted request has left the window and a slot is free.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._arrivals: defaultdict[str, deque[float]] = defaultdict(deque)

    def acquire(self, key: str, *, limit: int, window: float, now: float) -> int | None:
        """Take a slot and return None, or return the whole seconds until one frees."""
        with self._lock:
            arrivals = self._arrivals[key]
            while arrivals and arrivals[0] <= now - window:
                arrivals.popleft()
            if len(arrivals) < limit:
                arrivals.append(now)
                return None
            if limit <= 0:
                return max(1, math.ceil(window))
            # The slot that frees first is the one taken by the (len - limit + 1)-th oldest.
            frees_at = arrivals[len(arrivals) - limit] + window
            return max(1, math.ceil(frees_at - now))

    def reset(self) -> None:
        with self._lock:
            self._arrivals.clear()
