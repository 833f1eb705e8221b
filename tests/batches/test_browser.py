"""A real Chromium starts a batch from the admin and follows it to its images, with the app
speaking either Genlook dialect to the sandbox (the classic one: POST /v1/try-on/batch).

Skipped without Playwright or Chromium; with GENLOOK_REQUIRE_SERVICES=1 (CI) a missing
browser fails the test instead. Screenshots land in test-output/.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from django.contrib.auth.models import User

from tests.support.browser import OUTPUT
from tests.support.dialects import DIALECTS, speak

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHOTO = Path(__file__).resolve().parents[1] / "media" / "person-astronaut.png"


@pytest.fixture
def shop(request, settings, storefront, live_server, make_product):
    speak(settings, storefront, live_server, request.param)
    User.objects.create_superuser("boss", "boss@example.com", "secret-pass")
    products = [make_product("Linen Shirt"), make_product("Sage Wrap Dress", category="dresses")]
    return request.param, products


@pytest.mark.parametrize("shop", DIALECTS, indirect=True)
def test_a_merchant_runs_a_batch_from_the_admin(live_server, browser, storefront, shop):
    dialect, products = shop
    OUTPUT.mkdir(exist_ok=True)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(live_server.url + "/admin/login/")
    page.get_by_label("Username").fill("boss")
    page.get_by_label("Password").fill("secret-pass")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/admin/")

    page.goto(live_server.url + "/admin/genlook/batchjob/add/")
    page.set_input_files("input[name=photos]", str(PHOTO))
    page.select_option("select[name=products]", [f"shop.product:{p.pk}" for p in products])
    page.get_by_role("button", name="Start the batch").click()
    # The progress page refreshes itself (and asks Genlook) until every item is done.
    page.wait_for_selector('.genlook-batch-progress[data-completed="2"]', timeout=30_000)
    thumbnails = page.locator('img[src*="?thumb=1"]')
    assert thumbnails.count() == 2
    for index in range(2):  # each result's thumbnail loads (they are lazy: scrolled to)
        thumbnail = thumbnails.nth(index)
        thumbnail.scroll_into_view_if_needed()
        page.wait_for_function(
            "img => img.complete && img.naturalWidth > 0",
            arg=thumbnail.element_handle(),
            timeout=10_000,
        )
    page.screenshot(path=str(OUTPUT / f"batch-{dialect}.png"))
    page.close()

    batch_requests = storefront.state.count("POST", "/v1/try-on/batch", status=201)
    creates = storefront.state.count("POST", "/try-on")
    assert (batch_requests, creates) == ((1, 0) if dialect == "classic" else (0, 2))
