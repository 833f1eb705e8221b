"""How the app wires itself into a shop: the shop's own adapter wins, a failing variant
hook never breaks a save, the menu's access function, and the admin-less project's check."""

from __future__ import annotations

import logging

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.checks import run_checks

from genlook_django.contrib.oscar import dashboard
from genlook_django.contrib.oscar.adapter import OscarProductAdapter, register_oscar_product
from genlook_django.models import SyncedProduct
from genlook_django.services import catalog
from tests.oscar.conftest import Product, external_id


class ShopAdapter(OscarProductAdapter):
    category = "tops"  # every product of this shop is a top


@pytest.fixture
def unregistered():
    """Oscar's product unregistered for one test; the app's adapter put back after."""
    catalog.unregister(Product)
    yield
    if catalog.is_registered(Product):
        catalog.unregister(Product)
    catalog.register(Product, OscarProductAdapter)  # whatever GENLOOK says meanwhile


def test_the_shops_own_adapter_named_in_settings_wins(settings, unregistered):
    settings.GENLOOK = {
        **settings.GENLOOK,
        "PRODUCT_ADAPTERS": {"catalogue.Product": "tests.oscar.test_wiring.ShopAdapter"},
    }
    register_oscar_product()  # the app leaves the model to the setting
    assert not catalog.is_registered(Product)

    catalog.register_from_settings()
    assert type(catalog.get_adapter(Product)) is ShopAdapter


def test_a_failing_variant_hook_syncs_the_row_itself_and_the_save_goes_through(
    genlook,
    genlook_client,
    django_capture_on_commit_callbacks,
    make_oscar_product,
    monkeypatch,
    caplog,
):
    def broken(self, instance):
        raise RuntimeError("the shop's variant_of is broken")

    monkeypatch.setattr(OscarProductAdapter, "variant_of", broken)
    with caplog.at_level(logging.ERROR), django_capture_on_commit_callbacks(execute=True):
        product = make_oscar_product()

    assert "variant_of failed" in caplog.text
    assert genlook_client.get_product(external_id(product)).title == "Linen Shirt"
    assert SyncedProduct.objects.get().status == SyncedProduct.Status.SYNCED


def test_the_menus_access_function(admin_user, django_user_model):
    page = "admin:genlook_tryon_changelist"
    assert dashboard.access_fn(admin_user, page)
    assert dashboard.access_fn(admin_user, None)  # the heading
    assert not dashboard.access_fn(admin_user, "dashboard:index")  # not one of the app's
    assert not dashboard.access_fn(AnonymousUser(), page)
    customer = django_user_model.objects.create_user("customer", "c@example.com", "pw")
    assert not dashboard.access_fn(customer, page)
    assert not dashboard.access_fn(customer, None)


def test_without_the_admin_the_menu_hides_and_the_check_says_why(settings, admin_user):
    settings.ROOT_URLCONF = "tests.oscar.urls_without_admin"

    assert not dashboard.access_fn(admin_user, "admin:genlook_tryon_changelist")
    assert "genlook.W051" in {message.id for message in run_checks()}
