"""Fault injection: errors before processing, latency, late answers, failed generations."""

import time

import pytest
import requests

from tests.sandbox.helpers import assert_error, inline_product, person


def body(photo_id, image_url):
    return {"products": [inline_product("shirt-1", image_url)], "person": person(photo_id)}


def statuses(api, count, photo_id, image_url):
    return [api.try_on(body(photo_id, image_url)).status_code for _ in range(count)]


def test_error_rates_are_reproducible_with_a_seed(api, sandbox, photo_id, garment_url):
    rates = {500: 0.2, 503: 0.1, 429: 0.1}
    sandbox.state.set_faults(error_rates=rates, seed=7)
    first = statuses(api, 40, photo_id, garment_url)
    sandbox.state.set_faults(error_rates=rates, seed=7)
    second = statuses(api, 40, photo_id, garment_url)

    assert first == second
    assert {500, 503, 429, 200} == set(first)


def test_injected_errors_create_and_charge_nothing(api, sandbox, photo_id, garment_url):
    sandbox.state.set_faults(error_rates={503: 1.0})
    before = sandbox.state.get_credits(api.api_key)

    assert_error(api.try_on(body(photo_id, garment_url)), 503, "SERVICE_UNAVAILABLE")
    assert_error(
        api.post("/products", json={"externalId": "x", "imageUrls": [garment_url]}),
        503,
        "SERVICE_UNAVAILABLE",
    )

    sandbox.state.clear_faults()
    assert sandbox.state.generations_created() == 0
    assert sandbox.state.get_credits(api.api_key) == before
    assert api.get("/products").json()["count"] == 0


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (500, "INTERNAL_ERROR"),
        (502, "BAD_GATEWAY"),
        (504, "GATEWAY_TIMEOUT"),
        (418, "INJECTED_FAULT"),
    ],
)
def test_injected_error_bodies_have_the_documented_shape(api, sandbox, status, code):
    sandbox.state.set_faults(error_rates={status: 1.0})
    assert_error(api.get("/account/credits"), status, code)


def test_injected_429_says_retry_after_1(api, sandbox):
    sandbox.state.set_faults(error_rates={429: 1.0})
    response = api.get("/account/credits")
    assert_error(response, 429, "RATE_LIMITED")
    assert response.headers["Retry-After"] == "1"


def test_faults_per_account_override_the_global_ones(api, sandbox):
    sandbox.state.add_account("gk_calm")
    sandbox.state.set_faults(error_rates={500: 1.0})
    sandbox.state.set_faults("gk_calm")
    assert api.get("/account/credits").status_code == 500
    assert api.get("/account/credits", api_key="gk_calm").status_code == 200


def test_latency(api, sandbox):
    sandbox.state.set_faults(latency=0.3)
    started = time.monotonic()
    assert api.get("/account/credits").status_code == 200
    assert time.monotonic() - started >= 0.3


def test_timeouts_happen_after_the_request_was_processed(api, sandbox, photo_id, garment_url):
    sandbox.state.set_faults(timeout_rate=1.0, timeout_seconds=1.5)
    with pytest.raises(requests.ReadTimeout):
        api.try_on(body(photo_id, garment_url), timeout=0.5)
    sandbox.state.clear_faults()

    assert sandbox.state.generations_created() == 1  # accepted and charged all the same
    assert sandbox.state.get_credits(api.api_key) == 99
    (entry,) = [r for r in sandbox.state.requests if r.path == "/try-on"]
    assert entry.status == 200 and entry.generation_id


def test_fail_generations(api, sandbox, photo_id, garment_url):
    sandbox.state.set_faults(fail_generations=1.0, fail_error_code="PRODUCT_IMAGE_FETCH_FAILED")
    generation_id = api.try_on(body(photo_id, garment_url)).json()["generationId"]
    done = api.wait(generation_id)
    assert done["status"] == "FAILED"
    assert done["errorCode"] == "PRODUCT_IMAGE_FETCH_FAILED"
    assert api.credits() == 100  # refunded


def test_untyped_failures_have_no_error_code(api, sandbox, photo_id, garment_url):
    sandbox.state.set_faults(fail_generations=1.0, fail_error_code=None)
    done = api.wait(api.try_on(body(photo_id, garment_url)).json()["generationId"])
    assert done["status"] == "FAILED"
    assert "errorCode" not in done
    assert done["errorMessage"]


def test_bad_fault_settings_are_refused(sandbox):
    with pytest.raises(ValueError, match="probabilit"):
        sandbox.state.set_faults(error_rates={500: 0.8, 503: 0.5})
    with pytest.raises(ValueError, match="HTTP error status"):
        sandbox.state.set_faults(error_rates={200: 0.5})
