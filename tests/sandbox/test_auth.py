"""Authentication, the error shape, and what lies outside the documented routes."""

import pytest

from tests.sandbox.helpers import assert_error

API_ROUTES = [
    ("POST", "/images/upload"),
    ("POST", "/try-on"),
    ("POST", "/try-on/sync"),
    ("GET", "/generations/cmwhatever"),
    ("GET", "/products"),
    ("POST", "/products"),
    ("GET", "/products/shirt-42"),
    ("DELETE", "/products/shirt-42"),
    ("GET", "/account/credits"),
    ("DELETE", "/customers/shopper-1"),
]


@pytest.mark.parametrize(("method", "path"), API_ROUTES)
def test_every_endpoint_requires_the_api_key_header(api, method, path):
    response = api.session.request(method, api.base_url + path)
    assert_error(response, 401, "MISSING_API_KEY")


@pytest.mark.parametrize(("method", "path"), API_ROUTES)
def test_an_unknown_key_is_invalid(api, method, path):
    response = api.request(method, path, api_key="gk_revoked")
    assert_error(response, 401, "INVALID_API_KEY")


def test_keys_come_from_settings(api):
    assert api.api_key == "gk_test_default"
    assert api.credits() == 100


def test_keys_added_to_settings_later_are_honoured(api, settings):
    settings.GENLOOK_SANDBOX = {"API_KEYS": {"gk_new": {"credits": 7}}}
    assert api.credits(api_key="gk_new") == 7


def test_keys_added_at_runtime_are_honoured(api, sandbox):
    sandbox.state.add_account("gk_runtime", credits=3)
    assert api.credits(api_key="gk_runtime") == 3


def test_unknown_route_is_a_json_404(api):
    assert_error(api.get("/nothing/here"), 404, "NOT_FOUND")


def test_wrong_method_is_a_json_405(api):
    response = api.request("PUT", "/try-on")
    assert_error(response, 405, "METHOD_NOT_ALLOWED")
    assert response.headers["Allow"] == "POST"


def test_the_server_serves_only_the_sandbox(sandbox):
    # The host project's urls (admin, shop) are not reachable through SandboxServer.
    import requests

    response = requests.get(sandbox.origin + "/admin/", timeout=5)
    assert_error(response, 404, "NOT_FOUND")
