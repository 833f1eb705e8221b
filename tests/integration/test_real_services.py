"""The shop on real services: PostgreSQL, a Celery worker process on Redis (and again on
RabbitMQ), S3 storage (moto's server), gunicorn, the sandbox as Genlook. Everything is
configured by the environment through ``example_shop/settings.py``'s production settings
and driven over HTTP, as a merchant and shoppers would."""

from __future__ import annotations

import time

import pytest
import requests

from tests.integration.stack import MEDIA_BUCKET, PRIVATE_BUCKET, wait_for

pytestmark = [pytest.mark.services, pytest.mark.slow]


def product_ref(synced_product: dict) -> str:
    return f"shop.product:{synced_product['product_id']}"


def try_on_row(stack, public_id: str) -> dict:
    return stack.query("SELECT * FROM genlook_tryon WHERE public_id = %s", [public_id])[0]


def test_product_saved_in_the_admin_is_synced_by_the_worker(stack, synced_product):
    # The image went to the public media bucket, and Genlook was given its plain S3 URL.
    image_key = f"media/{synced_product['image']}"
    assert stack.s3_keys(MEDIA_BUCKET, "media/products/") == [image_key]
    urls = [
        image.get("sourceUrl") or image.get("url") for image in synced_product["remote"]["images"]
    ]
    assert urls == [f"{stack.s3_url}/{MEDIA_BUCKET}/{image_key}"]
    assert requests.get(urls[0], timeout=10).content.startswith(b"\x89PNG")  # fetchable
    assert synced_product["external_id"] == product_ref(synced_product)
    assert stack.count("POST /products", "200") == 1
    assert stack.throttled() == 0


def test_try_on_flow(stack, synced_product, person_photo):
    """Upload → the worker submits (/try-on/sync) → the result is stored in S3 → the
    shopper sees it; then the same shopper again, with the last photo."""
    shopper = stack.shopper()
    before = stack.requests_by_route()
    started = time.perf_counter()
    response = shopper.start(product_ref(synced_product), person_photo)
    answered = time.perf_counter() - started
    assert response.status_code == 202, response.text
    body = response.json()
    assert body["status"] in ("received", "submitting", "pending")
    assert answered < 5  # the web request never waits for the generation (1 s here)

    body = shopper.follow(body, timeout=60)
    assert body["status"] == "completed", body
    image = shopper.result(body)
    assert image.startswith(b"\xff\xd8")

    row = try_on_row(stack, body["id"])
    assert row["state"] == "completed" and row["generation_id"]
    # Photo and result live in the private bucket, under its prefix; nothing in media.
    result_key = f"private/{row['result_file']}"
    assert result_key in stack.s3_keys(PRIVATE_BUCKET, "private/genlook/results/")
    stored = stack.s3().get_object(Bucket=PRIVATE_BUCKET, Key=result_key)["Body"].read()
    assert stored == image
    photo = stack.query(
        "SELECT file_name, genlook_image_id FROM genlook_shopperphoto WHERE id = %s",
        [row["photo_id"]],
    )[0]
    assert f"private/{photo['file_name']}" in stack.s3_keys(PRIVATE_BUCKET, "private/genlook/")
    assert photo["genlook_image_id"]
    assert stack.s3_keys(MEDIA_BUCKET, "media/genlook/") == []

    # The worker held /try-on/sync: one create, no status poll from the web process.
    after = stack.requests_by_route()

    def delta(route: str) -> int:
        return sum(after.get(route, {}).values()) - sum(before.get(route, {}).values())

    assert delta("POST /images/upload") == 1
    assert delta("POST /try-on/sync") == 1
    assert delta("POST /try-on") == 0

    # A returning shopper with a known product: the photo is not uploaded again.
    before = after
    again = shopper.start(product_ref(synced_product), reuse=True)
    assert again.status_code == 202, again.text
    assert shopper.follow(again.json(), timeout=60)["status"] == "completed"
    after = stack.requests_by_route()
    assert delta("POST /images/upload") == 0
    assert delta("POST /try-on/sync") == 1
    assert stack.throttled() == 0


def test_webhook_delivers_the_result(stack, synced_product, person_photo):
    """/try-on/sync answers 202 at once: the sandbox's webhook reaches gunicorn, the worker
    confirms it with GET /generations/{id} and stores the result (before the first poll,
    due 2 s after the submission)."""
    stack.sandbox_control("config", sync_wait_seconds=0)
    try:
        shopper = stack.shopper()
        response = shopper.start(product_ref(synced_product), person_photo)
        assert response.status_code == 202, response.text
        body = shopper.follow(response.json(), timeout=60)
    finally:
        stack.sandbox_control("config", sync_wait_seconds=stack.config.sync_wait_seconds)
    assert body["status"] == "completed", body
    row = try_on_row(stack, body["id"])

    def processed():
        deliveries = stack.query(
            "SELECT * FROM genlook_webhookdelivery WHERE try_on_id = %s", [row["id"]]
        )
        return deliveries if any(d["outcome"] != "pending" for d in deliveries) else None

    deliveries = wait_for(processed, timeout=20, what="the webhook delivery")
    assert [(d["verdict"], d["outcome"], d["generation_id"]) for d in deliveries] == [
        ("accepted", "processed", row["generation_id"])
    ], deliveries
    # One GET /generations/{id}: the webhook's confirmation; no poll had to ask.
    assert row["checks"] == 1
    assert stack.sandbox_stats()["webhooks"].get("delivered", 0) >= 1
    assert stack.throttled() == 0


def test_batch_from_the_admin_fans_out_on_the_worker(stack, synced_product, person_photo):
    """Two model photos x one product, started in the admin: the worker uploads each photo
    once and runs the try-ons; results land in the private bucket; no 429."""
    admin = stack.admin()
    add = f"{stack.web_url}/admin/genlook/batchjob/add/"
    admin.get(add, timeout=10).raise_for_status()
    response = admin.post(
        add,
        data={
            "name": "Lookbook",
            "products": [product_ref(synced_product)],
            "csrfmiddlewaretoken": admin.cookies["csrftoken"],
        },
        files=[
            ("photos", ("front.png", person_photo, "image/png")),
            ("photos", ("side.png", person_photo, "image/png")),
        ],
        headers={"Referer": add},
        allow_redirects=False,
        timeout=30,
    )
    assert response.status_code == 302, response.text[-3000:]
    job_url = stack.web_url + response.headers["Location"]

    def done():
        page = admin.get(job_url, timeout=10).text
        return page if 'http-equiv="refresh"' not in page else None

    page = wait_for(done, timeout=60, what="the batch", diagnostics=stack.diagnostics)
    assert 'data-total="2" data-completed="2" data-failed="0"' in page
    items = stack.query("SELECT result_file FROM genlook_batchitem WHERE state = 'completed'")
    keys = stack.s3_keys(PRIVATE_BUCKET, "private/genlook/batches/")
    assert all(f"private/{item['result_file']}" in keys for item in items) and len(items) == 2
    assert stack.throttled() == 0


def test_genlook_batch_command_on_postgresql(stack, synced_product, person_photo):
    """The command runs the job itself: threads holding /try-on/sync, on PostgreSQL."""
    photo = stack.workdir / "model.png"
    photo.write_bytes(person_photo)
    output = stack.manage(
        "genlook_batch",
        product_ref(synced_product),
        f"--photo={photo}",
        f"--photo={photo}",
        "--workers=2",
        f"--output={stack.workdir / 'results'}",
        timeout=120,
    )
    assert "2 completed, 0 failed of 2." in output, output
    assert len(list((stack.workdir / "results").rglob("*.jpg"))) == 2
    assert stack.throttled() == 0
