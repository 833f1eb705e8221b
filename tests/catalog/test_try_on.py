"""The storefront's helper: reference first, the inline product on PRODUCT_NOT_FOUND."""

from __future__ import annotations

import pytest

from genlook_django import disable_auto_sync
from genlook_django.client import InlineProduct, ProductReference
from genlook_django.models import SyncedProduct
from genlook_django.services.tryons import products

Status = SyncedProduct.Status


def try_ons(sandbox, status: int | None = None) -> int:
    return sandbox.state.count("POST", "/try-on", status=status) + sandbox.state.count(
        "POST", "/try-on/sync", status=status
    )


@pytest.fixture
def try_on(django_capture_on_commit_callbacks, person_photo):
    def start(product, **options):
        with django_capture_on_commit_callbacks(execute=True):
            return products.create_try_on(product, person=person_photo, **options)

    return start


def test_a_synced_product_is_referenced(genlook, synced, try_on):
    product = synced()
    assert products.product_for_try_on(product) == ProductReference(f"shop.product:{product.pk}")

    generation = try_on(product, external_user_id="shopper-1")
    assert generation.product_external_id == f"shop.product:{product.pk}"
    assert try_ons(genlook) == 1
    assert try_ons(genlook, status=404) == 0
    assert genlook.state.count("POST", "/products") == 1  # nothing else was needed


def test_a_product_genlook_lost_is_sent_inline_and_registered_again(
    genlook, genlook_client, synced, try_on
):
    product = synced()
    external_id = f"shop.product:{product.pk}"
    genlook_client.delete_product(external_id)  # expired, or deleted in the dashboard

    generation = try_on(product)
    assert generation.product_external_id == external_id
    assert try_ons(genlook, status=404) == 1  # the reference missed...
    assert try_ons(genlook) == 2  # ...and the inline product went through
    row = SyncedProduct.objects.get()
    assert row.status == Status.SYNCED  # re-registered with POST /products after the miss
    assert genlook.state.count("POST", "/products") == 2
    assert genlook_client.get_product(external_id).title == product.name


def test_a_never_synced_product_goes_inline_directly(genlook, make_product, try_on):
    with disable_auto_sync():
        product = make_product()
    assert isinstance(products.product_for_try_on(product), InlineProduct)

    try_on(product)
    assert try_ons(genlook) == 1
    assert try_ons(genlook, status=404) == 0
    assert SyncedProduct.objects.get().status == Status.SYNCED


def test_stale_content_goes_inline(genlook, synced, try_on):
    product = synced()
    with disable_auto_sync():
        product.description = "Changed, not pushed yet"
        product.save()
    product_input = products.product_for_try_on(product)
    assert isinstance(product_input, InlineProduct)
    assert product_input.description == "Changed, not pushed yet"


def test_wait_uses_the_sync_endpoint(genlook, synced, try_on):
    genlook.state.configure(generation_seconds=0.1, sync_wait_seconds=5)
    product = synced()
    generation = try_on(product, wait=True)
    assert generation.is_completed
    assert genlook.state.count("POST", "/try-on/sync") == 1
