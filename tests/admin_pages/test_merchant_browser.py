"""A real Chromium on the merchant's pages: the synced products' list fits a 1366 px
screen, the watermark preview says what is wrong with a value, and the batch jobs' list
follows a running job without a reload.

Skipped without Playwright or Chromium (see tests/support/browser.py). Screenshots land in
test-output/admin-products-1366.png and admin-watermark-error.png.
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from genlook_django.models import BatchItem, SyncedProduct
from genlook_django.services import batches
from genlook_django.services.tryons.records import finish_job_if_done
from tests.support.browser import OUTPUT

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def log_in(page, live_server) -> None:
    User.objects.create_superuser("boss", "boss@example.com", "secret-pass")
    page.goto(live_server.url + "/admin/login/")
    page.get_by_label("Username").fill("boss")
    page.get_by_label("Password").fill("secret-pass")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/admin/")


def test_the_products_list_fits_1366_pixels(live_server, browser, storefront, make_product):
    OUTPUT.mkdir(exist_ok=True)
    for n in range(12):
        product = make_product(f"Relaxed Fit Organic Linen Summer Shirt {n}")
        SyncedProduct.objects.update_or_create(
            content_type=ContentType.objects.get_for_model(product),
            object_id=str(product.pk),
            defaults={
                "external_id": f"shop.product:{product.pk}",
                "status": "failed" if n % 3 == 0 else "synced",
                "last_error": "Genlook answered 400: images[0] could not be fetched (timeout)"
                if n % 3 == 0
                else "",
            },
        )
    context = browser.new_context(viewport={"width": 1366, "height": 768})
    page = context.new_page()
    log_in(page, live_server)
    page.goto(live_server.url + "/admin/genlook/syncedproduct/")
    page.locator("#result_list").wait_for()

    # Neither the page nor the list (which scrolls inside its box when too wide) overflows.
    overflow = page.evaluate(
        "() => [document.documentElement, document.querySelector('#changelist .results')]"
        ".map(el => el.scrollWidth - el.clientWidth)"
    )
    page.screenshot(path=str(OUTPUT / "admin-products-1366.png"), full_page=True)
    assert overflow == [0, 0], f"wider than the window by {overflow} px"
    assert page.locator("#result_list th.column-images_ok").is_visible()
    # The product's name links to the product's own admin page.
    link = page.locator("a.genlook-product-name").first
    assert "Relaxed Fit Organic Linen Summer Shirt" in link.inner_text()
    link.click()
    page.wait_for_url("**/admin/shop/product/*/change/")
    context.close()


def test_the_watermark_preview_says_what_is_wrong(live_server, browser, storefront):
    OUTPUT.mkdir(exist_ok=True)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    log_in(page, live_server)
    page.goto(live_server.url + "/admin/genlook/watermarksettings/")
    page.locator("img[data-genlook-preview]").wait_for()

    page.locator("#id_scale").fill("3")
    status = page.locator("[data-genlook-preview-status]")
    page.wait_for_function(
        "() => document.querySelector('[data-genlook-preview-status]')"
        ".textContent.startsWith('Width (share of the image)')",
        timeout=10_000,
    )
    assert "less than or equal to 1" in status.inner_text()
    page.screenshot(path=str(OUTPUT / "admin-watermark-error.png"), full_page=True)
    context.close()


def test_the_batch_list_follows_a_running_job_without_a_reload(
    live_server,
    browser,
    storefront,
    make_product,
    person_photo,
    sqlite_waits_for_locks,
    django_capture_on_commit_callbacks,
):
    products = [make_product(f"Batch Coat {n}") for n in range(2)]
    storefront.state.configure(generation_seconds=120)  # still running while we look
    job = batches.create_job(photos_in=[("a.png", person_photo)], products=products)
    with django_capture_on_commit_callbacks(execute=True):
        batches.start(job)
    context = browser.new_context(viewport={"width": 1366, "height": 768})
    page = context.new_page()
    log_in(page, live_server)
    page.goto(live_server.url + "/admin/genlook/batchjob/")
    cell = page.locator(f'[data-genlook-job="{job.pk}"]')
    cell.wait_for()
    assert cell.get_attribute("data-genlook-open") == "1"
    assert "0 / 2" in cell.inner_text()
    loads = page.evaluate("() => performance.getEntriesByType('navigation').length")

    # The results come in (as ingestion records them): the open page follows, no reload.
    BatchItem.objects.filter(job=job).update(
        state=BatchItem.State.COMPLETED, finished_at=timezone.now()
    )
    finish_job_if_done(job.pk)
    page.wait_for_function(
        f"() => document.querySelector('[data-genlook-job=\"{job.pk}\"]')"
        ".getAttribute('data-genlook-open') === '0'",
        timeout=30_000,
    )
    assert "2 / 2" in cell.inner_text()
    assert page.locator("td.field-state").first.inner_text() == "Done"
    assert page.evaluate("() => performance.getEntriesByType('navigation').length") == loads
    context.close()
