"""One request budget per API key, so callers never cause a 429 themselves.

Genlook allows a number of requests per minute per account. Every limiter here is a sliding
window over send times: no window of ``period`` seconds ever holds more than ``limit`` sends,
whatever algorithm the server counts with. A small margin widens the window to absorb
network jitter between our send time and Genlook's arrival time.

``LocalRateLimiter`` shares the budget between the threads of one process;
``RedisRateLimiter`` between every process that points at the same Redis. (The Django app
adds a limiter over the Django cache; the client itself knows nothing of Django.)
"""

from __future__ import annotations

import hashlib
import random
import threading
import time
import uuid
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Callable
from typing import Any, Protocol


class RateLimiter(Protocol):
    def acquire(self, timeout: float | None = None) -> bool:
        """Block until one request may be sent; False if ``timeout`` ran out first."""


class Unlimited:
    """No budget at all (for tests of the retry machinery, or a private deployment)."""

    def acquire(self, timeout: float | None = None) -> bool:
        return True


def budget_key(api_key: str) -> str:
    """A stable name for a key's budget that does not reveal the key."""
    return "genlook:rate:" + hashlib.sha256(api_key.encode()).hexdigest()[:24]


class SlidingWindowLimiter(ABC):
    """``limit`` sends per ``period`` seconds; subclasses store the window."""

    def __init__(
        self,
        limit: int,
        period: float = 60.0,
        *,
        margin: float | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if limit < 1 or period <= 0:
            raise ValueError("A rate budget needs limit >= 1 and period > 0.")
        self.limit = limit
        self.period = period
        # By default 2% of the period, and at least a quarter second of send-to-arrival jitter.
        self.window = period + (margin if margin is not None else max(0.02 * period, 0.25))
        self._sleep = sleep

    def acquire(self, timeout: float | None = None) -> bool:
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            wait = self.try_acquire()
            if wait <= 0:
                return True
            # A little jitter keeps many waiters from waking in lock-step.
            wait = wait + random.uniform(0, min(0.05, wait / 4))
            if deadline is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                wait = min(wait, left)
            self._sleep(wait)

    @abstractmethod
    def try_acquire(self) -> float:
        """Take a slot and return 0, or return how long to wait before asking again."""


class LocalRateLimiter(SlidingWindowLimiter):
    """The budget shared by the threads of this process."""

    def __init__(
        self,
        limit: int,
        period: float = 60.0,
        *,
        clock: Callable[[], float] = time.monotonic,
        **kwargs: Any,
    ) -> None:
        super().__init__(limit, period, **kwargs)
        self._clock = clock
        self._sent: deque[float] = deque()
        self._lock = threading.Lock()

    def try_acquire(self) -> float:
        with self._lock:
            now = self._clock()
            while self._sent and self._sent[0] <= now - self.window:
                self._sent.popleft()
            if len(self._sent) < self.limit:
                self._sent.append(now)
                return 0.0
            return self._sent[0] + self.window - now


# Atomic in Redis: drop sends older than the window, then take a slot if one is free, using
# the server's clock so that every process agrees on "now".
_REDIS_SCRIPT = """
local now_t = redis.call('TIME')
local now = tonumber(now_t[1]) * 1000000 + tonumber(now_t[2])
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[1]) then
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], math.ceil(window / 1000) + 1000)
  return 0
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return tonumber(oldest[2]) + window - now
"""


class RedisRateLimiter(SlidingWindowLimiter):
    """The budget shared by every process using the same Redis (``redis`` package)."""

    def __init__(
        self, redis_client: Any, key: str, limit: int, period: float = 60.0, **kwargs: Any
    ) -> None:
        super().__init__(limit, period, **kwargs)
        self._redis = redis_client
        self._key = key
        self._script = redis_client.register_script(_REDIS_SCRIPT)

    @classmethod
    def from_url(cls, url: str, api_key: str, limit: int, period: float = 60.0, **kwargs: Any):
        import redis  # optional dependency: pip install genlook-django[redis]

        return cls(redis.Redis.from_url(url), budget_key(api_key), limit, period, **kwargs)

    def try_acquire(self) -> float:
        window_us = int(self.window * 1_000_000)
        wait_us = self._script(keys=[self._key], args=[self.limit, window_us, uuid.uuid4().hex])
        return max(0.0, int(wait_us) / 1_000_000)
