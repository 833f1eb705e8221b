"""One request budget per API key: bursts from many threads or processes cause no 429."""

import subprocess
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis
from django.core.cache import caches

from genlook_django.client import GenlookClient, LocalRateLimiter, RedisRateLimiter
from genlook_django.client.ratelimit import budget_key
from genlook_django.services.ratebudget import CacheRateLimiter
from tests.services import redis_url, unique_budget_key  # noqa: F401  (fixture)

LIMIT, PERIOD = 120, 2.0  # the sandbox is set to the same rate, scaled down from 100/min
# The margin absorbs the delay between our send and the sandbox's arrival time; the sandbox
# shares this process (and its GIL) with the burst, and CI machines are busy, so that delay
# is larger than on a network.
MARGIN = 0.8


@pytest.fixture
def tight_sandbox(genlook_sandbox):
    genlook_sandbox.state.configure(rate_limit=LIMIT, rate_window=PERIOD)
    return genlook_sandbox


def burst(client: GenlookClient, calls: int = 250, threads: int = 8) -> list[int]:
    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(lambda _: client.get_credits(), range(calls)))


def assert_no_429(sandbox, calls: int) -> None:
    assert sandbox.state.count(path="/account/credits", status=200) == calls
    assert sandbox.state.count(status=429) == 0


def test_local_budget_shares_one_rate_across_threads(tight_sandbox, make_client):
    # max_retries=0: a single 429 would reach the caller and fail the burst.
    client = make_client(rate_limiter=LocalRateLimiter(LIMIT, PERIOD, margin=MARGIN), max_retries=0)
    assert len(burst(client)) == 250
    assert_no_429(tight_sandbox, 250)


def test_clients_with_the_same_key_share_the_budget(tight_sandbox):
    shared = LocalRateLimiter(LIMIT, PERIOD, margin=MARGIN)
    clients = [
        GenlookClient(
            tight_sandbox.api_key,
            base_url=tight_sandbox.base_url,
            rate_limiter=shared,
            max_retries=0,
        )
        for _ in range(3)
    ]
    with ThreadPoolExecutor(9) as pool:
        list(pool.map(lambda i: clients[i % 3].get_credits(), range(200)))
    assert_no_429(tight_sandbox, 200)


def test_django_cache_budget(tight_sandbox, make_client):
    cache = caches["default"]
    cache.clear()
    limiter = CacheRateLimiter(
        cache, budget_key(tight_sandbox.api_key), LIMIT, PERIOD, margin=MARGIN
    )
    assert len(burst(make_client(rate_limiter=limiter, max_retries=0), calls=200)) == 200
    assert_no_429(tight_sandbox, 200)


@pytest.mark.services
def test_redis_budget_across_processes(tight_sandbox, redis_url):  # noqa: F811
    key = unique_budget_key()  # one budget for the three processes, and for them alone
    script = textwrap.dedent(
        f"""
        from concurrent.futures import ThreadPoolExecutor
        import redis
        from genlook_django.client import GenlookClient, RedisRateLimiter
        limiter = RedisRateLimiter(
            redis.Redis.from_url({redis_url!r}), {key!r}, {LIMIT}, {PERIOD}, margin={MARGIN}
        )
        client = GenlookClient({tight_sandbox.api_key!r}, base_url={tight_sandbox.base_url!r},
                               rate_limiter=limiter, max_retries=0)
        with ThreadPoolExecutor(4) as pool:
            list(pool.map(lambda _: client.get_credits(), range(80)))
        """
    )
    workers = [subprocess.Popen([sys.executable, "-c", script]) for _ in range(3)]
    assert [worker.wait(timeout=60) for worker in workers] == [0, 0, 0]
    assert_no_429(tight_sandbox, 240)


@pytest.mark.services
def test_redis_budget_in_one_process(tight_sandbox, make_client, redis_url):  # noqa: F811
    limiter = RedisRateLimiter(
        redis.Redis.from_url(redis_url), unique_budget_key(), LIMIT, PERIOD, margin=MARGIN
    )
    assert len(burst(make_client(rate_limiter=limiter, max_retries=0))) == 250
    assert_no_429(tight_sandbox, 250)


def test_local_limiter_never_lets_a_window_hold_more_than_the_limit():
    clock = [0.0]
    limiter = LocalRateLimiter(5, 10.0, margin=0, clock=lambda: clock[0])
    granted = []
    for step in range(200):
        clock[0] = step * 0.5
        if limiter.try_acquire() == 0:
            granted.append(clock[0])
    assert len(granted) >= 45  # the budget is used, not just respected
    for index in range(len(granted) - 5):
        assert granted[index + 5] - granted[index] >= 10.0
