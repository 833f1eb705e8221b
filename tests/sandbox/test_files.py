"""``_files/``: photos and results served only at their unguessable, expiring URL.

The URL is the only credential: an API key neither grants access to a file nor is needed
for it, nothing lists the files, and an expired or erased file is gone."""

import secrets

import pytest
import requests

from tests.sandbox.helpers import CONTROL_TOKEN_HEADER, assert_error, inline_product, person

DAY = 86_400


def result_url(api, photo_id, garment_url, **output) -> str:
    body = {"products": [inline_product("f", garment_url)], "person": person(photo_id)}
    if output:
        body["output"] = output
    generation = api.wait(api.try_on(body).json()["generationId"])
    assert generation["status"] == "COMPLETED", generation
    return generation["resultImageUrl"]


def test_the_url_alone_opens_the_file_and_no_key_is_needed(api, person_photo):
    url = api.upload(person_photo, externalUserId="shopper-1")["imageUrl"]
    anonymous = requests.get(url, timeout=5)
    assert anonymous.status_code == 200
    assert anonymous.headers["X-Content-Type-Options"] == "nosniff"
    with_key = requests.get(url, headers={"x-api-key": api.api_key}, timeout=5)
    assert with_key.content == anonymous.content  # the key changes nothing
    with_another_key = requests.get(url, headers={"x-api-key": "gk_nobody"}, timeout=5)
    assert with_another_key.content == anonymous.content


def test_the_api_key_opens_no_file_without_its_url(api, sandbox, person_photo, photo_id):
    real = api.upload(person_photo)["imageUrl"]
    token, extension = real.rsplit("/", 1)[1].split(".")
    key = {"x-api-key": api.api_key}
    control = {**key, CONTROL_TOKEN_HEADER: sandbox.control_token}  # not even with this
    files = api.base_url + "/_files"
    guesses = [
        files,
        files + "/",
        f"{files}/{secrets.token_urlsafe(24)}.jpeg",
        f"{files}/{secrets.token_urlsafe(24)}",
        f"{files}/{token}",  # the right token, not the URL that was handed out
        f"{files}/{token}.png",
        f"{files}/{token}.{extension}x",
        f"{files}/{token[:-1]}.{extension}",
        f"{files}/{api.api_key}.{extension}",
        f"{files}/{photo_id}",
        f"{files}/{photo_id.replace('/', '%2F')}",
    ]
    for url in guesses:
        for headers in (key, control, {"Authorization": f"Bearer {api.api_key}"}):
            response = requests.get(url, headers=headers, timeout=5)
            assert response.status_code == 404, (url, response.status_code)
            assert response.headers["Content-Type"].startswith("application/json")
            assert token not in response.text
    assert requests.get(real, timeout=5).status_code == 200


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE"])
def test_files_are_read_only(api, person_photo, method):
    url = api.upload(person_photo)["imageUrl"]
    response = requests.request(method, url, headers={"x-api-key": api.api_key}, timeout=5)
    assert_error(response, 405, "METHOD_NOT_ALLOWED")
    assert requests.get(url, timeout=5).status_code == 200


def test_an_expired_result_url_stops_working(api, sandbox, photo_id, garment_url):
    url = result_url(api, photo_id, garment_url, keepForDays=1)
    fresh = requests.get(url, timeout=5)
    assert fresh.status_code == 200
    assert fresh.headers["Cache-Control"] == "private, max-age=3600"
    sandbox.state.advance_clock(DAY - 600)
    # Caches may keep it no longer than it lives.
    cache_control = requests.get(url, timeout=5).headers["Cache-Control"]
    assert cache_control in ("private, max-age=600", "private, max-age=599")
    sandbox.state.advance_clock(601)
    for headers in ({}, {"x-api-key": api.api_key}):
        assert_error(requests.get(url, headers=headers, timeout=5), 404, "NOT_FOUND")
        assert requests.head(url, headers=headers, timeout=5).status_code == 404


def test_an_expired_upload_url_stops_working(api, sandbox, person_photo):
    url = api.upload(person_photo, keepForDays="1")["imageUrl"]
    sandbox.state.advance_clock(DAY + 1)
    assert_error(requests.get(url, headers={"x-api-key": api.api_key}, timeout=5), 404, "NOT_FOUND")


def test_file_urls_are_listed_nowhere_without_the_control_token(
    api, sandbox, photo_id, garment_url
):
    url = result_url(api, photo_id, garment_url)
    token = url.rsplit("/", 1)[1]
    for path in ("/", "/_files", "/_sandbox/generations", "/_sandbox/stats", "/products"):
        assert (
            token
            not in api.session.get(
                api.base_url + path, headers={"x-api-key": api.api_key}, timeout=5
            ).text
        )
