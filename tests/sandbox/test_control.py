"""Sandbox-only control endpoints under ``_sandbox/``."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from tests.sandbox.helpers import CONTROL_TOKEN_HEADER, assert_error, inline_product, person


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
    no_key = {CONTROL_TOKEN_HEADER: sandbox.control_token}
    assert_error(
        api.session.get(api.base_url + "/_sandbox/stats", headers=no_key), 401, "MISSING_API_KEY"
    )
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


# -- the control token: the API key is no credential here --------------------------------------

CONTROL_ROUTES = [
    ("GET", "/_sandbox/stats"),
    ("GET", "/_sandbox/generations"),
    ("POST", "/_sandbox/faults"),
    ("POST", "/_sandbox/reset"),
    ("POST", "/_sandbox/credits"),
    ("POST", "/_sandbox/config"),
]
BODIES = {
    "/_sandbox/faults": {"error_rates": {"500": 1.0}, "global": True},
    "/_sandbox/credits": {"credits": 100_000},
    "/_sandbox/config": {"rate_limit": 1},
}


@pytest.mark.parametrize(("method", "path"), CONTROL_ROUTES)
def test_the_plain_api_key_gives_no_access_to_the_control_endpoints(
    api, sandbox, photo_id, method, path
):
    url = api.base_url + path
    body = BODIES.get(path)
    key = api.api_key
    attempts = {
        "MISSING_CONTROL_TOKEN": [
            {"x-api-key": key},
            {"Authorization": f"Bearer {key}"},
            {"x-api-key": key, CONTROL_TOKEN_HEADER: ""},
        ],
        "INVALID_CONTROL_TOKEN": [
            {"x-api-key": key, CONTROL_TOKEN_HEADER: key},  # the key where the token goes
            {CONTROL_TOKEN_HEADER: key},
            {"x-api-key": key, CONTROL_TOKEN_HEADER: sandbox.control_token[:-1]},
            {"x-api-key": key, CONTROL_TOKEN_HEADER: sandbox.control_token + "x"},
        ],
    }
    for code, headers_list in attempts.items():
        for headers in headers_list:
            for verb in {method, "GET", "POST", "DELETE"}:  # nothing told, not even the method
                response = api.session.request(verb, url, headers=headers, json=body, timeout=10)
                assert_error(response, 401, code)
                assert sandbox.control_token not in response.text

    # Nothing happened: no reset (the photo is still there), no credits, faults or config.
    state = sandbox.state
    assert state.uploads.content(key, photo_id) is not None
    assert api.credits() == 100  # answered 200: no fault either
    assert state.config.rate_limit == 100


def test_the_control_token_is_enough_for_what_concerns_every_account(api, sandbox):
    token = {CONTROL_TOKEN_HEADER: sandbox.control_token}
    url = api.base_url + "/_sandbox/"
    response = api.session.post(url + "config", json={"rate_limit": 7}, headers=token)
    assert response.json()["rate_limit"] == 7
    response = api.session.post(url + "faults", json={"global": True, "latency": 0}, headers=token)
    assert response.json()["scope"] == "global"
    assert api.session.post(url + "reset", headers=token).json() == {"reset": True}
    # An account's own endpoints need it named (x-api-key selects, the token authorises).
    assert_error(api.session.get(url + "stats", headers=token), 401, "MISSING_API_KEY")
    assert_error(
        api.session.post(url + "credits", json={"credits": 1}, headers=token),
        401,
        "MISSING_API_KEY",
    )


def test_the_control_token_is_random_per_state_and_survives_reset(sandbox):
    from genlook_django.sandbox.state import SandboxState

    token = sandbox.control_token
    assert len(token) >= 40
    assert token != SandboxState().control_token
    sandbox.state.reset()
    assert sandbox.control_token == token


def test_the_control_token_from_settings(api, sandbox, settings):
    settings.GENLOOK_SANDBOX = {**settings.GENLOOK_SANDBOX, "CONTROL_TOKEN": "s" * 32}
    assert sandbox.control_token == "s" * 32
    assert api.session.post(
        api.base_url + "/_sandbox/reset", headers={CONTROL_TOKEN_HEADER: "s" * 32}
    ).json() == {"reset": True}
    assert_error(api.post("/_sandbox/reset", headers={CONTROL_TOKEN_HEADER: "x" * 32}), 401,
                 "INVALID_CONTROL_TOKEN")  # fmt: skip


@pytest.mark.parametrize("token", ["short", 12345678901234567890, " " + "s" * 20])
def test_a_weak_control_token_is_refused(sandbox, settings, token):
    settings.GENLOOK_SANDBOX = {**settings.GENLOOK_SANDBOX, "CONTROL_TOKEN": token}
    with pytest.raises(ImproperlyConfigured, match="CONTROL_TOKEN"):
        sandbox.state.control_token  # noqa: B018
    with pytest.raises(ValueError, match="control token"):
        sandbox.state.set_control_token(token)


def test_a_control_token_that_is_also_an_api_key_opens_nothing(api, sandbox, settings):
    key = "gk_" + "k" * 30
    settings.GENLOOK_SANDBOX = {
        "API_KEYS": {**settings.GENLOOK_SANDBOX["API_KEYS"], key: 5},
        "CONTROL_TOKEN": key,
    }
    response = api.post("/_sandbox/credits", api_key=key, headers={CONTROL_TOKEN_HEADER: key},
                        json={"credits": 1000})  # fmt: skip
    assert_error(response, 403, "CONTROL_TOKEN_IS_AN_API_KEY")
    assert api.credits(api_key=key) == 5


def test_a_server_given_a_control_token_uses_it_while_it_runs():
    import requests

    from genlook_django.sandbox.state import SandboxState
    from genlook_django.sandbox.testing import SandboxServer

    state = SandboxState()
    random_token = state.control_token
    with SandboxServer({"gk_own": 3}, state=state, control_token="t" * 20) as server:
        assert server.control_token == "t" * 20
        assert server.control_headers == {CONTROL_TOKEN_HEADER: "t" * 20, "x-api-key": "gk_own"}
        response = requests.get(
            server.base_url + "/_sandbox/stats", headers=server.control_headers, timeout=10
        )
        assert response.json()["creditBalance"] == 3
        stale = {**server.control_headers, CONTROL_TOKEN_HEADER: random_token}
        response = requests.get(server.base_url + "/_sandbox/stats", headers=stale, timeout=10)
        assert_error(response, 401, "INVALID_CONTROL_TOKEN")
    assert state.control_token == random_token
    with pytest.raises(ValueError, match="control token"):
        SandboxServer(control_token="short")
