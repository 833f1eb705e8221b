"""Sandbox-only control endpoints under ``_sandbox/``."""

import pytest

from tests.sandbox.helpers import assert_error, inline_product, person


def test_stats(api, photo_id, garment_url):
    api.try_on({"products": [{"externalId": "nope"}], "person": person(photo_id)})
    generation_id = api.try_on(
        {"products": [inline_product("s", garment_url)], "person": person(photo_id)}
    ).json()["generationId"]
    api.wait(generation_id)

    stats = api.get("/_sandbox/stats").json()

    assert stats["requests"]["byRoute"]["POST /try-on"] == {"404": 1, "200": 1}
    assert stats["requests"]["byRoute"]["POST /images/upload"] == {"200": 1}
    assert stats["generations"] == {"created": 1, "byStatus": {"COMPLETED": 1}}
    assert stats["creditBalance"] == 99
    assert stats["config"]["rate_limit"] == 100


def test_generations_lists_every_generation_with_its_customer(api, photo_id, garment_url):
    body = {"products": [inline_product("s", garment_url)], "person": person(photo_id)}
    first = api.try_on({**body, "externalUserId": "shopper-1"}).json()["generationId"]
    second = api.try_on(body).json()["generationId"]

    listed = api.get("/_sandbox/generations").json()["generations"]

    assert [g["generationId"] for g in listed] == [first, second]
    assert [g["externalUserId"] for g in listed] == ["shopper-1", None]
    assert {g["productExternalId"] for g in listed} == {"s"}
    assert api.get("/_sandbox/generations", api_key="gk_nobody").status_code == 401


def test_stats_count_the_faults_injected_by_kind(api, sandbox, photo_id, garment_url):
    sandbox.state.set_faults(error_rates={502: 1.0})
    assert api.get("/account/credits").status_code == 502
    sandbox.state.set_faults(timeout_rate=1.0, timeout_seconds=0.01, fail_generations=1.0)
    assert api.get("/account/credits").status_code == 200  # late, but answered
    body = {"products": [inline_product("s", garment_url)], "person": person(photo_id)}
    assert api.try_on(body).status_code == 200

    injected = api.get("/_sandbox/stats").json()["faultsInjected"]

    assert injected == {"502": 1, "failed_generation": 1, "timeout": 2}
    api.post("/_sandbox/reset")
    assert api.get("/_sandbox/stats").json()["faultsInjected"] == {}


def test_faults(api, sandbox):
    response = api.post("/_sandbox/faults", json={"error_rates": {"503": 1.0}, "seed": 3})
    assert response.status_code == 200, response.text
    assert response.json()["faults"]["error_rates"] == {"503": 1.0}
    assert api.get("/account/credits").status_code == 503
    assert api.post("/_sandbox/faults", json={}).status_code == 200  # all zero again
    assert api.get("/account/credits").status_code == 200


def test_global_faults(api, sandbox):
    sandbox.state.add_account("gk_other")
    api.post("/_sandbox/faults", json={"error_rates": {"500": 1.0}, "global": True})
    assert api.get("/account/credits", api_key="gk_other").status_code == 500


def test_credits(api):
    response = api.post("/_sandbox/credits", json={"credits": 0})
    assert response.json() == {"creditBalance": 0}
    assert api.credits() == 0


def test_config(api, sandbox):
    response = api.post("/_sandbox/config", json={"generation_seconds": 0.1, "rate_limit": 7})
    assert response.status_code == 200
    assert response.json()["rate_limit"] == 7
    assert sandbox.state.config.generation_seconds == 0.1


def test_reset(api, sandbox, garment_url):
    api.post("/products", json={"externalId": "x", "imageUrls": [garment_url]})
    sandbox.state.set_credits(api.api_key, 1)
    assert api.post("/_sandbox/reset").json() == {"reset": True}
    assert api.get("/products").json()["count"] == 0
    assert api.credits() == 100


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/_sandbox/config", {"colour": "red"}),
        ("/_sandbox/config", {"rate_limit": "lots"}),
        ("/_sandbox/faults", {"timeout_rate": 2}),
        ("/_sandbox/credits", {"credits": -1}),
    ],
)
def test_bad_control_bodies(api, path, body):
    assert_error(api.post(path, json=body), 400, "VALIDATION_FAILED")


def test_control_needs_a_valid_key_and_is_not_logged(api, sandbox):
    assert_error(api.get("/_sandbox/stats", api_key="gk_nobody"), 401, "INVALID_API_KEY")
    assert_error(api.session.get(api.base_url + "/_sandbox/stats"), 401, "MISSING_API_KEY")
    assert_error(api.get("/_sandbox/reset"), 405, "METHOD_NOT_ALLOWED")
    assert sandbox.state.requests == []


def test_faults_in_even_mode_and_forced_counts(api, sandbox):
    response = api.post(
        "/_sandbox/faults",
        json={"error_rates": {"503": 0.5}, "mode": "even", "drop_next_webhooks": 2},
    )
    assert response.status_code == 200, response.text
    assert response.json()["faults"]["mode"] == "even"
    assert response.json()["faults"]["drop_next_webhooks"] == 2
    codes = [api.get("/account/credits").status_code for _ in range(4)]
    assert codes == [200, 503, 200, 503]  # every other one, exactly
    assert api.get("/_sandbox/stats").json()["faultsInjected"] == {"503": 2}
