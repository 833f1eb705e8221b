"""``webhook_url``: the classic completion payload, POSTed from the background."""

import re

from tests.sandbox.helpers import eventually, inline_product, person

ISO_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")


def outcome(sandbox):
    deliveries = sandbox.state.webhook_deliveries
    return deliveries[0].outcome if deliveries else None


def start(api, photo_id, image_url, hook_url, endpoint="/try-on"):
    body = {
        "products": [inline_product("shirt-1", image_url)],
        "person": person(photo_id),
        "webhook_url": hook_url,
    }
    response = api.post(endpoint, json=body)
    assert response.status_code == 200, response.text
    return response.json()["generationId"]


def test_completed_generation_posts_the_classic_payload(api, media, photo_id, garment_url):
    generation_id = start(api, photo_id, garment_url, media.url("/hooks/genlook"))

    (delivery,) = media.wait_for(1, "/hooks/genlook")

    assert delivery.method == "POST"
    assert delivery.headers["Content-Type"] == "application/json"
    payload = delivery.json()
    assert set(payload) == {"id", "status", "result_image", "created_at", "completed_at"}
    assert payload["id"] == generation_id
    assert payload["status"] == "completed"
    assert (
        payload["result_image"] == api.get(f"/generations/{generation_id}").json()["resultImageUrl"]
    )
    assert ISO_Z.match(payload["created_at"]) and ISO_Z.match(payload["completed_at"])


def test_failed_generation_posts_status_failed(api, media, photo_id):
    start(api, photo_id, media.url("/products/gone.png"), media.url("/hooks/genlook"))
    (delivery,) = media.wait_for(1, "/hooks/genlook")
    assert delivery.json()["status"] == "failed"
    assert delivery.json()["result_image"] is None


def test_sync_try_on_also_notifies(api, media, photo_id, garment_url):
    start(api, photo_id, garment_url, media.url("/hooks/genlook"), endpoint="/try-on/sync")
    assert len(media.wait_for(1, "/hooks/genlook")) == 1


def test_failed_deliveries_are_retried(api, sandbox, media, photo_id, garment_url):
    media.webhook_statuses.extend([500, 503])
    start(api, photo_id, garment_url, media.url("/hooks/genlook"))
    deliveries = media.wait_for(3, "/hooks/genlook")
    assert len(deliveries) == 3
    assert deliveries[0].body == deliveries[2].body
    assert eventually(lambda: outcome(sandbox) == "delivered")


def test_retries_give_up(api, sandbox, media, photo_id, garment_url):
    media.webhook_statuses.extend([500] * 5)
    start(api, photo_id, garment_url, media.url("/hooks/genlook"))
    assert eventually(lambda: outcome(sandbox) == "failed")
    assert len(media.requests_to("/hooks/genlook")) == 3


def test_dropped_webhooks_under_fault_injection(api, sandbox, media, photo_id, garment_url):
    sandbox.state.set_faults(drop_webhooks=1.0)
    generation_id = start(api, photo_id, garment_url, media.url("/hooks/genlook"))
    assert api.wait(generation_id)["status"] == "COMPLETED"
    assert eventually(lambda: outcome(sandbox) == "dropped")
    assert media.wait_for(1, "/hooks/genlook", timeout=0.5) == []


def test_hosts_outside_the_allowed_list_are_never_contacted(api, sandbox, photo_id, garment_url):
    start(api, photo_id, garment_url, "https://shop.example.com/genlook/webhook")
    assert eventually(lambda: outcome(sandbox) == "blocked")


def test_signed_webhooks_carry_an_hmac_of_timestamp_and_body(
    api, sandbox, media, photo_id, garment_url
):
    import hashlib
    import hmac
    import time

    sandbox.state.configure(webhook_signing_secret="whsec_test")
    start(api, photo_id, garment_url, media.url("/hooks/signed"))
    (delivery,) = media.wait_for(1, "/hooks/signed")

    header = delivery.headers["Genlook-Signature"]
    fields = dict(part.split("=", 1) for part in header.split(","))
    assert abs(int(fields["t"]) - time.time()) < 30
    expected = hmac.new(
        b"whsec_test", fields["t"].encode() + b"." + delivery.body, hashlib.sha256
    ).hexdigest()
    assert hmac.compare_digest(fields["v1"], expected)


def test_unsigned_by_default(api, media, photo_id, garment_url):
    start(api, photo_id, garment_url, media.url("/hooks/plain"))
    (delivery,) = media.wait_for(1, "/hooks/plain")
    assert "Genlook-Signature" not in delivery.headers


def test_v1_shaped_payload_on_request(api, sandbox, media, photo_id, garment_url):
    sandbox.state.configure(webhook_payload="v1")
    generation_id = start(api, photo_id, garment_url, media.url("/hooks/v1"))
    (delivery,) = media.wait_for(1, "/hooks/v1")
    payload = delivery.json()
    assert payload["generationId"] == generation_id
    assert payload["status"] == "COMPLETED"
    assert payload["resultImageUrl"].startswith("http://127.0.0.1")
    assert "id" not in payload
