"""The v1 fault injection applies to the classic routes too, deterministically."""

import pytest
import requests

from tests.sandbox.classic import assert_classic_error, try_on
from tests.sandbox.helpers import eventually


def test_even_mode_error_rates_hit_classic_requests(classic, sandbox, model_url, garment_url):
    sandbox.state.set_faults(error_rates={503: 0.5}, mode="even")
    statuses = [classic.create(try_on(model_url, garment_url)).status_code for _ in range(4)]
    assert statuses == [201, 503, 201, 503]
    assert sandbox.state.faults.injected(sandbox.api_key) == {"503": 2}


def test_an_injected_429_says_retry_after_1(classic, sandbox):
    sandbox.state.set_faults(error_rates={429: 1.0})
    limited = classic.status("anything")
    assert_classic_error(limited, 429, "RATE_LIMITED")
    assert limited.headers["Retry-After"] == "1"


def test_failing_generations_give_the_credit_back(classic, api, sandbox, model_url, garment_url):
    sandbox.state.set_faults(fail_generations=1.0, fail_error_code="MODEL_OVERLOADED")
    before = api.credits()
    generation_id = classic.create(try_on(model_url, garment_url)).json()["id"]
    failed = classic.wait(generation_id)
    assert failed["status"] == "failed"
    assert failed["error"]["code"] == "MODEL_OVERLOADED"
    assert api.credits() == before


def test_slow_generations_stay_processing(classic, sandbox, model_url, garment_url):
    sandbox.state.configure(generation_seconds=30)
    created = classic.create(try_on(model_url, garment_url)).json()
    assert created["eta_seconds"] == 30
    assert classic.status(created["id"]).json()["status"] == "processing"


def test_dropped_webhooks(classic, sandbox, media, model_url, garment_url):
    sandbox.state.set_faults(drop_next_webhooks=1)
    hook = media.url("/hooks/dropped")
    first = classic.create(try_on(model_url, garment_url, webhook_url=hook)).json()["id"]
    assert classic.wait(first)["status"] == "completed"
    assert eventually(lambda: [d.outcome for d in sandbox.state.webhook_deliveries] == ["dropped"])
    second = classic.create(try_on(model_url, garment_url, webhook_url=hook)).json()["id"]
    (delivery,) = media.wait_for(1, "/hooks/dropped")
    assert delivery.json()["id"] == second


def test_late_answers_still_create_the_generation(classic, api, sandbox, model_url, garment_url):
    sandbox.state.set_faults(timeout_rate=1.0, timeout_seconds=1.0, mode="even")
    with pytest.raises(requests.ReadTimeout):
        classic.create(try_on(model_url, garment_url), timeout=0.3)
    assert eventually(lambda: sandbox.state.generations_created(sandbox.api_key) == 1)
    assert sandbox.state.faults.injected(sandbox.api_key) == {"timeout": 1}
