"""A real Chromium (Playwright, Debian's chromium) logs into the admin, opens the credits
dashboard and the watermark settings, changes a value and sees the preview follow.

Skipped without Playwright or Chromium; with GENLOOK_REQUIRE_SERVICES=1 (CI) a missing
browser fails instead. Screenshots land in test-output/admin-*.png.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from genlook_django.models import CreditSnapshot, FunnelEvent, TryOn, WatermarkSettings
from tests.support.browser import OUTPUT
from tests.support.catalog import API_KEY
from tests.support.images import png_logo

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SAMPLE = (
    Path(__file__).resolve().parents[2] / "genlook_django/static/genlook/admin/sample-result.jpg"
)
State = TryOn.State


@pytest.fixture
def history(storefront, make_try_on):
    """Two weeks of try-ons, snapshots and add-to-carts, and a balance under the threshold."""
    now = timezone.now()
    result = SAMPLE.read_bytes()
    for day in range(14):
        at = now - timedelta(days=day, hours=2)
        for index in range(2 + day % 3):
            done = make_try_on(at=at, took=5 + index, result=result if day < 2 else None)
            if index == 0 and day % 2 == 0:
                FunnelEvent.objects.create(
                    kind="added_to_cart",
                    shopper_key=done.shopper_key,
                    content_type=done.content_type,
                    object_id=done.object_id,
                    try_on=done,
                )
        if day % 4 == 1:
            make_try_on(State.FAILED, at=at, error_code="PHOTO_REJECTED")
        CreditSnapshot.objects.create(balance=15 + 3 * day, taken_at=at)
    storefront.state.set_credits(API_KEY, 15)


def log_in(page, live_server) -> None:
    User.objects.create_superuser("boss", "boss@example.com", "secret-pass")
    page.goto(live_server.url + "/admin/login/")
    page.get_by_label("Username").fill("boss")
    page.get_by_label("Password").fill("secret-pass")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/admin/")


def test_the_merchant_reads_credits_and_tunes_the_watermark(live_server, browser, history):
    OUTPUT.mkdir(exist_ok=True)
    row = WatermarkSettings.load()
    row.logo.save("logo.png", SimpleUploadedFile("logo.png", png_logo((240, 80))), save=False)
    row.overlay_enabled = True
    row.save()

    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("response", lambda r: r.status >= 400 and errors.append(f"{r.status} {r.url}"))
    # (The admin has no favicon: Chromium's own request for /favicon.ico is not ours.)
    page.on(
        "console",
        lambda message: (
            message.type == "error"
            and "favicon" not in message.location.get("url", "")
            and errors.append(message.text)
        ),
    )
    log_in(page, live_server)

    # The admin index links to the dashboard, which reads the balance: below the threshold.
    page.get_by_role("link", name="Credits and usage").first.click()
    page.wait_for_url("**/genlook/creditsnapshot/")
    assert page.locator("[data-genlook-balance]").inner_text() == "15"
    assert "running low" in page.locator(".genlook-banner").inner_text()
    assert page.locator("svg.genlook-chart").count() == 3
    page.screenshot(path=str(OUTPUT / "admin-credits.png"), full_page=True)
    page.goto(live_server.url + "/admin/")  # the banner is on every admin page
    assert "running low" in page.locator(".genlook-banner").inner_text()

    # Watermark: the preview follows the form before it is saved.
    page.goto(live_server.url + "/admin/genlook/watermarksettings/")
    preview = page.locator("img[data-genlook-preview]")
    preview.wait_for()
    assert preview.evaluate("img => img.complete && img.naturalWidth > 0")
    first_src = preview.get_attribute("src")
    page.locator("#id_position").select_option("top-left")
    page.locator("#id_opacity").fill("0.5")
    page.wait_for_function(
        "src => { const img = document.querySelector('img[data-genlook-preview]');"
        " return img.getAttribute('src') !== src && img.dataset.state === 'ready'"
        " && img.complete && img.naturalWidth > 0; }",
        arg=first_src,
        timeout=10_000,
    )
    assert "position=top-left" in preview.get_attribute("src")
    assert page.get_by_text("Preview updated.").is_visible()
    page.evaluate("window.scrollTo(0, 0)")  # the sticky sidebar follows the scroll
    page.screenshot(path=str(OUTPUT / "admin-watermark.png"), full_page=True)

    # A new logo, not saved yet, is previewed too (POSTed with the CSRF token).
    page.set_input_files("#id_logo", str(SAMPLE))
    page.wait_for_function(
        "() => { const img = document.querySelector('img[data-genlook-preview]');"
        " return img.src.startsWith('blob:') && img.dataset.state === 'ready'; }",
        timeout=10_000,
    )

    # The try-ons list, with its thumbnails.
    page.goto(live_server.url + "/admin/genlook/tryon/")
    thumbs = page.locator("img.genlook-thumb")
    thumbs.first.wait_for()
    page.wait_for_function(
        "() => [...document.querySelectorAll('img.genlook-thumb')]"
        ".every(img => img.complete && img.naturalWidth > 0)"
    )
    page.screenshot(path=str(OUTPUT / "admin-tryons.png"))

    assert errors == []
    context.close()
