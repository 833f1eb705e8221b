"""Choosing the shop's request budget: Redis, the Django cache, or this process only."""

from __future__ import annotations

import math
import time
from typing import Any

from django.core.cache import caches
from django.core.exceptions import ImproperlyConfigured

from genlook_django.client import LocalRateLimiter, RateLimiter, RedisRateLimiter, local_budget
from genlook_django.client.ratelimit import SlidingWindowLimiter, budget_key
from genlook_django.conf import genlook_settings

# Cache backends shared between processes whose ``incr`` is atomic.
ATOMIC_SHARED_CACHES = {
    "django.core.cache.backends.redis.RedisCache",
    "django.core.cache.backends.memcached.PyMemcacheCache",
    "django.core.cache.backends.memcached.PyLibMCCache",
    "django_redis.cache.RedisCache",
}

# The window is cut into this many buckets; a send is counted in its bucket, and the
# budget sums one bucket more than the window holds, so the count errs on the safe side.
BUCKETS_PER_WINDOW = 60


class CacheRateLimiter(SlidingWindowLimiter):
    """The budget kept in a Django cache shared by every process (Redis, Memcached).

    It needs a cache whose ``incr`` is atomic: Redis, Memcached and LocMem are; the
    database and file caches are not.
    """

    def __init__(self, cache: Any, key: str, limit: int, period: float = 60.0, **kwargs: Any):
        super().__init__(limit, period, **kwargs)
        self._cache = cache
        self._key = key
        self._width = self.window / BUCKETS_PER_WINDOW

    def try_acquire(self) -> float:
        bucket = math.floor(time.time() / self._width)
        keys = [f"{self._key}:{b}" for b in range(bucket - BUCKETS_PER_WINDOW, bucket + 1)]
        ttl = math.ceil(self.window * 2) + 1
        self._cache.add(keys[-1], 0, timeout=ttl)
        try:
            self._cache.incr(keys[-1])
        except ValueError:  # the bucket expired between add and incr: start it again
            self._cache.set(keys[-1], 1, timeout=ttl)
        counts = self._cache.get_many(keys)
        if sum(counts.values()) <= self.limit:
            return 0.0
        self._cache.decr(keys[-1])
        # The oldest non-empty bucket leaves the window first.
        oldest = next(i for i, key in enumerate(keys) if counts.get(key))
        return max(0.001, (bucket + oldest + 1) * self._width - time.time())


def build_rate_limiter(api_key: str) -> RateLimiter:
    """The limiter named by ``RATE_LIMIT_BACKEND`` ("auto", "redis", "cache", "local")."""
    limit, period = int(genlook_settings.RATE_LIMIT), float(genlook_settings.RATE_PERIOD)
    backend = genlook_settings.RATE_LIMIT_BACKEND
    redis_url = genlook_settings.RATE_LIMIT_REDIS_URL
    if backend == "redis" or (backend == "auto" and redis_url):
        return RedisRateLimiter.from_url(
            genlook_settings.require("RATE_LIMIT_REDIS_URL"), api_key, limit, period
        )
    cache = caches[genlook_settings.RATE_LIMIT_CACHE]
    cache_class = f"{type(cache).__module__}.{type(cache).__qualname__}"
    if backend == "cache":
        if cache_class not in ATOMIC_SHARED_CACHES:
            raise ImproperlyConfigured(
                f"RATE_LIMIT_BACKEND 'cache' needs a shared cache with an atomic incr "
                f"(Redis or Memcached); cache {genlook_settings.RATE_LIMIT_CACHE!r} is "
                f"{cache_class}."
            )
        return CacheRateLimiter(cache, budget_key(api_key), limit, period)
    if backend == "auto" and cache_class in ATOMIC_SHARED_CACHES:
        return CacheRateLimiter(cache, budget_key(api_key), limit, period)
    if backend not in ("auto", "local"):
        raise ImproperlyConfigured(
            f"Unknown RATE_LIMIT_BACKEND {backend!r}: use 'auto', 'redis', 'cache' or 'local'."
        )
    return local_budget(api_key, limit, period)


__all__ = ["CacheRateLimiter", "LocalRateLimiter", "build_rate_limiter"]
