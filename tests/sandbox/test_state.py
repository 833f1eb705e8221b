"""The Python interface tests and benchmarks use: SandboxState and its helpers."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from genlook_django.sandbox.ratelimit import SlidingWindowLimiter
from genlook_django.sandbox.state import SandboxState
from tests.sandbox.helpers import inline_product, person


def test_request_log_and_counters(api, sandbox, photo_id, garment_url):
    sandbox.state.add_account("gk_other")
    body = {"products": [inline_product("shirt-1", garment_url)], "person": person(photo_id)}
    generation_id = api.try_on(body).json()["generationId"]
    api.try_on({"products": [{"externalId": "nope"}], "person": person(photo_id)})
    api.get(f"/generations/{generation_id}")
    api.get("/account/credits", api_key="gk_other")
    api.session.get(api.base_url + "/account/credits")  # no key

    state = sandbox.state
    assert state.count() == 6  # upload, 2 try-ons, 1 poll, 2 credits
    assert state.count(method="POST", path="/try-on") == 2
    assert state.count(path="/try-on", status=404) == 1
    assert state.count(path="/generations/{generationId}") == 1
    assert state.count(path=f"/generations/{generation_id}") == 1
    assert state.count(api_key="gk_other") == 1
    assert state.count(status=401) == 1
    assert state.generations_created() == 1
    assert state.generations_created("gk_other") == 0

    entry = next(r for r in state.requests if r.path == "/try-on" and r.status == 200)
    assert (entry.method, entry.api_key, entry.generation_id) == (
        "POST",
        api.api_key,
        generation_id,
    )
    assert entry.at > 0


def test_credits_helpers(sandbox):
    state = sandbox.state
    state.add_account("gk_y", credits=3)
    assert state.get_credits("gk_y") == 3
    state.set_credits("gk_y", 0)
    assert state.get_credits("gk_y") == 0
    with pytest.raises(KeyError):
        state.set_credits("gk_unknown", 1)


def test_configure_checks_names_and_values(sandbox):
    with pytest.raises(TypeError, match="generation_secs"):
        sandbox.state.configure(generation_secs=1)
    with pytest.raises(ValueError):
        sandbox.state.configure(rate_window=0)
    config = sandbox.state.configure(generation_seconds=0.5, sync_wait_seconds=2, rate_limit=50)
    assert (config.generation_seconds, config.sync_wait_seconds, config.rate_limit) == (0.5, 2, 50)


def test_settings_are_read_at_access_time(sandbox, settings):
    settings.GENLOOK_SANDBOX = {"API_KEYS": {"gk_a": {"credits": 1}}, "RATE_LIMIT": 9}
    assert sandbox.state.config.rate_limit == 9
    sandbox.state.configure(rate_limit=4)  # runtime wins over settings
    assert sandbox.state.config.rate_limit == 4
    sandbox.state.reset()
    assert sandbox.state.config.rate_limit == 9
    assert sandbox.state.get_credits("gk_a") == 1


def test_unknown_settings_keys_are_named(sandbox, settings):
    settings.GENLOOK_SANDBOX = {"API_KEY": "gk_typo"}
    with pytest.raises(ImproperlyConfigured, match="API_KEY"):
        _ = sandbox.state.config


def test_reset_forgets_everything(api, sandbox, garment_url):
    api.post("/products", json={"externalId": "x", "imageUrls": [garment_url]})
    sandbox.state.add_account("gk_temp")
    sandbox.state.set_faults(error_rates={500: 0.5})
    sandbox.state.advance_clock(100)

    sandbox.state.reset()

    assert sandbox.state.requests == []
    assert sandbox.state.account("gk_temp") is None
    assert sandbox.state.faults.for_key(api.api_key).error_rates == {}
    assert api.get("/products").json()["count"] == 0


def test_injectable_clock(settings):
    state = SandboxState(clock=lambda: 1_000_000.0)
    assert state.now() == 1_000_000.0
    state.advance_clock(60)
    assert state.now() == 1_000_060.0


def test_sliding_window_retry_after():
    limiter = SlidingWindowLimiter()
    assert limiter.acquire("k", limit=2, window=10, now=0.0) is None
    assert limiter.acquire("k", limit=2, window=10, now=4.0) is None
    assert limiter.acquire("k", limit=2, window=10, now=5.0) == 5  # the first slot frees at 10
    assert limiter.acquire("k", limit=2, window=10, now=10.0) is None
    assert limiter.acquire("k", limit=2, window=10, now=10.5) == 4  # then at 14
    assert limiter.acquire("k", limit=0, window=10, now=11.0) == 10


def test_expired_things_are_purged_from_memory(api, sandbox, person_photo, garment_url):
    api.upload(person_photo, keepForDays="1")
    api.post("/products", json={"externalId": "v", "validForDays": 1, "imageUrls": [garment_url]})
    state = sandbox.state
    assert (len(state.uploads), len(state.files), len(state.catalog)) == (1, 1, 1)
    state.advance_clock(2 * 86_400)

    state.purge_expired(every=0)

    assert (len(state.uploads), len(state.files), len(state.catalog)) == (0, 0, 0)
