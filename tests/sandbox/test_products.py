"""POST/GET/DELETE /products and the product lifetimes."""

import json

import pytest
import requests

from tests.sandbox.helpers import assert_error, inline_product, person

DAY = 86_400
PRODUCT_FIELDS = {
    "externalId",
    "title",
    "description",
    "metadata",
    "autoDetectImageRoles",
    "validForDays",
    "expiresAt",
    "lastUsedAt",
    "createdAt",
    "updatedAt",
    "images",
}


def upsert(api, **body):
    response = api.post("/products", json=body)
    assert response.status_code == 200, response.text
    return response.json()


def test_create_returns_the_product_object(api, garment_url):
    product = upsert(
        api,
        externalId="shirt-42",
        title="Red tee",
        description="Cotton",
        images=[{"source": {"url": garment_url}}],
        metadata={"sku": "RT-1"},
    )
    assert set(product) == PRODUCT_FIELDS
    assert product["externalId"] == "shirt-42"
    assert product["metadata"] == {"sku": "RT-1"}
    assert product["validForDays"] is None  # kept forever
    assert product["expiresAt"] is None
    assert product["lastUsedAt"] is None
    assert product["images"] == [{"sourceUrl": garment_url, "role": None, "order": 0}]
    assert api.get("/products/shirt-42").json() == product


def test_update_is_partial_and_images_replace_the_list(api, garment_url, media):
    upsert(api, externalId="s", title="T", description="D", images=[{"url": garment_url}])
    other = media.url("/products/other.png")
    updated = upsert(api, externalId="s", images=[{"source": {"url": other}, "role": "front"}])
    assert updated["title"] == "T"
    assert updated["description"] == "D"
    assert updated["images"] == [{"sourceUrl": other, "role": "front", "order": 0}]
    assert updated["updatedAt"] >= updated["createdAt"]


def test_image_urls_alias(api, garment_url):
    product = upsert(api, externalId="alpha", title="T", imageUrls=[garment_url, garment_url])
    assert [image["order"] for image in product["images"]] == [0, 1]


def test_multipart_upsert_with_a_file_part(api, garment):
    data = {"externalId": "mp", "title": "T", "images": [{"source": {"fileKey": "front"}}]}
    response = api.post(
        "/products", data={"data": json.dumps(data)}, files={"front": ("f.png", garment)}
    )
    assert response.status_code == 200, response.text
    url = response.json()["images"][0]["sourceUrl"]
    assert requests.get(url, timeout=5).content == garment


def test_multipart_upsert_with_a_missing_part(api, garment):
    data = {"externalId": "mp", "images": [{"fileKey": "front"}]}
    response = api.post("/products", data={"data": json.dumps(data)}, files={"x": ("f", garment)})
    assert_error(response, 400, "MULTIPART_FILE_NOT_FOUND")


@pytest.mark.parametrize("body", [{}, {"externalId": ""}, {"externalId": None, "title": "T"}])
def test_external_id_is_required(api, body):
    assert_error(api.post("/products", json=body), 400, "EXTERNAL_ID_REQUIRED")


def test_creating_without_images(api):
    assert_error(api.post("/products", json={"externalId": "x"}), 400, "PRODUCT_IMAGES_REQUIRED")


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({"externalId": "_anon_123", "imageUrls": ["http://x/y"]}, "externalId"),
        ({"externalId": "a", "validForDays": 0, "imageUrls": ["http://x/y"]}, "validForDays"),
        ({"externalId": "a", "validForDays": 366, "imageUrls": ["http://x/y"]}, "validForDays"),
        ({"externalId": "a", "validForDays": "7", "imageUrls": ["http://x/y"]}, "validForDays"),
        ({"externalId": "a", "metadata": [1], "imageUrls": ["http://x/y"]}, "metadata"),
        ({"externalId": "a", "images": "http://x/y"}, "images"),
    ],
)
def test_bad_product_fields(api, body, path):
    assert_error(api.post("/products", json=body), 400, "VALIDATION_FAILED", detail_path=path)


def test_image_entry_without_source(api):
    response = api.post("/products", json={"externalId": "a", "images": [{"source": {}}]})
    assert_error(response, 400, "INVALID_IMAGE_INPUT")


def test_list_paginates_newest_first(api, garment_url):
    for index in range(5):
        upsert(api, externalId=f"p{index}", title=f"P{index}", imageUrls=[garment_url])

    first = api.get("/products", params={"limit": 2}).json()
    assert set(first) == {"items", "nextCursor", "hasMore", "count"}
    assert [p["externalId"] for p in first["items"]] == ["p4", "p3"]
    assert first["hasMore"] is True
    assert first["count"] == 2

    second = api.get("/products", params={"limit": 2, "cursor": first["nextCursor"]}).json()
    third = api.get("/products", params={"limit": 2, "cursor": second["nextCursor"]}).json()
    assert [p["externalId"] for p in second["items"]] == ["p2", "p1"]
    assert [p["externalId"] for p in third["items"]] == ["p0"]
    assert third["hasMore"] is False
    assert third["nextCursor"] is None


def test_list_defaults_to_50(api, garment_url):
    for index in range(52):
        upsert(api, externalId=f"p{index}", imageUrls=[garment_url])
    page = api.get("/products").json()
    assert page["count"] == 50
    assert page["hasMore"] is True


@pytest.mark.parametrize(
    ("params", "path"),
    [({"limit": 0}, "limit"), ({"limit": 201}, "limit"), ({"limit": "x"}, "limit"),
     ({"cursor": "garbage!"}, "cursor")],
)  # fmt: skip
def test_list_parameters_are_validated(api, params, path):
    response = api.get("/products", params=params)
    assert_error(response, 400, "VALIDATION_FAILED", detail_path=path)


def test_one_shot_products_are_not_listed_but_can_be_fetched(api, photo_id, garment_url):
    created = api.try_on(
        {"products": [{"title": "T", "images": [{"url": garment_url}]}], "person": person(photo_id)}
    )
    generated = created.json()["productExternalId"]
    api.try_on({"products": [inline_product("listed", garment_url)], "person": person(photo_id)})

    listed = [p["externalId"] for p in api.get("/products").json()["items"]]
    assert listed == ["listed"]
    one_shot = api.get(f"/products/{generated}")
    assert one_shot.status_code == 200
    assert one_shot.json()["validForDays"] == 7


def test_products_are_per_account(api, sandbox, garment_url):
    sandbox.state.add_account("gk_other")
    upsert(api, externalId="mine", imageUrls=[garment_url])
    assert_error(api.get("/products/mine", api_key="gk_other"), 404, "PRODUCT_NOT_FOUND")
    assert api.get("/products", api_key="gk_other").json()["items"] == []


def test_ids_with_odd_characters(api, garment_url):
    upsert(api, externalId="cat/shirt 42?x", imageUrls=[garment_url])
    assert api.get("/products/cat%2Fshirt%2042%3Fx").json()["externalId"] == "cat/shirt 42?x"


def test_delete(api, garment_url):
    upsert(api, externalId="gone", imageUrls=[garment_url])
    response = api.delete("/products/gone")
    assert response.status_code == 204
    assert response.content == b""
    assert_error(api.get("/products/gone"), 404, "PRODUCT_NOT_FOUND")
    assert_error(api.delete("/products/gone"), 404, "PRODUCT_NOT_FOUND")


def test_unknown_product(api):
    assert_error(api.get("/products/never"), 404, "PRODUCT_NOT_FOUND")


# -- lifetimes -----------------------------------------------------------------------------------


def reference(api, external_id, photo):
    """A reference try-on, with a fresh upload (uploads expire after 7 days themselves)."""
    image_id = api.upload(photo)["imageId"]
    return api.try_on({"products": [{"externalId": external_id}], "person": person(image_id)})


def test_inline_products_live_15_days_from_last_use(
    api, sandbox, photo_id, person_photo, garment_url
):
    api.try_on({"products": [inline_product("inl", garment_url)], "person": person(photo_id)})
    product = api.get("/products/inl").json()
    assert product["validForDays"] == 15
    assert product["lastUsedAt"] is not None

    sandbox.state.advance_clock(14 * DAY)
    assert reference(api, "inl", person_photo).status_code == 200  # use refreshes the timer
    sandbox.state.advance_clock(14 * DAY)
    assert api.get("/products/inl").status_code == 200
    sandbox.state.advance_clock(1 * DAY + 60)

    assert_error(reference(api, "inl", person_photo), 404, "PRODUCT_NOT_FOUND")
    assert_error(api.get("/products/inl"), 404, "PRODUCT_NOT_FOUND")
    assert api.get("/products").json()["items"] == []


def test_one_shot_products_live_7_days(api, sandbox, photo_id, person_photo, garment_url):
    body = {
        "products": [{"title": "T", "images": [{"url": garment_url}]}],
        "person": person(photo_id),
    }
    generated = api.try_on(body).json()["productExternalId"]
    sandbox.state.advance_clock(7 * DAY - 60)
    assert api.get(f"/products/{generated}").status_code == 200
    sandbox.state.advance_clock(120)
    assert_error(reference(api, generated, person_photo), 404, "PRODUCT_NOT_FOUND")


def test_valid_for_days(api, sandbox, garment_url):
    product = upsert(api, externalId="v", validForDays=3, imageUrls=[garment_url])
    assert product["validForDays"] == 3
    assert product["expiresAt"] is not None
    sandbox.state.advance_clock(3 * DAY - 60)
    assert api.get("/products/v").status_code == 200
    sandbox.state.advance_clock(120)
    assert_error(api.get("/products/v"), 404, "PRODUCT_NOT_FOUND")


def test_valid_for_days_omitted_keeps_null_restores_forever(api, sandbox, garment_url):
    upsert(api, externalId="v", validForDays=3, imageUrls=[garment_url])
    assert upsert(api, externalId="v", title="renamed")["validForDays"] == 3
    forever = upsert(api, externalId="v", validForDays=None)
    assert forever["validForDays"] is None
    assert forever["expiresAt"] is None


def test_catalog_products_are_kept_forever(api, sandbox, garment_url):
    upsert(api, externalId="forever", imageUrls=[garment_url])
    sandbox.state.advance_clock(1000 * DAY)
    assert api.get("/products/forever").status_code == 200


def test_a_generation_refreshes_last_used_at(api, sandbox, person_photo, garment_url):
    upsert(api, externalId="c", imageUrls=[garment_url])
    sandbox.state.advance_clock(DAY)
    assert reference(api, "c", person_photo).status_code == 200
    product = api.get("/products/c").json()
    assert product["lastUsedAt"] > product["createdAt"]
