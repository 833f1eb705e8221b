"""The storefront in both Genlook dialects, against the sandbox over real HTTP: upload,
try-on and result the same way; with the classic API the photo goes as a signed link the
shop serves, the product as its image URL and category, and the webhook brings the result."""

from __future__ import annotations

import logging
import time

import pytest
from django.core import signing
from django.urls import reverse

from genlook_django.models import ShopperPhoto, TryOn, WebhookDelivery
from genlook_django.services.tryons import photo_links
from tests.conftest import LIVE_SERVER_LOCK
from tests.support.catalog import API_KEY
from tests.support.dialects import DIALECTS, LockedClient, settle_webhooks, speak
from tests.support.storefront import follow, start

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def shopper():
    return LockedClient()


@pytest.fixture
def dialect(request, settings, storefront, live_server):
    speak(settings, storefront, live_server, request.param)
    return request.param


@pytest.fixture
def dialect_webhooks(settings, storefront, live_server):
    """Classic, with no poll-through: only the webhook can bring the result."""
    speak(settings, storefront, live_server, "classic", STATUS_POLL_THROUGH=False)


@pytest.mark.parametrize("dialect", DIALECTS, indirect=True)
def test_a_shopper_tries_a_product_on_in_either_dialect(
    dialect, storefront, live_server, shopper, product, person_photo
):
    created = start(shopper, product, person_photo)
    assert created.status_code == 202, created.content
    done = follow(shopper, created.json())
    assert done["status"] == "completed", done
    # The classic API's webhook reaches the live server: settled before rows are read.
    settle_webhooks(storefront, expected=1 if dialect == "classic" else 0)
    result = shopper.get(done["result_url"])
    assert result.status_code == 200
    assert b"".join(result.streaming_content).startswith(b"\xff\xd8\xff")
    row = TryOn.objects.get(public_id=done["id"])
    assert row.state == TryOn.State.COMPLETED and row.generation_id
    state = storefront.state
    generation = state.engine.get(API_KEY, row.generation_id)
    if dialect == "classic":
        # One classic create, which fetched the photo link and the product image from the
        # shop while it waited (a link that did not work would have been refused, 400).
        assert state.count("POST", "/v1/try-on", status=201) == 1
        assert state.count("POST", "/images/upload") == state.count("POST", "/try-on") == 0
        assert generation.dialect == "classic" and generation.category == "tops"
        assert generation.webhook_url.startswith(live_server.url + "/genlook/webhooks/")
    else:
        assert state.count("POST", "/images/upload") == 1
        assert state.count("POST", "/try-on") == 1
        assert state.count("POST", "/v1/try-on") == 0
        assert generation.dialect == "v1" and generation.webhook_url is None


def test_without_webhooks_the_classic_api_is_polled(
    settings, storefront, live_server, shopper, product, person_photo
):
    speak(settings, storefront, live_server, "classic", WEBHOOKS=False)
    done = follow(shopper, start(shopper, product, person_photo).json())
    assert done["status"] == "completed"
    row = TryOn.objects.get(public_id=done["id"])
    assert storefront.state.engine.get(API_KEY, row.generation_id).webhook_url is None
    assert storefront.state.count("GET", "/v1/try-on/{id}") >= 1


def test_with_the_classic_api_the_webhook_brings_the_result(
    dialect_webhooks, storefront, live_server, shopper, product, person_photo
):
    created = start(shopper, product, person_photo).json()
    assert created["status"] == "pending"
    deadline = time.monotonic() + 15
    while not any(d.outcome == "delivered" for d in storefront.state.webhook_deliveries):
        assert time.monotonic() < deadline, storefront.state.webhook_deliveries
        time.sleep(0.05)
    with LIVE_SERVER_LOCK:
        row = TryOn.objects.get(public_id=created["id"])
    assert row.state == TryOn.State.COMPLETED  # no poll ran: the webhook did it
    assert WebhookDelivery.objects.filter(try_on=row).exists()
    assert storefront.state.count("GET", "/v1/try-on/{id}") >= 1  # the receiver's confirmation


def test_a_product_without_a_garment_category_fails_visibly(
    settings, storefront, live_server, shopper, make_product, adapter_for, person_photo
):
    from example_shop.shop.models import Product

    adapter_for(Product, category_field=None, category="socks")
    speak(settings, storefront, live_server, "classic", WEBHOOKS=False)
    product = make_product("Wool Socks")
    done = follow(shopper, start(shopper, product, person_photo).json())
    assert done["status"] == "failed"
    row = TryOn.objects.get(public_id=done["id"])
    assert row.error_code == "CATEGORY_UNKNOWN"
    assert storefront.state.count("POST", "/v1/try-on") == 0  # nothing was sent, or charged


def test_photo_links_expire_and_cannot_be_forged(settings, storefront, client):
    settings.GENLOOK = {**settings.GENLOOK, "PUBLIC_BASE_URL": "https://shop.example.com"}
    token = signing.dumps("genlook/photos/x.jpg", salt=photo_links.SALT, compress=True)
    assert photo_links.file_name(token) == "genlook/photos/x.jpg"
    assert client.get(reverse("genlook:photo-link", kwargs={"token": token})).status_code == 404
    forged = signing.dumps("genlook/photos/x.jpg", salt="another", compress=True)
    assert photo_links.file_name(forged) is None
    outside = signing.dumps("secrets/settings.py", salt=photo_links.SALT, compress=True)
    assert photo_links.file_name(outside) is None
    settings.GENLOOK = {**settings.GENLOOK, "PHOTO_LINK_MAX_AGE": -1}
    assert photo_links.file_name(token) is None  # expired


def test_a_photo_link_serves_the_normalised_photo_privately(
    settings, storefront, live_server, shopper, product, person_photo
):
    speak(settings, storefront, live_server, "classic", WEBHOOKS=False)
    done = follow(shopper, start(shopper, product, person_photo).json())
    assert done["status"] == "completed"
    link = photo_links.url_for(ShopperPhoto.objects.get())
    assert link.startswith(live_server.url + "/genlook/photos/")
    served = shopper.get(link.removeprefix(live_server.url))
    assert served.status_code == 200 and served["Content-Type"] == "image/jpeg"
    assert served["Cache-Control"] == "private, no-store"
    assert served.content.startswith(b"\xff\xd8\xff")


def test_erasure_with_the_classic_api_sends_nothing_and_says_so(settings, storefront, caplog):
    from genlook_django.services.tryons import erasure

    settings.GENLOOK = {**settings.GENLOOK, "API": "classic"}
    with caplog.at_level(logging.WARNING, logger="genlook_django.tryons"):
        erasure.erase_at_genlook("shopper-key")
    assert "no customer deletion" in caplog.text
    assert storefront.state.count() == 0
