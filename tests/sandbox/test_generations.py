"""GET /generations/{id}, the result image, the mock engine and /try-on/sync."""

import io
import re
import time

import requests
from PIL import Image, ImageChops

from tests.sandbox.helpers import assert_error, inline_product, person

ISO_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")


def start(api, photo_id, image_url, external_id="shirt-1", **extra):
    body = {"products": [inline_product(external_id, image_url)], "person": person(photo_id)}
    body.update(extra)
    response = api.try_on(body)
    assert response.status_code == 200, response.text
    return response.json()["generationId"]


def test_status_moves_pending_processing_completed(api, sandbox, photo_id, garment_url):
    sandbox.state.configure(generation_seconds=1.0)
    generation_id = start(api, photo_id, garment_url)
    seen = []
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        body = api.get(f"/generations/{generation_id}").json()
        if not seen or seen[-1] != body["status"]:
            seen.append(body["status"])
        if body["status"] == "COMPLETED":
            break
        time.sleep(0.05)
    assert seen == ["PENDING", "PROCESSING", "COMPLETED"]


def test_generation_body(api, photo_id, garment_url):
    generation_id = start(api, photo_id, garment_url)
    pending = api.get(f"/generations/{generation_id}").json()
    assert set(pending) == {"generationId", "status", "createdAt", "updatedAt"}
    assert pending["generationId"] == generation_id
    assert ISO_Z.match(pending["createdAt"])

    done = api.wait(generation_id)
    assert set(done) == {"generationId", "status", "resultImageUrl", "createdAt", "updatedAt"}
    assert done["status"] == "COMPLETED"
    assert ISO_Z.match(done["updatedAt"])
    assert done["updatedAt"] > done["createdAt"]


def test_completion_happens_without_polling(api, sandbox, photo_id, garment_url):
    generation_id = start(api, photo_id, garment_url)
    time.sleep(0.6)
    assert sandbox.state.count(path="/generations/{generationId}") == 0
    assert api.get(f"/generations/{generation_id}").json()["status"] == "COMPLETED"


def test_result_is_an_image_combining_person_and_garment(api, media, person_photo, garment_url):
    uploaded = api.upload(person_photo)
    result_url = api.wait(start(api, uploaded["imageId"], garment_url))["resultImageUrl"]

    assert media.requests_to("/products/red-tee.png", "GET")  # the product image was fetched
    response = requests.get(result_url, timeout=5)
    assert response.status_code == 200
    assert response.headers["Content-Type"] in ("image/jpeg", "image/png")
    result = Image.open(io.BytesIO(response.content))
    assert result.format in ("JPEG", "PNG")

    original = Image.open(io.BytesIO(requests.get(uploaded["imageUrl"], timeout=5).content))
    assert result.size == original.size
    difference = ImageChops.difference(result.convert("RGB"), original.convert("RGB"))
    assert difference.getbbox() is not None
    # The red garment landed on the torso, the middle of the picture.
    r, g, b = result.convert("RGB").getpixel((result.width // 2, int(result.height * 0.5)))
    assert r > 150 and g < 90 and b < 90


def test_unreachable_product_host_is_never_contacted(api, photo_id):
    generation_id = start(api, photo_id, "https://cdn.example.com/products/shirt.jpg")
    done = api.wait(generation_id)
    assert done["status"] == "COMPLETED"  # a drawn placeholder swatch stood in
    assert requests.get(done["resultImageUrl"], timeout=5).status_code == 200


def test_product_image_fetch_failure_fails_the_generation(api, media, photo_id):
    missing = media.url("/products/gone.png")
    generation_id = start(api, photo_id, missing)
    done = api.wait(generation_id)
    assert done["status"] == "FAILED"
    assert done["errorCode"] == "PRODUCT_IMAGE_FETCH_FAILED"
    assert done["errorMessage"]
    assert "resultImageUrl" not in done


def test_product_image_that_is_not_an_image_fails_the_generation(api, media, photo_id):
    url = media.serve("/products/page.html", b"<html></html>" * 20, "text/html")
    done = api.wait(start(api, photo_id, url))
    assert done["errorCode"] == "PRODUCT_IMAGE_FETCH_FAILED"


def test_mock_title_returns_the_person_photo_unchanged(api, sandbox, person_photo, garment_url):
    sandbox.state.configure(generation_seconds=30)  # the mock engine does not wait
    uploaded = api.upload(person_photo)
    body = {
        "products": [inline_product("mock-1", garment_url, title="mock")],
        "person": person(uploaded["imageId"]),
    }
    created = api.try_on(body)
    assert created.status_code == 200
    done = api.wait(created.json()["generationId"], timeout=2)
    assert done["status"] == "COMPLETED"
    result = requests.get(done["resultImageUrl"], timeout=5).content
    assert result == requests.get(uploaded["imageUrl"], timeout=5).content


def test_unknown_generation(api):
    assert_error(api.get("/generations/cm000000000000000000000000"), 404, "GENERATION_NOT_FOUND")


def test_another_accounts_generation_is_forbidden(api, sandbox, photo_id, garment_url):
    sandbox.state.add_account("gk_other", credits=5)
    generation_id = start(api, photo_id, garment_url)
    assert_error(api.get(f"/generations/{generation_id}", api_key="gk_other"), 403, "FORBIDDEN")


def test_results_expire_after_keep_for_days(api, sandbox, photo_id, garment_url):
    generation_id = start(api, photo_id, garment_url, output={"keepForDays": 3})
    url = api.wait(generation_id)["resultImageUrl"]
    sandbox.state.advance_clock(3 * 86_400 - 60)
    assert requests.get(url, timeout=5).status_code == 200
    sandbox.state.advance_clock(120)
    assert requests.get(url, timeout=5).status_code == 404


def test_watermark_can_be_turned_off(api, photo_id, garment_url):
    marked = api.wait(start(api, photo_id, garment_url))
    plain = api.wait(start(api, photo_id, garment_url, output={"watermark": False}))
    a = Image.open(io.BytesIO(requests.get(marked["resultImageUrl"], timeout=5).content))
    b = Image.open(io.BytesIO(requests.get(plain["resultImageUrl"], timeout=5).content))
    corner = (a.width - a.width // 5, 0, a.width, a.height // 10)  # where "genlook" sits
    assert ImageChops.difference(a.crop(corner), b.crop(corner)).getbbox() is not None


# -- /try-on/sync ----------------------------------------------------------------------------


def test_sync_answers_200_with_the_result(api, photo_id, garment_url):
    body = {"products": [inline_product("shirt-1", garment_url)], "person": person(photo_id)}
    response = api.post("/try-on/sync", json=body)
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["status"] == "COMPLETED"
    assert result["productExternalId"] == "shirt-1"
    assert requests.get(result["resultImageUrl"], timeout=5).status_code == 200
    assert api.get(f"/generations/{result['generationId']}").json()["status"] == "COMPLETED"


def test_sync_answers_202_when_not_finished_in_time(api, sandbox, photo_id, garment_url):
    sandbox.state.configure(generation_seconds=2.5, sync_wait_seconds=0.3)
    body = {"products": [inline_product("shirt-1", garment_url)], "person": person(photo_id)}
    started = time.monotonic()
    response = api.post("/try-on/sync", json=body)
    assert 0.25 < time.monotonic() - started < 2.0  # waited sync_wait, not the generation
    assert response.status_code == 202, response.text
    accepted = response.json()
    assert set(accepted) == {"generationId", "status", "productExternalId"}
    assert accepted["status"] in ("PENDING", "PROCESSING")
    assert api.wait(accepted["generationId"])["status"] == "COMPLETED"


def test_sync_reports_a_failed_generation(api, media, photo_id):
    body = {
        "products": [inline_product("shirt-1", media.url("/products/gone.png"))],
        "person": person(photo_id),
    }
    response = api.post("/try-on/sync", json=body)
    assert response.status_code == 200
    assert response.json()["status"] == "FAILED"
    assert response.json()["errorCode"] == "PRODUCT_IMAGE_FETCH_FAILED"


def test_sync_refuses_like_try_on(api, photo_id):
    body = {"products": [{"externalId": "nope"}], "person": person(photo_id)}
    assert_error(api.post("/try-on/sync", json=body), 404, "PRODUCT_NOT_FOUND")
