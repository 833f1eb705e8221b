"""The admin with Genlook's classic API: the pages of what it lacks say so at the top, and
nothing is asked of Genlook for them."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from genlook_django.models import SyncedProduct

DASHBOARD = reverse("admin:genlook_creditsnapshot_changelist")
PRODUCTS = reverse("admin:genlook_syncedproduct_changelist")

pytestmark = pytest.mark.django_db


@pytest.fixture
def classic(settings, storefront):
    settings.GENLOOK = {
        **settings.GENLOOK,
        "API": "classic",
        "BASE_URL": storefront.classic_base_url,
    }
    return storefront


def test_the_credits_page_says_there_is_no_balance_to_read(classic, admin_client):
    page = admin_client.get(DASHBOARD)
    assert page.status_code == 200
    assert "has no credits endpoint" in page.content.decode()
    refreshed = admin_client.post(reverse("admin:genlook_creditsnapshot_refresh"), follow=True)
    assert refreshed.status_code == 200
    assert "Balance refreshed" not in refreshed.content.decode()
    assert classic.state.count() == 0  # never asked


def test_the_credits_page_still_shows_the_ledger(classic, admin_client, make_try_on):
    from datetime import timedelta

    from django.utils import timezone

    from genlook_django.models import ChargedGeneration
    from genlook_django.services import ledger

    now = timezone.now()
    first = make_try_on(generation_id="gen_1", at=now - timedelta(days=2))
    ledger.charge(first)
    ledger.charge(make_try_on(generation_id="gen_2", at=now - timedelta(days=1)))
    ledger.charge(make_try_on(generation_id="gen_3", retry_of=first, at=now - timedelta(hours=1)))
    ChargedGeneration.objects.create(generation_id="gen_4", kind="batch", charged_at=now)
    ChargedGeneration.objects.create(  # before the chart's start: not counted
        generation_id="gen_old", kind="shopper", charged_at=now - timedelta(days=90)
    )

    html = admin_client.get(DASHBOARD).content.decode()

    assert "4 charged" in html
    counts = dict(re.findall(r'data-genlook-kind="(\w+)">.*?(\d+)</td></tr>', html))
    assert counts == {"shopper": "2", "retried": "1", "batch": "1", "deleted": "0", "erased": "0"}
    assert "data-genlook-no-balance" in html and "classic API has no credits endpoint" in html
    assert "Two balance snapshots are needed" not in html
    assert "data-genlook-spent" not in html and "data-genlook-unreconciled" not in html
    assert classic.state.count() == 0


def test_with_v1_the_credits_page_has_no_such_banner(storefront, admin_client):
    page = admin_client.get(DASHBOARD)
    assert "has no credits endpoint" not in page.content.decode()


def test_the_products_page_says_there_is_no_catalog_and_offers_no_sync(
    classic, admin_client, make_product
):
    make_product("Linen Shirt")  # a save: not synced with the classic API
    assert classic.state.count() == 0
    assert not SyncedProduct.objects.exclude(status=SyncedProduct.Status.PENDING).exists()
    page = admin_client.get(PRODUCTS)
    assert page.status_code == 200
    html = page.content.decode()
    assert "has no products catalog" in html
    assert 'value="sync_now"' not in html and 'value="delete_at_genlook"' not in html


def test_genlook_sync_refuses_with_the_classic_api(classic):
    from django.core.management import CommandError, call_command

    with pytest.raises(CommandError, match="no products catalog"):
        call_command("genlook_sync")


def test_erasing_a_shopper_says_genlook_keeps_its_results(
    classic, admin_client, make_try_on, django_capture_on_commit_callbacks
):
    from genlook_django.models import ShopperPhoto, TryOn
    from tests.support.images import grey_jpeg

    try_on = make_try_on(result=grey_jpeg(), photo=True)
    url = reverse("admin:genlook_tryon_erase_shopper", args=[try_on.pk])
    assert "has no customer deletion" in admin_client.get(url).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        done = admin_client.post(url, {"confirm": "yes"}, follow=True)
    html = done.content.decode()
    assert "has no customer deletion" in html and "1 shopper(s) erased here" in html
    assert "Genlook is asked" not in html
    assert not TryOn.objects.exists() and not ShopperPhoto.objects.exists()
    assert classic.state.count() == 0  # no DELETE /customers/... in this dialect
