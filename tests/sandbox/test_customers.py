"""DELETE /customers/{customerId}: GDPR erasure, idempotent 204."""

import requests

from tests.sandbox.helpers import assert_error, inline_product, person


def test_erasure_deletes_uploads_and_results_and_keeps_anonymous_rows(
    api, person_photo, garment_url
):
    mine = api.upload(person_photo, externalUserId="shopper-1")
    other = api.upload(person_photo, externalUserId="shopper-2")
    body = {
        "products": [inline_product("shirt-1", garment_url)],
        "person": person(mine["imageId"]),
        "externalUserId": "shopper-1",
    }
    generation_id = api.try_on(body).json()["generationId"]
    result_url = api.wait(generation_id)["resultImageUrl"]

    response = api.delete("/customers/shopper-1")

    assert response.status_code == 204
    assert response.content == b""
    assert requests.get(mine["imageUrl"], timeout=5).status_code == 404
    assert requests.get(result_url, timeout=5).status_code == 404
    assert requests.get(other["imageUrl"], timeout=5).status_code == 200  # not theirs
    assert api.get(f"/generations/{generation_id}").json()["status"] == "COMPLETED"
    body["person"] = person(mine["imageId"])
    assert_error(api.try_on(body), 400, "VALIDATION_FAILED", detail_path="person.image.source.id")


def test_erasure_covers_the_deprecated_customer_id(api, person_photo):
    uploaded = api.upload(person_photo, customerId="legacy-7")
    assert api.delete("/customers/legacy-7").status_code == 204
    assert requests.get(uploaded["imageUrl"], timeout=5).status_code == 404


def test_erasure_is_idempotent(api):
    assert api.delete("/customers/never-seen").status_code == 204
    assert api.delete("/customers/never-seen").status_code == 204


def test_erasure_is_per_account(api, sandbox, person_photo):
    sandbox.state.add_account("gk_other")
    uploaded = api.upload(person_photo, externalUserId="shopper-1")
    assert api.delete("/customers/shopper-1", api_key="gk_other").status_code == 204
    assert requests.get(uploaded["imageUrl"], timeout=5).status_code == 200
