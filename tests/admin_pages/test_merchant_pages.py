"""What a merchant notices on the admin pages: the synced products' filter and product
column, the webhook deliveries page when webhooks are off, the retention purge beside its
command, and lists that do not count or scan the whole table."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from genlook_django.admin.mixins import CappedCountPaginator
from genlook_django.models import SyncedProduct, TryOn, WebhookDelivery

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
PRODUCTS = reverse("admin:genlook_syncedproduct_changelist")
TRY_ONS = reverse("admin:genlook_tryon_changelist")
DELIVERIES = reverse("admin:genlook_webhookdelivery_changelist")
PURGE = reverse("admin:genlook_tryon_purge")


def synced(product, **fields) -> SyncedProduct:
    return SyncedProduct.objects.create(
        external_id=f"shop.product:{product.pk}",
        content_type=ContentType.objects.get_for_model(product),
        object_id=str(product.pk),
        **fields,
    )


# -- Synced products ---------------------------------------------------------------------------


def test_the_model_filter_lists_only_registered_models(admin_client, product):
    synced(product)
    # A row of a model that is not registered (e.g. one unregistered since).
    SyncedProduct.objects.create(
        external_id="auth.user:1",
        content_type=ContentType.objects.get_for_model(User),
        object_id="1",
    )
    response = admin_client.get(PRODUCTS)

    spec = next(f for f in response.context["cl"].filter_specs if f.title == "product model")
    choices = [choice["display"] for choice in spec.choices(response.context["cl"])]
    assert choices == ["All", "products"]
    shop_type = ContentType.objects.get_for_model(product)
    filtered = admin_client.get(PRODUCTS, {"content_type__id__exact": shop_type.pk})
    assert [row.object_id for row in filtered.context["cl"].result_list] == [str(product.pk)]


def test_the_product_column_is_its_name_linked_to_its_admin_page(admin_client, make_product):
    products = [make_product(f"Wool Coat {n}") for n in range(3)]
    for product in products:
        synced(product)
    response = admin_client.get(PRODUCTS)  # warm the content type cache
    with CaptureQueriesContext(connection) as queries:
        response = admin_client.get(PRODUCTS)
    page = response.content.decode()

    for product in products:
        link = reverse("admin:shop_product_change", args=[product.pk])
        assert f'<a class="genlook-product-name" href="{link}">{product.name}</a>' in page
    # The products are read once for the page, not once per row.
    reads = [q for q in queries.captured_queries if 'FROM "shop_product"' in q["sql"]]
    assert len(reads) == 1


def test_a_product_gone_from_the_shop_shows_its_last_known_title(admin_client, product):
    row = synced(product, remote={"title": "Old Linen Shirt"})
    product.delete()
    page = admin_client.get(PRODUCTS).content.decode()
    assert "Old Linen Shirt" in page
    assert row.external_id in page


# -- Webhook deliveries ----------------------------------------------------------------------------


def test_the_deliveries_page_says_webhooks_are_off_and_how_to_turn_them_on(admin_client, settings):
    settings.GENLOOK = {**settings.GENLOOK, "WEBHOOKS": False}
    page = admin_client.get(DELIVERIES).content.decode()
    assert 'data-genlook-webhooks="off"' in page
    assert "Webhooks are off." in page
    assert '"WEBHOOKS": True' in page and "PUBLIC_BASE_URL" in page

    settings.GENLOOK = {**settings.GENLOOK, "WEBHOOKS": True, "PUBLIC_BASE_URL": None}
    assert 'data-genlook-webhooks="no_base_url"' in admin_client.get(DELIVERIES).content.decode()

    settings.GENLOOK = {
        **settings.GENLOOK,
        "WEBHOOKS": True,
        "PUBLIC_BASE_URL": "https://shop.example",
    }
    assert "data-genlook-webhooks" not in admin_client.get(DELIVERIES).content.decode()


def test_the_readme_lists_the_webhooks_page():
    readme = (ROOT / "README.md").read_text()
    assert "(docs/webhooks.md)" in readme


def test_a_delivery_is_found_by_its_generation_or_its_try_on(admin_client, make_try_on):
    try_on = make_try_on(generation_id="gen_found_1")
    for n, generation in enumerate(["gen_found_1", "gen_other_2"]):
        WebhookDelivery.objects.create(
            verdict="accepted",
            generation_id=generation,
            try_on=try_on if n == 0 else None,
        )
    for term in ("gen_found_1", str(try_on.public_id), "gen_fou"):
        rows = admin_client.get(DELIVERIES, {"q": term}).context["cl"].result_list
        assert [row.generation_id for row in rows] == ["gen_found_1"], term


# -- Large lists: no count of the whole table --------------------------------------------------


def test_the_big_lists_count_at_most_a_capped_number_of_rows(
    admin_client, make_try_on, monkeypatch
):
    monkeypatch.setattr(CappedCountPaginator, "CAP", 3)
    for n in range(5):
        make_try_on(generation_id=f"gen_cap_{n}")
    with CaptureQueriesContext(connection) as queries:
        response = admin_client.get(TRY_ONS)
    counts = [q["sql"] for q in queries.captured_queries if "COUNT(" in q["sql"].upper()]
    assert len(counts) == 1 and "LIMIT 4" in counts[0]
    assert response.context["cl"].result_count == 3
    assert response.context["cl"].full_result_count is None
    assert "More than 3 rows match" in response.content.decode()  # said, not hidden
    monkeypatch.setattr(CappedCountPaginator, "CAP", 5)
    assert (
        "data-genlook-count-capped" not in admin_client.get(TRY_ONS).content.decode()
    )  # exactly 5


# -- The retention purge -------------------------------------------------------------------------


def test_the_purge_page_shows_the_dry_run_then_purges(
    admin_client, make_try_on, settings, django_capture_on_commit_callbacks
):
    settings.GENLOOK = {**settings.GENLOOK, "RETENTION_DAYS": 30, "STATS_RETENTION_DAYS": 365}
    old = timezone.now() - timedelta(days=400)
    for n in range(3):
        make_try_on(at=old, generation_id=f"gen_purge_{n}")
    make_try_on(generation_id="gen_recent")

    assert f'href="{PURGE}"' in admin_client.get(TRY_ONS).content.decode()
    page = admin_client.get(PURGE).content.decode()
    deleted = re.search(r'data-genlook-figure="try_ons_deleted">.*?(\d+)</td>', page, re.S)
    assert deleted.group(1) == "3"
    assert TryOn.objects.count() == 4  # a dry run changes nothing

    with django_capture_on_commit_callbacks(execute=True):  # the task, inline here
        response = admin_client.post(PURGE)
    response = admin_client.get(response["Location"])

    assert response.status_code == 200
    assert list(TryOn.objects.values_list("generation_id", flat=True)) == ["gen_recent"]
    assert "data-genlook-purge-nothing" in response.content.decode()


def test_the_purge_page_needs_the_permission_to_delete_try_ons(staff):
    viewer = staff("view_tryon")
    assert viewer.get(PURGE).status_code == 403
    assert viewer.post(PURGE).status_code == 403
    assert "tryon/purge/" not in viewer.get(TRY_ONS).content.decode()
    assert staff("view_tryon", "delete_tryon").get(PURGE).status_code == 200
