"""Each classic error status (400, 401, 402, 429, 500) in the page's nested shape."""

import io

import pytest
from PIL import Image

from tests.sandbox.classic import assert_classic_error, try_on


def test_missing_fields_are_400_listing_each(classic):
    error = assert_classic_error(classic.create({}), 400, "INVALID_REQUEST")
    assert error["details"]["fields"] == {
        "model_image": "Required",
        "garment_image": "Required",
        "category": "Required",
    }


@pytest.mark.parametrize("payload", [b"{not json", b"[1, 2]", b'"tops"'])
def test_a_body_that_is_no_json_object_is_400(classic, payload):
    response = classic.request(
        "POST", "/v1/try-on", data=payload, headers={"Content-Type": "application/json"}
    )
    assert_classic_error(response, 400, "INVALID_REQUEST")


def test_a_url_that_is_not_http_is_invalid_image_url(classic, garment_url):
    response = classic.create(try_on("ftp://files.example.com/me.jpg", garment_url))
    error = assert_classic_error(response, 400, "INVALID_IMAGE_URL")
    assert error["details"]["field"] == "model_image"


def test_an_image_that_cannot_be_fetched_is_invalid_image_url(classic, api, media, model_url):
    before = api.credits()
    response = classic.create(try_on(model_url, media.url("/products/gone.png")))
    error = assert_classic_error(response, 400, "INVALID_IMAGE_URL")
    assert error["message"] == "The provided image URL is not accessible"
    assert error["details"]["field"] == "garment_image"
    assert "404" in error["details"]["reason"]
    assert api.credits() == before  # nothing charged, nothing created
    assert api.get("/_sandbox/generations").json()["generations"] == []


def test_strict_by_default_loopback_images_are_not_accessible(
    classic, sandbox, model_url, garment_url
):
    sandbox.state.configure(beside_shop=False)  # as at Genlook: a shop on loopback is unreachable
    error = assert_classic_error(
        classic.create(try_on(model_url, garment_url)), 400, "INVALID_IMAGE_URL"
    )
    assert "loopback" in error["details"]["reason"]


def test_formats_other_than_jpg_png_webp_are_refused(classic, media, model_url):
    gif = io.BytesIO()
    Image.new("RGB", (64, 64), "red").save(gif, "GIF")
    url = media.serve("/products/tee.gif", gif.getvalue(), "image/gif")
    error = assert_classic_error(
        classic.create(try_on(model_url, url)), 400, "UNSUPPORTED_IMAGE_FORMAT"
    )
    assert error["details"]["field"] == "garment_image"


@pytest.mark.parametrize("fmt", ["JPEG", "WEBP"])
def test_jpg_and_webp_are_accepted(classic, media, model_url, fmt):
    data = io.BytesIO()
    Image.new("RGB", (64, 64), "blue").save(data, fmt)
    url = media.serve(f"/products/tee.{fmt.lower()}", data.getvalue(), f"image/{fmt.lower()}")
    assert classic.create(try_on(model_url, url)).status_code == 201


def test_images_over_10_mb_are_refused(classic, sandbox, media, model_url, garment_url):
    sandbox.state.configure(max_upload_bytes=1024)
    error = assert_classic_error(
        classic.create(try_on(model_url, garment_url)), 400, "IMAGE_TOO_LARGE"
    )
    assert error["details"]["field"] == "model_image"
    assert sandbox.state.config.max_upload_bytes == 1024  # 10 MB by default, lowered here


def test_a_bad_webhook_url_is_400(classic, model_url, garment_url):
    body = try_on(model_url, garment_url, webhook_url="not a url")
    error = assert_classic_error(classic.create(body), 400, "INVALID_REQUEST")
    assert "webhook_url" in error["details"]["fields"]


def test_no_key_is_401(classic, model_url, garment_url):
    classic.api_key = None
    response = classic.create(try_on(model_url, garment_url))
    error = assert_classic_error(response, 401, "MISSING_API_KEY")
    assert "Bearer" in error["message"]


def test_a_wrong_key_or_the_v1_header_is_401(classic, sandbox, model_url, garment_url):
    body = try_on(model_url, garment_url)
    assert_classic_error(classic.create(body, api_key="gk_nobody"), 401, "INVALID_API_KEY")
    classic.api_key = None
    v1_header = classic.create(body, headers={"x-api-key": sandbox.api_key})
    assert_classic_error(v1_header, 401, "MISSING_API_KEY")  # the classic API wants Bearer


def test_no_credits_is_402(classic, sandbox, model_url, garment_url):
    sandbox.state.set_credits(sandbox.api_key, 0)
    error = assert_classic_error(
        classic.create(try_on(model_url, garment_url)), 402, "INSUFFICIENT_CREDITS"
    )
    assert error["details"] == {"required": 1, "available": 0}


def test_the_shared_rate_limit_is_429_with_retry_after(classic, api, sandbox):
    sandbox.state.configure(rate_limit=2, rate_window=60)
    assert api.get("/account/credits").status_code == 200  # v1 and classic share the window
    assert classic.status("unknown").status_code == 404

    limited = classic.status("unknown")

    error = assert_classic_error(limited, 429, "RATE_LIMITED")
    assert int(limited.headers["Retry-After"]) >= 1
    assert error["details"]["retry_after"] == int(limited.headers["Retry-After"])
    assert api.get("/account/credits").status_code == 429


def test_an_injected_500_creates_nothing(classic, api, sandbox, model_url, garment_url):
    sandbox.state.set_faults(error_rates={500: 1.0})
    error = assert_classic_error(
        classic.create(try_on(model_url, garment_url)), 500, "INTERNAL_ERROR"
    )
    assert error["details"]["injected"] is True
    sandbox.state.clear_faults()
    assert api.get("/_sandbox/generations").json()["generations"] == []


def test_unknown_classic_routes_are_404_and_wrong_methods_405(classic):
    assert_classic_error(classic.request("GET", "/v1/nowhere"), 404, "NOT_FOUND")
    wrong = classic.request("GET", "/v1/try-on")
    assert_classic_error(wrong, 405, "METHOD_NOT_ALLOWED")
    assert wrong.headers["Allow"] == "POST"
