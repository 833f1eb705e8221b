"""In Chromium, what a shopper notices: the look kept across reopening and reloading,
consent asked once, a share link that opens in a fresh browser until revoked or expired,
and a bad file refused before anything is sent.

Skipped without Playwright or Chromium (see tests/support/browser.py); screenshots land in
test-output/.
"""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from django.utils import timezone
from PIL import Image

from genlook_django.models import ShareLink, TryOn
from genlook_django.services.tryons import upload_rules
from tests.storefront.test_browser import PHOTO, VIEWPORTS
from tests.support.browser import OUTPUT

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TRY_ONS_API = "/genlook/api/tryons/"


@pytest.fixture
def shop(settings, storefront, live_server, make_product):
    settings.MEDIA_URL = "/media/"
    settings.GENLOOK = {
        **settings.GENLOOK,
        "PUBLIC_BASE_URL": live_server.url,
        "SHOP_NAME": "Maison Test",
    }
    storefront.state.configure(generation_seconds=0.5)
    return make_product("Sage Wrap Dress")


def watch(page) -> tuple[list[str], list[tuple[str, str]]]:
    """The page's errors, and every request it sends (method, URL)."""
    errors: list[str] = []
    requests: list[tuple[str, str]] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.on("request", lambda request: requests.append((request.method, request.url)))
    return errors, requests


def posts(requests) -> list[str]:
    return [url for method, url in requests if method == "POST" and url.endswith(TRY_ONS_API)]


def open_dialog(page, title: str = "Sage Wrap Dress"):
    page.get_by_role("button", name="Try it on").click()
    dialog = page.get_by_role("dialog", name=title)
    dialog.wait_for()
    return dialog


def try_on(page, *, tick: bool = True):
    dialog = open_dialog(page)
    page.set_input_files("[data-genlook-file]", str(PHOTO))
    if tick:
        dialog.get_by_role("checkbox").check()
    dialog.locator("[data-genlook-submit]").click()
    dialog.locator("[data-genlook-result]").wait_for(state="visible", timeout=20_000)
    return dialog


def look_shown(dialog) -> bool:
    dialog.get_by_role("heading", name="Here is your look").wait_for(timeout=10_000)
    result = dialog.locator("[data-genlook-result]")
    return result.evaluate("img => img.complete && img.naturalWidth > 0")


@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_reopening_and_reloading_keep_the_look_and_consent_is_asked_once(
    live_server, browser, shop, make_product, device
):
    context = browser.new_context(**VIEWPORTS[device])
    page = context.new_page()
    errors, requests = watch(page)
    page.goto(live_server.url + shop.get_absolute_url())
    dialog = try_on(page)
    assert len(posts(requests)) == 1

    page.keyboard.press("Escape")
    assert not dialog.is_visible()
    dialog = open_dialog(page)
    assert look_shown(dialog)

    page.reload()
    dialog = open_dialog(page)
    assert look_shown(dialog)
    assert (
        dialog.get_by_role("link", name="Download")
        .get_attribute("href")
        .endswith("/result/?download=1")
    )
    # Seen again, not made again: no new try-on, no credit.
    assert len(posts(requests)) == 1
    assert TryOn.objects.count() == 1

    # Another product, same session: no box to tick again.
    scarf = make_product("Wool Scarf")
    page.goto(live_server.url + scarf.get_absolute_url())
    dialog = open_dialog(page, "Wool Scarf")
    dialog.get_by_text("You agreed to the use of your photo").wait_for()
    assert not dialog.get_by_role("checkbox").is_visible()
    page.set_input_files("[data-genlook-file]", str(PHOTO))
    dialog.locator("[data-genlook-submit]").wait_for()
    OUTPUT.mkdir(exist_ok=True)
    page.screenshot(path=str(OUTPUT / f"consent-given-{device}.png"))
    dialog.locator("[data-genlook-submit]").click()
    dialog.locator("[data-genlook-result]").wait_for(state="visible", timeout=20_000)
    assert TryOn.objects.count() == 2
    assert set(TryOn.objects.values_list("consent_version", flat=True)) == {"1"}
    assert errors == []
    context.close()


def stub_web_share(context) -> None:
    """A phone's share sheet, recorded (headless Chromium has none)."""
    context.add_init_script(
        "window.__shared = [];"
        "Object.defineProperty(navigator, 'share', {configurable: true, value: function (data) {"
        "  window.__shared.push(data); return Promise.resolve(); }});"
    )


@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_a_share_link_opens_in_a_fresh_browser_until_revoked_or_expired(
    live_server, browser, shop, device
):
    OUTPUT.mkdir(exist_ok=True)
    context = browser.new_context(**VIEWPORTS[device])
    if device == "phone":
        stub_web_share(context)
    else:
        context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    page = context.new_page()
    errors, _requests = watch(page)
    page.goto(live_server.url + shop.get_absolute_url())
    dialog = try_on(page)

    def share() -> str:
        dialog.get_by_role("button", name="Share").click()
        field = dialog.locator("[data-genlook-share-url]")
        field.wait_for(state="visible")
        url = field.input_value()
        if device == "phone":  # the share sheet got the link
            page.wait_for_function("window.__shared.length > 0")
            assert page.evaluate("window.__shared.pop().url") == url
        else:
            dialog.get_by_role("button", name="Copy link").click()
            dialog.get_by_text("Link copied.").wait_for()
            assert page.evaluate("navigator.clipboard.readText()") == url
        return url

    url = share()
    assert url.startswith(live_server.url + "/genlook/shared/")
    page.screenshot(path=str(OUTPUT / f"share-box-{device}.png"))

    # A fresh browser context: no cookie, no session of the shopper.
    stranger = browser.new_context(**VIEWPORTS[device])
    other = stranger.new_page()
    response = other.goto(url)
    assert response.status == 200
    assert other.locator("[data-genlook-shop]").text_content() == "Maison Test"
    assert other.get_by_role("heading", name="Sage Wrap Dress").is_visible()
    link = other.get_by_role("link", name="See the product")
    assert link.get_attribute("href") == shop.get_absolute_url()
    image = other.locator("[data-genlook-shared-result]")
    image.wait_for()
    other.wait_for_function("document.querySelector('[data-genlook-shared-result]').complete")
    assert image.evaluate("img => img.naturalWidth > 0")
    assert "/api/photos/" not in other.content()  # never the shopper's photo
    other.screenshot(path=str(OUTPUT / f"shared-look-{device}.png"))

    dialog.get_by_role("button", name="Stop sharing").click()
    dialog.get_by_text("Sharing stopped").wait_for()
    revoked = other.goto(url)
    assert revoked.status == 404
    assert other.get_by_role("heading", name="This link no longer works").is_visible()

    second = share()
    assert second != url
    assert other.goto(second).status == 200
    ShareLink.objects.update(expires_at=timezone.now() - timedelta(seconds=1))  # expired
    assert other.goto(second).status == 404
    assert other.goto(second + "image/").status == 404
    assert errors == []
    stranger.close()
    context.close()


def noise_png(path, size: int = 1200) -> str:
    """A photo-sized PNG of noise: still far over 100 kB once made a JPEG in the browser."""
    pixels = random.Random(7).randbytes(size * size * 3)
    Image.frombytes("RGB", (size, size), pixels).save(path)
    return str(path)


def test_a_bad_file_is_refused_before_any_request_with_the_servers_message(
    live_server, browser, shop, settings, tmp_path
):
    settings.GENLOOK = {**settings.GENLOOK, "PHOTO_MAX_BYTES": 100_000}
    context = browser.new_context(**VIEWPORTS["desktop"])
    page = context.new_page()
    errors, requests = watch(page)
    page.goto(live_server.url + shop.get_absolute_url())
    dialog = open_dialog(page)
    alert = dialog.locator("[data-genlook-pick-error]")
    cases = [
        ({"name": "me.jpg", "mimeType": "image/jpeg", "buffer": b""}, upload_rules.EMPTY_MESSAGE),
        (
            {"name": "me.jpg", "mimeType": "image/jpeg", "buffer": b"%PDF-1.4 a document"},
            upload_rules.UNSUPPORTED_MESSAGE,
        ),
        (noise_png(tmp_path / "noise.png"), upload_rules.too_large_message(100_000)),
    ]
    for file, message in cases:
        page.set_input_files("[data-genlook-file]", file)
        alert.wait_for(state="visible")
        page.wait_for_function(
            "text => document.querySelector('[data-genlook-pick-error]').textContent === text",
            arg=str(message),
        )
        assert not dialog.locator("[data-genlook-submit]").is_visible()
        page.evaluate("document.querySelector('[data-genlook-pick-error]').hidden = true")

    # Nothing was sent: not one request to the try-on API after the page's own.
    assert [url for _method, url in requests if TRY_ONS_API in url] == []
    assert not TryOn.objects.exists()
    assert errors == []
    context.close()
