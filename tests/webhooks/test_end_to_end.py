"""End to end over real HTTP: the sandbox POSTs its webhooks to a live server running the
receiver. Results arrive only by webhook (no polling at all), or only by polling (every
webhook dropped by fault injection)."""

from __future__ import annotations

import time

import pytest
from django.urls import reverse

from genlook_django.models import TryOn, WebhookDelivery
from genlook_django.services.tryons import reconcile
from tests.support.storefront import start

pytestmark = pytest.mark.django_db(transaction=True)

GETS = "/generations/{generationId}"


@pytest.fixture
def shop(settings, storefront, live_server):
    """The receiver served by a live server; the sandbox fetches product images from it
    and POSTs webhooks to it (it only contacts loopback hosts)."""
    settings.MEDIA_URL = "/media/"
    settings.GENLOOK = {
        **settings.GENLOOK,
        "PUBLIC_BASE_URL": live_server.url,
        "WEBHOOKS": True,
        "STATUS_POLL_THROUGH": False,
    }
    return storefront


def wait_final(shopper, try_on_id: str, timeout: float = 10.0) -> dict:
    """Read the status view (which, without poll-through, only reads the database)."""
    url = reverse("genlook:tryon-detail", kwargs={"public_id": try_on_id})
    deadline = time.monotonic() + timeout
    while True:
        body = shopper.get(url).json()
        if body["poll_after_ms"] is None:
            return body
        assert time.monotonic() < deadline, f"still {body['status']} after {timeout}s"
        time.sleep(0.05)


@pytest.mark.parametrize(("shape", "secret"), [("classic", ""), ("v1", "whsec_e2e")])
def test_results_arrive_by_webhook_alone(
    shop, settings, shopper, product, person_photo, shape, secret
):
    shop.state.configure(webhook_payload=shape, webhook_signing_secret=secret)
    if secret:
        settings.GENLOOK = {**settings.GENLOOK, "WEBHOOK_SIGNING_SECRETS": [secret]}
    response = start(shopper, product, person_photo)
    assert response.status_code == 202

    result = wait_final(shopper, response.json()["id"])

    assert result["status"] == "completed" and result["result_url"]
    assert shopper.get(result["result_url"]).status_code == 200
    (sent,) = shop.state.webhook_deliveries
    deadline = time.monotonic() + 5  # the sandbox records the answer once it has it
    while sent.outcome == "pending" and time.monotonic() < deadline:
        time.sleep(0.02)
    assert (sent.outcome, sent.last_status) == ("delivered", 202)
    delivery = WebhookDelivery.objects.get()
    assert (delivery.verdict, delivery.outcome) == ("accepted", "processed")
    assert str(delivery.try_on.public_id) == response.json()["id"]
    # Nobody polled: the one status read is the receiver's confirmation.
    assert shop.state.count("GET", GETS) == 1


def test_a_failed_generation_arrives_by_webhook(shop, shopper, product, person_photo):
    shop.state.set_faults(fail_generations=1.0, fail_error_code="PRODUCT_IMAGE_FETCH_FAILED")
    response = start(shopper, product, person_photo)

    result = wait_final(shopper, response.json()["id"])

    assert result["status"] == "failed"
    assert result["error"]["code"] == "PRODUCT_UNAVAILABLE"
    assert TryOn.objects.get().error_code == "PRODUCT_IMAGE_FETCH_FAILED"


def test_results_arrive_by_polling_alone_when_webhooks_are_lost(
    shop, settings, shopper, product, person_photo
):
    shop.state.set_faults(drop_webhooks=1.0)
    settings.GENLOOK = {**settings.GENLOOK, "STATUS_POLL_THROUGH": True}
    response = start(shopper, product, person_photo)

    result = wait_final(shopper, response.json()["id"])

    assert result["status"] == "completed"
    assert [sent.outcome for sent in shop.state.webhook_deliveries] == ["dropped"]
    assert not WebhookDelivery.objects.exists()


def test_the_reconciler_recovers_what_a_lost_webhook_did_not_bring(
    shop, settings, shopper, product, person_photo
):
    """No poll-through, no poll task, no webhook: the periodic reconciler alone."""
    shop.state.set_faults(drop_webhooks=1.0)
    settings.GENLOOK = {**settings.GENLOOK, "RECONCILE_AFTER": 0.2}
    response = start(shopper, product, person_photo)
    deadline = time.monotonic() + 10
    while TryOn.objects.get().state == TryOn.State.PENDING:
        assert time.monotonic() < deadline
        time.sleep(0.25)
        reconcile.reconcile()

    assert wait_final(shopper, response.json()["id"], timeout=1)["status"] == "completed"
    assert [sent.outcome for sent in shop.state.webhook_deliveries] == ["dropped"]
    assert not WebhookDelivery.objects.exists()
