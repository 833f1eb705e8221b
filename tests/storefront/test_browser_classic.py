"""A real Chromium tries a product on in the example shop speaking Genlook's classic API to
the sandbox: the photo goes as a signed link the shop serves, the result comes by webhook.

Skipped without Playwright or Chromium; with GENLOOK_REQUIRE_SERVICES=1 (CI) a missing
browser fails the test instead. The screenshot lands in test-output/.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from genlook_django.models import TryOn, WebhookDelivery
from tests.support.browser import OUTPUT, try_on_photo
from tests.support.catalog import API_KEY
from tests.support.dialects import speak

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHOTO = Path(__file__).resolve().parents[1] / "media" / "person-astronaut.png"


@pytest.fixture
def shop(settings, storefront, live_server, make_product):
    # No poll-through: the result can only come by the webhook. No waiting status
    # requests either: the live server runs one request at a time, the webhook's included.
    speak(
        settings,
        storefront,
        live_server,
        "classic",
        WIDGET_POLL_MS=300,
        STATUS_POLL_THROUGH=False,
        STATUS_WAIT_MAX=0,
    )
    storefront.state.configure(generation_seconds=1.0)
    return make_product("Sage Wrap Dress", category="dresses")


def test_a_shopper_tries_on_a_product_through_the_classic_api(
    live_server, browser, storefront, shop
):
    OUTPUT.mkdir(exist_ok=True)
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))

    page.goto(live_server.url + shop.get_absolute_url())
    page.get_by_role("button", name="Try it on").click()
    dialog = page.get_by_role("dialog", name="Sage Wrap Dress")
    dialog.wait_for()
    try_on_photo(page, dialog, PHOTO)
    page.screenshot(path=str(OUTPUT / "browser-classic-result.png"))
    assert errors == []
    context.close()

    row = TryOn.objects.get()
    assert row.state == TryOn.State.COMPLETED
    assert WebhookDelivery.objects.filter(try_on=row).exists()
    generation = storefront.state.engine.get(API_KEY, row.generation_id)
    assert generation.dialect == "classic" and generation.category == "dresses"
    assert storefront.state.count("POST", "/v1/try-on", status=201) == 1
