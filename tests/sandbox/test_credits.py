"""GET /account/credits, one credit per successful generation, 402 at zero."""

from concurrent.futures import ThreadPoolExecutor

from tests.sandbox.helpers import Api, assert_error, inline_product, person


def body(photo_id, image_url, external_id="shirt-1"):
    return {"products": [inline_product(external_id, image_url)], "person": person(photo_id)}


def test_balance(api):
    response = api.get("/account/credits")
    assert response.status_code == 200
    assert response.json() == {"creditBalance": 100}


def test_a_successful_generation_costs_exactly_one_credit(api, photo_id, garment_url):
    before = api.credits()
    generation_id = api.try_on(body(photo_id, garment_url)).json()["generationId"]
    assert api.wait(generation_id)["status"] == "COMPLETED"
    assert api.credits() == before - 1
    # Uploads, reads, product writes and refusals are free.
    api.get(f"/generations/{generation_id}")
    api.post("/products", json={"externalId": "x", "imageUrls": [garment_url]})
    api.try_on({"products": [{"externalId": "missing"}], "person": person(photo_id)})
    assert api.credits() == before - 1


def test_a_failed_generation_is_refunded(api, media, photo_id):
    before = api.credits()
    broken = body(photo_id, media.url("/products/gone.png"))
    generation_id = api.try_on(broken).json()["generationId"]
    assert api.wait(generation_id)["status"] == "FAILED"
    assert api.credits() == before


def test_insufficient_credits_at_zero(api, sandbox, photo_id, garment_url):
    sandbox.state.set_credits(api.api_key, 1)
    first = api.try_on(body(photo_id, garment_url))
    assert first.status_code == 200
    assert_error(api.try_on(body(photo_id, garment_url)), 402, "INSUFFICIENT_CREDITS")
    assert_error(
        api.post("/try-on/sync", json=body(photo_id, garment_url)), 402, "INSUFFICIENT_CREDITS"
    )
    assert api.credits() == 0
    assert sandbox.state.generations_created() == 1


def test_concurrent_creates_cannot_overdraw(api, sandbox, photo_id, garment_url):
    sandbox.state.set_credits(api.api_key, 3)

    def create(index):
        client = Api(api.base_url, api.api_key)
        return client.try_on(body(photo_id, garment_url, f"p{index}")).status_code

    with ThreadPoolExecutor(max_workers=12) as pool:
        statuses = list(pool.map(create, range(12)))
    assert sorted(statuses) == [200] * 3 + [402] * 9
    assert sandbox.state.get_credits(api.api_key) == 0


def test_at_zero_other_refusals_come_first(api, sandbox, photo_id):
    sandbox.state.set_credits(api.api_key, 0)
    reference = {"products": [{"externalId": "nope"}], "person": person(photo_id)}
    assert_error(api.try_on(reference), 404, "PRODUCT_NOT_FOUND")
    no_images = {"products": [{"externalId": "new", "title": "T"}], "person": person(photo_id)}
    assert_error(api.try_on(no_images), 400, "PRODUCT_IMAGES_REQUIRED")
