"""A real Chromium opens an Oscar product page (a standalone product, then a child
variant), uploads the test photo and sees the try-on result, against the sandbox."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.management import call_command
from oscar.core.loading import get_model

from genlook_django.models import TryOn
from tests.support.browser import OUTPUT, try_on_photo

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHOTO = Path(__file__).resolve().parents[1] / "media" / "person-astronaut.png"
Product = get_model("catalogue", "Product")


@pytest.fixture
def shop(settings, storefront, live_server, tmp_path):
    """The Oscar example's catalog served by a live server (the sandbox fetches its images
    from there)."""
    settings.MEDIA_URL = "/media/"
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.GENLOOK = {
        **settings.GENLOOK,
        "PUBLIC_BASE_URL": live_server.url,
        "WIDGET_POLL_MS": 300,
    }
    storefront.state.configure(generation_seconds=1.0)
    call_command("seed_oscar_demo", verbosity=0)
    return {product.upc: product for product in Product.objects.all()}


@pytest.mark.parametrize(
    ("upc", "tried_on"), [("GL-DRESS-1", "GL-DRESS-1"), ("GL-TEE-1-M", "GL-TEE-1")]
)
def test_a_shopper_tries_on_an_oscar_product_in_chromium(live_server, browser, shop, upc, tried_on):
    OUTPUT.mkdir(exist_ok=True)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))

    page.goto(live_server.url + shop[upc].get_absolute_url())
    page.get_by_role("button", name="Try it on").click()
    title = shop[tried_on].title  # a child's dialog shows its parent
    dialog = page.get_by_role("dialog", name=title)
    dialog.wait_for()
    try_on_photo(page, dialog, PHOTO)
    assert dialog.get_by_role("heading", name="Here is your look").is_visible()
    page.screenshot(path=str(OUTPUT / f"oscar-browser-{upc.lower()}.png"))
    assert errors == []
    context.close()

    row = TryOn.objects.get()
    assert row.state == TryOn.State.COMPLETED
    assert row.object_id == str(shop[tried_on].pk)
