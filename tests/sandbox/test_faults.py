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


# -- Reproducible and deterministic faults ------------------------------------------------------


def decisions(injector, api_key, count):
    """``count`` decisions of each kind, as the sandbox takes them."""
    return [
        (
            injector.pick_error(api_key),
            injector.decide(api_key, "timeout"),
            injector.decide(api_key, "failed_generation"),
            injector.decide(api_key, "dropped_webhook"),
        )
        for _ in range(count)
    ]


def test_each_kind_of_fault_draws_from_its_own_seeded_generator():
    """With a seed, the n-th decision of a kind depends on nothing else: not on how many
    decisions of other kinds, or of other accounts, were taken in between."""
    from genlook_django.sandbox.faults import FaultInjector, Faults

    faults = Faults(
        error_rates={500: 0.2, 429: 0.1}, timeout_rate=0.3, fail_generations=0.3, drop_webhooks=0.3
    )
    alone, busy = FaultInjector(), FaultInjector()
    alone.set(faults, api_key="gk_a", seed=11)
    busy.set(faults, api_key="gk_a", seed=11)
    busy.set(faults, api_key="gk_b", seed=12)

    drops_alone = [alone.decide("gk_a", "dropped_webhook") for _ in range(50)]
    drops_busy = []
    for _ in range(50):
        busy.pick_error("gk_a")  # other kinds, and another account, draw in between
        busy.decide("gk_a", "timeout")
        busy.decide("gk_b", "dropped_webhook")
        drops_busy.append(busy.decide("gk_a", "dropped_webhook"))

    assert drops_alone == drops_busy
    again = FaultInjector()
    again.set(faults, api_key="gk_a", seed=11)
    assert decisions(again, "gk_a", 30) == decisions(_seeded(faults, 11), "gk_a", 30)


def _seeded(faults, seed):
    from genlook_django.sandbox.faults import FaultInjector

    injector = FaultInjector()
    injector.set(faults, api_key="gk_a", seed=seed)
    return injector


def test_even_mode_injects_exactly_each_rate_without_chance():
    from genlook_django.sandbox.faults import FaultInjector, Faults

    injector = FaultInjector()
    injector.set(
        Faults(
            error_rates={500: 0.05, 502: 0.05, 503: 0.05, 504: 0.05, 429: 0.10},
            timeout_rate=0.05,
            drop_webhooks=0.1,
            mode="even",
        ),
        api_key="gk_a",
    )

    drops = [injector.decide("gk_a", "dropped_webhook") for _ in range(30)]
    # Coming due together, the shares wait their turn: one fault per decision at most.
    errors = [injector.pick_error("gk_a") for _ in range(105)]
    timeouts = [injector.decide("gk_a", "timeout") for _ in range(40)]

    assert [n for n, dropped in enumerate(drops, 1) if dropped] == [10, 20, 30]  # every 10th
    assert sorted(e for e in errors if e) == sorted([500, 502, 503, 504] * 5 + [429] * 10)
    assert errors[:9] == [None] * 9  # nothing owed a whole fault yet
    assert sum(timeouts) == 2
    assert injector.injected("gk_a") == {
        "429": 10,
        "500": 5,
        "502": 5,
        "503": 5,
        "504": 5,
        "dropped_webhook": 3,
        "timeout": 2,
    }


def test_forced_counts_come_first_then_the_rate():
    from genlook_django.sandbox.faults import FaultInjector, Faults

    injector = FaultInjector()
    injector.set(Faults(drop_next_webhooks=2, fail_next_generations=1), api_key="gk_a")
    assert [injector.decide("gk_a", "dropped_webhook") for _ in range(4)] == [1, 1, 0, 0]
    assert [injector.decide("gk_a", "failed_generation") for _ in range(3)] == [1, 0, 0]


def test_fail_the_next_generation_only(api, sandbox, photo_id, garment_url):
    sandbox.state.set_faults(fail_next_generations=1)
    first = api.try_on(body(photo_id, garment_url)).json()["generationId"]
    second = api.try_on(body(photo_id, garment_url)).json()["generationId"]
    assert api.wait(first)["status"] == "FAILED"
    assert api.wait(second)["status"] == "COMPLETED"


def test_fault_modes_and_counts_are_checked(sandbox):
    with pytest.raises(ValueError, match="mode"):
        sandbox.state.set_faults(mode="sometimes")
    with pytest.raises(ValueError, match="drop_next_webhooks"):
        sandbox.state.set_faults(drop_next_webhooks=-1)
