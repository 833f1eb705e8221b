"""A real Chromium (Playwright, Debian's chromium) opens a product page of the example shop,
uploads a photo and sees the try-on appear, against the sandbox.

Skipped without Playwright or Chromium; with GENLOOK_REQUIRE_SERVICES=1 (CI) a missing
browser fails the test instead. Screenshots land in test-output/.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from genlook_django.models import TryOn
from tests.support.browser import OUTPUT

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHOTO = Path(__file__).resolve().parents[1] / "media" / "person-astronaut.png"
VIEWPORTS = {
    "desktop": {"viewport": {"width": 1280, "height": 860}},
    "phone": {
        "viewport": {"width": 390, "height": 844},
        "device_scale_factor": 2,
        "is_mobile": True,
        "has_touch": True,
    },
}


@pytest.fixture
def shop(settings, storefront, live_server, make_product):
    """The example shop served by a live server; the sandbox fetches product images from it."""
    settings.MEDIA_URL = "/media/"
    settings.GENLOOK = {
        **settings.GENLOOK,
        "PUBLIC_BASE_URL": live_server.url,
        "WIDGET_POLL_MS": 300,
    }
    storefront.state.configure(generation_seconds=1.0)
    return make_product("Sage Wrap Dress")


@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_a_shopper_tries_on_a_product_in_chromium(live_server, browser, shop, device):
    OUTPUT.mkdir(exist_ok=True)
    context = browser.new_context(**VIEWPORTS[device])
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))

    page.goto(live_server.url + shop.get_absolute_url())
    opener = page.get_by_role("button", name="Try it on")
    opener.click()

    dialog = page.get_by_role("dialog", name="Sage Wrap Dress")
    dialog.wait_for()
    consent = dialog.get_by_role("checkbox")
    assert not consent.is_checked()  # never ticked for the shopper
    # Tab never leaves the dialog (focus trap).
    for _ in range(8):
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.closest('dialog') !== null")

    page.set_input_files("[data-genlook-file]", str(PHOTO))
    dialog.get_by_role("img", name="Your photo").first.wait_for()
    submit = dialog.locator("[data-genlook-submit]")
    submit.click()
    alert = dialog.get_by_role("alert").first
    assert "tick the box" in alert.inner_text()  # consent first
    consent.check()
    submit.click()

    dialog.get_by_text("Creating your look").wait_for(timeout=10_000)
    result = dialog.locator("[data-genlook-result]")
    result.wait_for(state="visible", timeout=20_000)
    assert result.evaluate("img => img.complete && img.naturalWidth > 0")
    assert dialog.get_by_role("heading", name="Here is your look").is_visible()
    page.wait_for_timeout(300)  # the dialog's entrance animation
    page.screenshot(path=str(OUTPUT / f"browser-{device}-result.png"))

    dialog.get_by_role("radio", name="Before").click()
    assert dialog.locator("[data-genlook-before]").is_visible()
    download = dialog.get_by_role("link", name="Download")
    assert download.get_attribute("href").endswith("/result/?download=1")

    page.keyboard.press("Escape")
    assert not dialog.is_visible()
    assert page.evaluate("document.activeElement.hasAttribute('data-genlook-open')")
    assert errors == []
    context.close()

    row = TryOn.objects.get()
    assert row.state == TryOn.State.COMPLETED
    assert row.shopper_key.startswith("a_")


def test_the_widget_stops_polling_a_try_on_that_never_ends(live_server, browser, shop):
    """Whatever the server says ("pending" forever, here), the widget gives up after
    data-max-wait-ms (a minute past RESULT_TIMEOUT) and says so, and polls no more."""
    context = browser.new_context(**VIEWPORTS["desktop"])
    page = context.new_page()
    polls: list[str] = []

    def forever_pending(route):
        if route.request.method != "GET":
            return route.continue_()
        polls.append(route.request.url)
        response = route.fetch()
        body = {**response.json(), "status": "pending", "poll_after_ms": 100}
        return route.fulfill(response=response, json=body)

    # The status URL, with the widget's ?wait= (held on the server until a change).
    page.route(re.compile(r"/genlook/api/tryons/[^/]+/(\?.*)?$"), forever_pending)
    page.goto(live_server.url + shop.get_absolute_url())
    page.evaluate("document.querySelector('[data-genlook-tryon]').dataset.maxWaitMs = '2500'")
    page.get_by_role("button", name="Try it on").click()
    dialog = page.get_by_role("dialog", name="Sage Wrap Dress")
    page.set_input_files("[data-genlook-file]", str(PHOTO))
    dialog.get_by_role("checkbox").check()
    dialog.locator("[data-genlook-submit]").click()

    dialog.get_by_text("taking longer than it should").wait_for(timeout=10_000)
    # It did follow the try-on until then (how many times depends on how fast this machine
    # uploads within the 2.5 s: at least once).
    assert polls
    assert all("?wait=" in url for url in polls)  # each status request waits on the server
    seen = len(polls)
    page.wait_for_timeout(1000)
    assert len(polls) == seen  # and stopped
    assert dialog.locator("[data-genlook-retry]").is_visible()
    context.close()
