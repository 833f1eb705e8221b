"""The classic dialect: create -> status -> completed, result image fetchable, webhooks."""

import io
import re

import requests
from PIL import Image

from tests.sandbox.classic import CATEGORIES, assert_classic_error, try_on

ISO_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")


def test_create_then_status_until_completed(classic, sandbox, model_url, garment_url):
    created = classic.create(try_on(model_url, garment_url))

    assert created.status_code == 201, created.text
    body = created.json()
    assert set(body) == {"id", "status", "eta_seconds"}
    assert body["status"] == "processing"
    assert body["eta_seconds"] == 1  # generation_seconds 0.3, rounded up
    first = classic.status(body["id"]).json()
    assert first["status"] == "processing"
    assert first["result_image"] is None and first["completed_at"] is None

    done = classic.wait(body["id"])

    assert set(done) == {"id", "status", "result_image", "created_at", "completed_at"}
    assert done["id"] == body["id"]
    assert done["status"] == "completed"
    assert ISO_Z.match(done["created_at"]) and ISO_Z.match(done["completed_at"])
    assert done["result_image"].startswith(sandbox.classic_base_url + "/_files/")
    image = requests.get(done["result_image"], timeout=5)  # no key needed: a signed URL
    assert image.status_code == 200
    assert Image.open(io.BytesIO(image.content)).format == "JPEG"


def test_one_credit_per_generation_shared_with_v1(classic, api, model_url, garment_url):
    before = api.credits()
    generation_id = classic.create(try_on(model_url, garment_url)).json()["id"]
    assert api.credits() == before - 1  # one account, two dialects
    assert classic.wait(generation_id)["status"] == "completed"
    assert api.credits() == before - 1


def test_every_documented_category_is_accepted(classic, model_url, garment_url):
    for category in CATEGORIES:
        response = classic.create(try_on(model_url, garment_url, category))
        assert response.status_code == 201, (category, response.text)


def test_an_unknown_category_is_400_naming_the_options(classic, api, model_url, garment_url):
    before = api.credits()
    for category in ("hats", "TOPS", "shoes"):
        response = classic.create(try_on(model_url, garment_url, category))
        error = assert_classic_error(response, 400, "INVALID_CATEGORY")
        assert error["details"]["allowed"] == list(CATEGORIES)
        assert error["details"]["value"] == category
    missing = classic.create({"model_image": model_url, "garment_image": garment_url})
    error = assert_classic_error(missing, 400, "INVALID_REQUEST")
    assert error["details"]["fields"] == {"category": "Required"}
    assert api.credits() == before


def test_the_webhook_gets_the_pages_payload(classic, media, model_url, garment_url):
    body = try_on(model_url, garment_url, webhook_url=media.url("/hooks/classic"))
    generation_id = classic.create(body).json()["id"]

    (delivery,) = media.wait_for(1, "/hooks/classic")

    payload = delivery.json()
    assert set(payload) == {"id", "status", "result_image", "created_at", "completed_at"}
    assert payload == classic.status(generation_id).json()
    assert payload["status"] == "completed"
    assert "Genlook-Signature" not in delivery.headers  # unsigned unless a secret is set


def test_a_failed_generation_reports_an_error_object(
    classic, sandbox, media, model_url, garment_url
):
    sandbox.state.set_faults(fail_next_generations=1)
    body = try_on(model_url, garment_url, webhook_url=media.url("/hooks/failed"))
    generation_id = classic.create(body).json()["id"]

    failed = classic.wait(generation_id)

    assert failed["status"] == "failed"
    assert failed["result_image"] is None
    assert failed["error"]["code"] == "GENERATION_FAILED"
    assert set(failed["error"]) == {"code", "message", "details"}
    (delivery,) = media.wait_for(1, "/hooks/failed")
    assert delivery.json() == failed


def test_another_accounts_generation_is_not_found(classic, sandbox, model_url, garment_url):
    generation_id = classic.create(try_on(model_url, garment_url)).json()["id"]
    sandbox.state.add_account("gk_other")
    response = classic.status(generation_id, api_key="gk_other")
    assert_classic_error(response, 404, "GENERATION_NOT_FOUND")


def test_the_request_log_names_classic_routes(classic, sandbox, model_url, garment_url):
    generation_id = classic.create(try_on(model_url, garment_url)).json()["id"]
    classic.status(generation_id)
    assert sandbox.state.count(method="POST", path="/v1/try-on", status=201) == 1
    assert sandbox.state.count(method="GET", path="/v1/try-on/{id}") == 1
    assert sandbox.state.count(path="/try-on") == 0  # v1's route is another one
