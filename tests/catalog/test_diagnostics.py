"""Catalog diagnostics: no product is ever kept from Genlook silently.

Skip reasons in ``genlook_sync`` (dry or not), in the log and on withdrawn rows; the system
checks ``genlook.W040``/``W041``; field specs (callables, method names, dotted paths); the
``strip_html`` flag; ``normalise_category``.
"""

from __future__ import annotations

import io
import logging
import sys
from decimal import Decimal

import pytest
from django.apps import AppConfig
from django.apps.registry import Apps
from django.core.exceptions import ImproperlyConfigured
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import models

import genlook_django
from example_shop.shop.models import Category, Product
from genlook_django import ProductAdapter, SkipReason, checks, disable_auto_sync
from genlook_django.checks.catalog import CATALOG_SAMPLE_SIZE
from genlook_django.models import SyncedProduct
from genlook_django.services import catalog
from genlook_django.services.catalog import Skip, html_to_text
from tests.catalog.gallery import Garment, GarmentPhoto
from tests.support.images import image_bytes

Status = SyncedProduct.Status


def sync_command(*args: str, verbosity: int = 1) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command(
        "genlook_sync", *args, "--no-progress", verbosity=verbosity, stdout=out, stderr=err
    )
    return out.getvalue(), err.getvalue()


class PricyNotSynced(ProductAdapter):
    def should_sync(self, instance):
        return instance.price < 100 and super().should_sync(instance)


@pytest.fixture
def mixed_catalog(make_product, adapter_for) -> dict[str, Product]:
    """One product per skip reason, and one that syncs."""
    adapter_for(Product, PricyNotSynced)
    with disable_auto_sync():
        products = {
            "ok": make_product("Linen Shirt"),
            "inactive": make_product("Hidden Shirt", is_active=False),
            "no_image": make_product("Bare Shirt", image=None),
            "no_title": make_product("Soon Untitled"),
            "should_sync": make_product("Gold Shirt", price=Decimal("500.00")),
        }
        Product.objects.filter(pk=products["no_title"].pk).update(name="  ")
    return products


def test_dry_run_lists_each_skipped_product_with_its_reason(genlook, mixed_catalog):
    out, _ = sync_command("--dry-run", verbosity=2)

    assert genlook.state.requests == []
    assert "4 skipped, 1 would create" in out
    lines = {line.strip() for line in out.splitlines()}
    p = mixed_catalog
    assert (
        f"shop.product:{p['inactive'].pk} 'Hidden Shirt' (skipped) inactive: "
        "not active (is_active is False)"
    ) in lines
    assert (
        f"shop.product:{p['no_image'].pk} 'Bare Shirt' (skipped) no_image: "
        "no image (image gave none)"
    ) in lines
    assert f"shop.product:{p['no_title'].pk} '  ' (skipped) no_title: the title is empty" in lines
    assert (
        f"shop.product:{p['should_sync'].pk} 'Gold Shirt' (skipped) should_sync: "
        "PricyNotSynced.should_sync() returned False"
    ) in lines
    assert not any(f":{p['ok'].pk} " in line for line in lines)


def test_dry_run_at_verbosity_1_counts_by_reason(genlook, mixed_catalog):
    out, _ = sync_command("--dry-run")

    assert "Not for Genlook, by reason: " in out
    for reason in ("1 inactive", "1 no_image", "1 no_title", "1 should_sync"):
        assert reason in out
    assert "Run with -v 2 to list each product" in out
    assert "(skipped)" not in out


def test_a_real_sync_logs_and_counts_skips(genlook, mixed_catalog, caplog):
    with caplog.at_level(logging.INFO, logger="genlook_django.catalog"):
        out, _ = sync_command()

    assert "1 created, 4 skipped" in out
    assert "1 no_image" in out
    assert genlook.state.count("POST", "/products") == 1
    logged = [r.getMessage() for r in caplog.records if "not synced" in r.getMessage()]
    assert len(logged) == 4
    no_image = mixed_catalog["no_image"].pk
    assert f"shop.product:{no_image} 'Bare Shirt' not synced (no_image): no image" in "\n".join(
        logged
    )


def test_sync_catalog_results_carry_the_reason(genlook, mixed_catalog):
    report = catalog.sync_catalog([Product], dry_run=True)
    by_id = {r.object_id: r for r in report.skips}
    result = by_id[str(mixed_catalog["inactive"].pk)]
    assert (result.outcome, result.reason, result.label) == ("skipped", "inactive", "Hidden Shirt")
    assert report.reasons == {"inactive": 1, "no_image": 1, "no_title": 1, "should_sync": 1}


def test_a_withdrawn_product_keeps_its_reason_on_its_row(
    genlook, synced, django_capture_on_commit_callbacks, caplog
):
    product = synced()
    with (
        caplog.at_level(logging.INFO, logger="genlook_django.catalog"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        product.is_active = False
        product.save()

    row = SyncedProduct.objects.get()
    assert row.status == Status.DELETED
    assert row.last_error_code == "inactive"
    assert row.last_error == "Withdrawn from Genlook: not active (is_active is False)."
    assert any("not synced (inactive)" in r.getMessage() for r in caplog.records)

    with django_capture_on_commit_callbacks(execute=True):  # back on sale: synced, cleared
        product.is_active = True
        product.save()
    row.refresh_from_db()
    assert (row.status, row.last_error, row.last_error_code) == (Status.SYNCED, "", "")


def test_withdrawals_are_listed_with_their_reason(genlook, synced):
    product = synced("Old Shirt")
    with disable_auto_sync():
        Product.objects.filter(pk=product.pk).update(is_active=False)

    out, _ = sync_command("--dry-run", verbosity=2)
    assert "1 would delete" in out
    assert f"shop.product:{product.pk} 'Old Shirt' (would delete) inactive: not active" in out
    out, _ = sync_command()
    assert "1 deleted" in out and "1 inactive" in out


def test_a_relative_image_url_without_public_base_url_has_a_reason(genlook, settings, make_product):
    settings.GENLOOK = {**settings.GENLOOK, "PUBLIC_BASE_URL": None}
    with disable_auto_sync():
        product = make_product("Local Shirt")

    out, err = sync_command("--dry-run", verbosity=2)
    assert "1 failed" in out and "1 image_not_public" in out
    assert f"shop.product:{product.pk} 'Local Shirt' (failed) image_not_public:" in out
    assert "PUBLIC_BASE_URL" in err
    assert genlook.state.requests == []


# -- System checks ----------------------------------------------------------------------


def ids(messages) -> list[str]:
    return [m.id for m in messages]


def catalog_checks(databases=None) -> list:
    return checks.check_catalog_adapters() + checks.check_catalog_sample(databases=databases)


def test_the_shop_passes_the_catalog_checks(shop_adapter, make_product):
    make_product()
    assert catalog_checks(["default"]) == []


def test_no_image_source_and_no_active_flag_are_warned_without_a_query(
    gallery, adapter_for, django_assert_num_queries
):
    adapter_for(Garment)  # no ImageField on Garment, no is_active
    with django_assert_num_queries(0):
        messages = catalog_checks()
    assert ids(messages) == ["genlook.W040", "genlook.W041"]
    assert "image_fields" in messages[0].hint
    assert "active_field = False" in messages[1].hint


def test_active_field_false_says_every_product_is_active(gallery, adapter_for):
    adapter_for(Garment, image_fields=["photos"], active_field=False)
    assert catalog_checks() == []


def test_an_adapter_deciding_itself_is_not_warned(gallery, adapter_for):
    class Decides(ProductAdapter):
        def should_sync(self, instance):
            return True

    adapter_for(Garment, Decides)
    assert catalog_checks() == []


def test_a_sample_without_any_image_is_warned_only_with_databases(
    gallery, adapter_for, django_assert_max_num_queries
):
    adapter_for(Garment, image_fields=["photos"], active_field=False)
    for number in range(25):
        Garment.objects.create(name=f"Garment {number}")

    assert catalog_checks() == []  # plain `check`: no database, no query
    # per model: a savepoint, its release, the sample (the shop Product too); a query per
    # garment for its photos
    with django_assert_max_num_queries(2 * 3 + CATALOG_SAMPLE_SIZE):
        messages = catalog_checks(["default"])
    assert ids(messages) == ["genlook.W040"]
    assert "None of the first 20 gallery.Garment products" in messages[0].msg
    assert "image_fields: photos" in messages[0].msg
    assert "image_fields" in messages[0].hint
    assert catalog_checks(["other"]) == []  # not the model's database

    garment = Garment.objects.order_by("pk")[3]
    GarmentPhoto.objects.create(
        garment=garment,
        picture=SimpleUploadedFile("g.png", image_bytes(), content_type="image/png"),
    )
    assert catalog_checks(["default"]) == []


def test_an_adapter_error_in_the_sample_is_reported(gallery, adapter_for):
    adapter_for(Garment, image_fields=["pictures"], active_field=False)  # misnamed
    Garment.objects.create(name="Shirt")
    (message,) = catalog_checks(["default"])
    assert message.id == "genlook.W040"
    assert "ImproperlyConfigured" in message.msg and "'pictures'" in message.msg


class _NoTableConfig(AppConfig):
    name = "tests.catalog"
    label = "notable"


_no_table_apps = Apps(installed_apps=[_NoTableConfig("tests.catalog", sys.modules[__name__])])


class Unmigrated(models.Model):
    """A model whose table was never created (as before ``migrate``)."""

    name = models.CharField(max_length=10)
    image = models.ImageField()
    is_active = models.BooleanField(default=True)

    class Meta:
        app_label = "notable"
        apps = _no_table_apps

    def __str__(self) -> str:
        return self.name


def test_a_table_not_created_yet_is_passed_over(db, adapter_for):
    adapter_for(Unmigrated)
    assert catalog_checks(["default"]) == []


# -- Field specs -----------------------------------------------------------------------------


def test_field_specs_accept_callables_method_names_and_paths(
    genlook, make_product, adapter_for, public_base_url
):
    class Adapter(ProductAdapter):
        title_field = "title_of"  # the adapter's method
        description_field = "__str__"  # the model's method
        category_field = staticmethod(lambda product: "Sunglasses")

        def title_of(self, product):
            return product.name.upper()

    adapter = adapter_for(Product, Adapter)
    product = make_product("Linen Shirt", slug="linen")
    payload = adapter.get_payload(product)
    assert payload.title == "LINEN SHIRT"
    assert payload.description == "Linen Shirt"
    assert payload.metadata["category"] == "eyewear"

    inline = adapter_for(
        Product,
        title_field=lambda product: f"{product.name} ({product.currency})",  # not bound
        description_field="image.name",  # a dotted path
        category_field=lambda product: Category.HATS,
        active_field=lambda product: product.price > 10,
    )
    payload = inline.get_payload(product)
    assert payload.title == "Linen Shirt (EUR)"
    assert payload.description == product.image.name
    assert payload.metadata["category"] == "caps"
    assert inline.should_sync(product)
    product.price = Decimal("5")
    assert inline.explain_skip(product) == Skip("inactive", "not active (<lambda> is False)")


def test_image_fields_accept_callables_and_adapter_methods(make_product, adapter_for):
    class Adapter(ProductAdapter):
        image_fields = ["cdn_image", lambda product: "https://cdn.example.com/second.png"]

        def cdn_image(self, product):
            return f"https://cdn.example.com/{product.slug}.png"

    adapter = adapter_for(Product, Adapter)
    product = make_product(slug="shirt")
    assert adapter.get_image_urls(product) == [
        "https://cdn.example.com/shirt.png",
        "https://cdn.example.com/second.png",
    ]


def test_a_misnamed_field_is_an_error_not_an_empty_value(genlook, make_product, adapter_for):
    adapter = adapter_for(Product, title_field="label")
    product = make_product()
    with pytest.raises(ImproperlyConfigured, match="no attribute 'label'"):
        adapter.get_title(product)
    result = catalog.sync_object(Product, product.pk)
    assert result.outcome == "failed"
    assert SyncedProduct.objects.get().last_error_code == "ImproperlyConfigured"


class PublicFlagged(models.Model):
    """Oscar's way: ``is_public`` rather than ``is_active``."""

    title = models.CharField(max_length=10)
    image = models.ImageField()
    is_public = models.BooleanField(default=True)

    class Meta:
        app_label = "notable"
        apps = _no_table_apps

    def __str__(self) -> str:
        return self.title


def test_is_public_is_a_conventional_active_flag():
    adapter = ProductAdapter(PublicFlagged)
    assert adapter._active_field == "is_public"
    product = PublicFlagged(pk=1, title="Cap", image="cap.png", is_public=False)
    assert adapter.explain_skip(product) == Skip("inactive", "not active (is_public is False)")
    assert ProductAdapter(Garment)._active_field is None


# -- strip_html ------------------------------------------------------------------------------

RICH = "<p>Soft <strong>linen</strong> &amp; cotton.</p><ul><li>Airy</li><li>Light&nbsp;</li></ul>"


def test_html_descriptions_are_pushed_as_text(make_product, shop_adapter):
    product = make_product(description=RICH)
    assert shop_adapter.get_description(product) == "Soft linen & cotton.\nAiry\nLight"


def test_strip_html_off_keeps_the_markup(make_product, adapter_for):
    adapter = adapter_for(Product, strip_html=False)
    product = make_product(description=RICH)
    assert adapter.get_description(product) == RICH


@pytest.mark.parametrize(
    "text",
    ["Plain.", "Two\n\nparagraphs,  spaced.", "Sizes < 40 and > 38", "A & B", ""],
)
def test_plain_text_is_left_as_it_is(text):
    assert html_to_text(text) == text  # so existing content hashes do not change


def test_html_to_text():
    assert html_to_text("Line<br>next<br/>last") == "Line\nnext\nlast"
    assert html_to_text("<div>a</div>\n\n\n\n<div>b</div>") == "a\n\nb"
    assert html_to_text("Caf&eacute; &#8212; cr&egrave;me") == "Caf\u00e9 \u2014 cr\u00e8me"
    assert html_to_text("<!-- note -->Text") == "Text"


# -- normalise_category ---------------------------------------------------------------------


def test_normalise_category_is_public():
    assert genlook_django.normalise_category("T-Shirts") == "tops"
    assert genlook_django.normalise_category("Socks") is None
    assert genlook_django.normalise_category("Accessories", {"accessories": "eyewear"}) == (
        "eyewear"
    )
    assert SkipReason.NO_IMAGE == "no_image"


def test_an_annotated_value_is_a_field_spec_too(make_product, adapter_for):
    class Annotated(ProductAdapter):
        title_field = "display_name"

        def get_queryset(self):
            from django.db.models.functions import Upper

            return super().get_queryset().annotate(display_name=Upper("name"))

    adapter = adapter_for(Product, Annotated)
    make_product("Linen Shirt")
    product = adapter.get_queryset().get()
    assert adapter.get_title(product) == "LINEN SHIRT"
