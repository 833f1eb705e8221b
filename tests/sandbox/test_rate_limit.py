"""Per-account sliding window: 429 RATE_LIMITED with an honest Retry-After."""

import time

import requests

from tests.sandbox.helpers import assert_error


def test_over_the_limit_is_429_with_retry_after(api, sandbox):
    sandbox.state.configure(rate_limit=3, rate_window=1.5)
    assert [api.get("/account/credits").status_code for _ in range(3)] == [200, 200, 200]

    limited = api.get("/account/credits")

    assert_error(limited, 429, "RATE_LIMITED")
    retry_after = int(limited.headers["Retry-After"])
    assert 1 <= retry_after <= 2
    time.sleep(1.6)
    assert api.get("/account/credits").status_code == 200


def test_the_default_is_100_per_minute(api, sandbox):
    assert sandbox.state.config.rate_limit == 100
    assert sandbox.state.config.rate_window == 60
    statuses = [api.get("/account/credits").status_code for _ in range(101)]
    assert statuses.count(200) == 100
    assert statuses[-1] == 429


def test_limits_are_per_account(api, sandbox):
    sandbox.state.configure(rate_limit=2, rate_window=60)
    sandbox.state.add_account("gk_other")
    api.get("/account/credits")
    api.get("/account/credits")
    assert api.get("/account/credits").status_code == 429
    assert api.get("/account/credits", api_key="gk_other").status_code == 200


def test_what_does_not_count(api, sandbox, person_photo):
    uploaded = api.upload(person_photo)  # 1 request
    sandbox.state.configure(rate_limit=2, rate_window=60)
    for _ in range(5):
        assert requests.get(uploaded["imageUrl"], timeout=5).status_code == 200  # file downloads
        assert api.get("/_sandbox/stats").status_code == 200  # control endpoints
        assert api.get("/account/credits", api_key="gk_nobody").status_code == 401
    assert api.get("/account/credits").status_code == 200
    assert api.get("/account/credits").status_code == 429


def test_rejected_requests_do_not_extend_the_wait(api, sandbox):
    sandbox.state.configure(rate_limit=1, rate_window=1.0)
    assert api.get("/account/credits").status_code == 200
    for _ in range(10):
        assert api.get("/account/credits").status_code == 429
    time.sleep(1.05)
    assert api.get("/account/credits").status_code == 200
