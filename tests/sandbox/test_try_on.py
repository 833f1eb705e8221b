"""POST /try-on: the three product shapes, person sources, multipart, deprecated shapes, errors."""

import json

import pytest

from tests.sandbox.helpers import assert_error, inline_product, person


def test_reference_first_then_inline_on_product_not_found(api, photo_id, garment_url):
    """The documented steady-state pattern (Full Example): reference, 404, inline, poll."""
    reference = {"products": [{"externalId": "shirt-42"}], "person": person(photo_id)}
    assert_error(api.try_on(reference), 404, "PRODUCT_NOT_FOUND")

    inline = {"products": [inline_product("shirt-42", garment_url)], "person": person(photo_id)}
    created = api.try_on(inline)
    assert created.status_code == 200, created.text
    assert created.json() == {
        "generationId": created.json()["generationId"],
        "status": "PENDING",
        "productExternalId": "shirt-42",
    }
    assert api.wait(created.json()["generationId"])["status"] == "COMPLETED"

    again = api.try_on(reference)  # now the cheap call works
    assert again.status_code == 200
    assert again.json()["productExternalId"] == "shirt-42"
    assert api.wait(again.json()["generationId"])["status"] == "COMPLETED"


def test_one_shot_gets_a_generated_id_that_can_be_referenced(api, photo_id, garment_url):
    product = {"title": "Tee", "images": [{"source": {"url": garment_url}}]}
    created = api.try_on({"products": [product], "person": person(photo_id)})
    assert created.status_code == 200, created.text
    generated = created.json()["productExternalId"]
    assert generated.startswith("_anon_")

    again = api.try_on({"products": [{"externalId": generated}], "person": person(photo_id)})
    assert again.status_code == 200, again.text
    assert again.json()["productExternalId"] == generated


def test_person_by_url_from_an_allowed_host(api, media, person_photo, garment_url):
    photo_url = media.serve("/people/me.png", person_photo)
    body = {
        "products": [inline_product("shirt-1", garment_url)],
        "person": {"image": {"source": {"url": photo_url}}},
    }
    created = api.try_on(body)
    assert created.status_code == 200, created.text
    assert media.requests_to("/people/me.png", "GET")
    assert api.wait(created.json()["generationId"])["status"] == "COMPLETED"


def test_person_by_uploaded_image_url(api, person_photo, garment_url):
    uploaded = api.upload(person_photo)
    body = {
        "products": [inline_product("shirt-1", garment_url)],
        "person": {"image": {"source": {"url": uploaded["imageUrl"]}}},
    }
    created = api.try_on(body)
    assert created.status_code == 200, created.text


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:9/missing.png", "https://photos.unreachable.invalid/me.jpg"],
    ids=["refused", "dot-invalid"],
)
def test_person_url_that_cannot_be_downloaded(api, garment_url, url):
    body = {
        "products": [inline_product("shirt-1", garment_url)],
        "person": {"image": {"source": {"url": url}}},
    }
    assert_error(api.try_on(body), 400, "CUSTOMER_IMAGE_FETCH_FAILED")


def test_person_url_that_is_not_an_image(api, media, garment_url):
    url = media.serve("/people/me.png", b"<html>nope</html>" * 10, "text/html")
    body = {
        "products": [inline_product("shirt-1", garment_url)],
        "person": {"image": {"source": {"url": url}}},
    }
    assert_error(api.try_on(body), 400, "CUSTOMER_IMAGE_FETCH_FAILED")


def test_multipart_with_data_and_file_parts(api, person_photo, garment):
    data = {
        "products": [
            {"externalId": "tee-mp", "title": "Tee", "images": [{"source": {"fileKey": "tee"}}]}
        ],
        "person": {"image": {"source": {"fileKey": "me"}}},
        "externalUserId": "shopper-1",
    }
    created = api.post(
        "/try-on",
        data={"data": json.dumps(data)},
        files={"me": ("me.png", person_photo, "image/png"), "tee": ("tee.png", garment)},
    )
    assert created.status_code == 200, created.text
    assert api.wait(created.json()["generationId"])["status"] == "COMPLETED"
    product = api.get("/products/tee-mp").json()
    assert product["images"][0]["sourceUrl"].startswith(api.base_url + "/_files/")


@pytest.mark.parametrize("missing", ["me", "tee"])
def test_multipart_file_key_without_a_part(api, person_photo, garment, missing):
    data = {
        "products": [{"title": "Tee", "images": [{"source": {"fileKey": "tee"}}]}],
        "person": {"image": {"source": {"fileKey": "me"}}},
    }
    parts = {"me": ("me.png", person_photo), "tee": ("tee.png", garment)}
    del parts[missing]
    response = api.post("/try-on", data={"data": json.dumps(data)}, files=parts)
    body = assert_error(response, 400, "MULTIPART_FILE_NOT_FOUND")
    assert missing in body["message"]


def test_multipart_person_part_that_is_not_an_image(api, garment_url):
    data = {
        "products": [inline_product("shirt-1", garment_url)],
        "person": {"image": {"source": {"fileKey": "me"}}},
    }
    files = {"me": ("me.png", b"definitely not a picture" * 4)}
    response = api.post("/try-on", data={"data": json.dumps(data)}, files=files)
    assert_error(response, 400, "INVALID_IMAGE")


def test_multipart_without_data_field(api, person_photo):
    response = api.post("/try-on", files={"me": ("me.png", person_photo)})
    assert_error(response, 400, "VALIDATION_FAILED", detail_path="data")


# -- deprecated 1.0-1.3 shapes ---------------------------------------------------------------


def deprecated_bodies(photo_id: str, garment_url: str) -> dict[str, dict]:
    return {
        "product-object": {
            "product": {"externalId": "old-1", "title": "Tee", "images": [{"url": garment_url}]},
            "customer": {"id": photo_id},
        },
        "customer-source-1.3": {
            "product": {"externalId": "old-2", "images": [{"source": {"url": garment_url}}]},
            "customer": {"source": {"id": photo_id}},
            "customerId": "shopper-1",
            "useWatermark": False,
            "retentionDays": 1,
        },
        "flat-filekey-entry": {
            "products": [{"title": "Tee", "images": [{"url": garment_url, "classifications": {}}]}],
            "person": {"image": {"source": {"id": photo_id}}},
        },
    }


@pytest.mark.parametrize("shape", ["product-object", "customer-source-1.3", "flat-filekey-entry"])
def test_deprecated_shapes_are_still_accepted(api, photo_id, garment_url, shape):
    created = api.try_on(deprecated_bodies(photo_id, garment_url)[shape])
    assert created.status_code == 200, created.text
    assert api.wait(created.json()["generationId"])["status"] == "COMPLETED"


def test_deprecated_flat_file_key_entry_in_multipart(api, person_photo, garment):
    data = {
        "product": {"title": "Tee", "images": [{"fileKey": "tee", "classifications": {}}]},
        "customer": {"fileKey": "me"},
    }
    files = {"me": ("me.png", person_photo), "tee": ("tee.png", garment)}
    created = api.post("/try-on", data={"data": json.dumps(data)}, files=files)
    assert created.status_code == 200, created.text


def test_alpha_shape_is_rejected(api, photo_id):
    response = api.try_on({"productId": "shirt-42", "customerImageId": photo_id})
    assert_error(response, 400, "VALIDATION_FAILED", detail_path="products")


# -- errors ----------------------------------------------------------------------------------


def test_missing_person(api, garment_url):
    body = {"products": [inline_product("shirt-1", garment_url)]}
    assert_error(api.try_on(body), 400, "CUSTOMER_IMAGE_REQUIRED")


def test_person_without_a_source(api, garment_url):
    body = {"products": [inline_product("shirt-1", garment_url)], "person": {"image": {}}}
    assert_error(api.try_on(body), 400, "CUSTOMER_IMAGE_REQUIRED")


def test_new_inline_product_without_images(api, photo_id):
    body = {"products": [{"externalId": "new-1", "title": "Tee"}], "person": person(photo_id)}
    assert_error(api.try_on(body), 400, "PRODUCT_IMAGES_REQUIRED")


def test_one_shot_without_images(api, photo_id):
    body = {"products": [{"title": "Tee", "description": "x"}], "person": person(photo_id)}
    assert_error(api.try_on(body), 400, "PRODUCT_IMAGES_REQUIRED")


def test_empty_images_list(api, photo_id):
    body = {"products": [{"externalId": "e-1", "images": []}], "person": person(photo_id)}
    assert_error(api.try_on(body), 400, "PRODUCT_IMAGES_REQUIRED")


@pytest.mark.parametrize("entry", [{"source": {}}, {}, {"classifications": {"x": 1}}])
def test_image_entry_without_url_or_file_key(api, photo_id, entry):
    body = {"products": [{"title": "Tee", "images": [entry]}], "person": person(photo_id)}
    assert_error(api.try_on(body), 400, "INVALID_IMAGE_INPUT")


def test_more_than_one_product(api, photo_id, garment_url):
    products = [inline_product("a", garment_url), inline_product("b", garment_url)]
    body = {"products": products, "person": person(photo_id)}
    assert_error(api.try_on(body), 400, "VALIDATION_FAILED", detail_path="products")


def source(**fields):
    return {"person": {"image": {"source": fields}}}


def images(*entries):
    return {"products": [{"title": "Tee", "images": list(entries)}]}


@pytest.mark.parametrize(
    ("patch", "path"),
    [
        ({"products": "shirt-42"}, "products"),
        ({"products": []}, "products"),
        ({"products": [{"externalId": 42}]}, "products.0.externalId"),
        ({"products": [{"externalId": "_anon_x", "title": "T"}]}, "products.0.externalId"),
        ({"products": [{"title": 7, "images": [{"url": "http://x/y"}]}]}, "products.0.title"),
        (images({"source": {"url": "ftp://x/y.png"}}), "products.0.images.0.source.url"),
        (images({"source": {"url": "http://x/a", "fileKey": "a"}}), "products.0.images.0.source"),
        (images("http://x/y.png"), "products.0.images.0"),
        ({"output": {"keepForDays": 5}}, "output.keepForDays"),
        ({"output": {"watermark": "yes"}}, "output.watermark"),
        ({"externalUserId": 12}, "externalUserId"),
        (source(id="x", url="http://127.0.0.1/x"), "person.image.source"),
        (source(id="retention-7d/unknown/customer/1.jpeg"), "person.image.source.id"),
        ({"webhook_url": "not a url"}, "webhook_url"),
    ],
)
def test_schema_problems_are_validation_failed_with_details(
    api, photo_id, garment_url, patch, path
):
    body = {"products": [inline_product("shirt-1", garment_url)], "person": person(photo_id)}
    body.update(patch)
    assert_error(api.try_on(body), 400, "VALIDATION_FAILED", detail_path=path)


def test_all_schema_problems_are_reported_at_once(api, garment_url):
    body = {"products": [{"externalId": 1, "title": 2}], "output": {"keepForDays": 2}}
    details = assert_error(api.try_on(body), 400, "VALIDATION_FAILED")["details"]
    paths = {d["path"] for d in details}
    assert {"products.0.externalId", "products.0.title", "output.keepForDays"} <= paths


@pytest.mark.parametrize("raw", ["{not json", "[1, 2]", "null"])
def test_body_that_is_not_a_json_object(api, raw):
    response = api.post("/try-on", data=raw, headers={"Content-Type": "application/json"})
    assert_error(response, 400, "VALIDATION_FAILED")


def test_anon_id_may_be_referenced_but_not_redefined(api, photo_id):
    response = api.try_on(
        {"products": [{"externalId": "_anon_nothing"}], "person": person(photo_id)}
    )
    assert_error(response, 404, "PRODUCT_NOT_FOUND")


def test_nothing_is_created_or_charged_by_a_refused_try_on(api, sandbox, photo_id):
    before = api.credits()
    api.try_on({"products": [{"externalId": "nope"}], "person": person(photo_id)})
    api.try_on({"products": [{"title": "T"}], "person": person(photo_id)})
    assert api.credits() == before
    assert sandbox.state.generations_created() == 0
    assert api.get("/products").json()["count"] == 0
