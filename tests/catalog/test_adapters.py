"""The adapter API: defaults that fit a simple model, overrides, and registration."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.admin.models import ADDITION, LogEntry
from django.contrib.auth.models import Group, User
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

import genlook_django
from example_shop.shop.models import Category, Product
from genlook_django import GarmentCategory, ProductAdapter
from genlook_django.models import SyncedProduct
from genlook_django.services import catalog
from genlook_django.services.catalog import ProductPayload, normalise_category
from tests.support.catalog import API_KEY

Status = SyncedProduct.Status


def test_defaults_fit_the_shop_product(make_product, shop_adapter, public_base_url):
    product = make_product("Forest Twill Cap", category=Category.HATS, description="Six panels.")
    payload = shop_adapter.get_payload(product)
    assert payload == ProductPayload(
        external_id=f"shop.product:{product.pk}",
        title="Forest Twill Cap",
        description="Six panels.",
        image_urls=(public_base_url + product.image.url,),
        metadata={"category": "caps"},
        valid_for_days=None,
    )
    assert shop_adapter.should_sync(product)
    product.is_active = False
    assert not shop_adapter.should_sync(product)


def test_the_example_shop_registers_its_adapter():
    from example_shop.shop.genlook import ShopProductAdapter

    assert isinstance(catalog.get_adapter(Product), ShopProductAdapter)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("tops", "tops"),
        ("T-Shirts", "tops"),
        ("hoodie", "tops"),
        ("Jeans", "bottoms"),
        ("skirts", "bottoms"),
        ("Dresses", "dresses"),
        ("coat", "outerwear"),
        ("Sunglasses", "eyewear"),
        ("hats", "caps"),
        ("CAP", "caps"),
        ("socks", None),
        ("", None),
        (None, None),
    ],
)
def test_categories(value, expected):
    assert normalise_category(value) == expected


def test_category_map_wins():
    assert normalise_category("Accessories", {"accessories": GarmentCategory.EYEWEAR}) == "eyewear"


def test_overrides_are_pushed(genlook, genlook_client, adapter_for, make_product, synced):
    class Adapter(ProductAdapter):
        external_id_field = "slug"
        title_field = "slug"
        category = GarmentCategory.EYEWEAR
        metadata_fields = ("price", "currency")
        valid_for_days = 30

    adapter_for(Product, Adapter)
    product = synced("Havana Sunglasses", slug="havana", price=Decimal("120.00"))

    remote = genlook_client.get_product("havana")
    assert remote.title == "havana"
    assert remote.metadata == {"category": "eyewear", "price": "120.00", "currency": "EUR"}
    assert remote.valid_for_days == 30
    row = SyncedProduct.objects.get()
    assert row.external_id == "havana"
    assert row.source == product
    expected = timezone.now() + timedelta(days=30)
    assert abs(row.remote_expires_at - expected) < timedelta(minutes=5)


def test_a_changed_external_id_moves_the_product(
    genlook, genlook_client, adapter_for, synced, django_capture_on_commit_callbacks
):
    adapter_for(Product, external_id_field="slug")
    product = synced(slug="old-slug")
    with django_capture_on_commit_callbacks(execute=True):
        product.slug = "new-slug"
        product.save()

    assert genlook.state.count("DELETE", "/products/old-slug") == 1
    assert genlook_client.get_product("new-slug").title == product.name
    row = SyncedProduct.objects.get()
    assert (row.external_id, row.status) == ("new-slug", Status.SYNCED)


def test_two_products_cannot_share_an_external_id(genlook, adapter_for, synced):
    class SameId(ProductAdapter):
        def get_external_id(self, instance):
            return "one-id"

    adapter_for(Product, SameId)
    synced()
    second = synced()
    assert genlook.state.count("POST", "/products") == 1
    results = catalog.sync_object(Product, second.pk)
    assert results.outcome == "failed"
    assert "already used" in str(results.error)


def test_relative_image_url_without_public_base_url_is_a_recorded_failure(
    genlook, settings, synced
):
    settings.GENLOOK = {**settings.GENLOOK, "PUBLIC_BASE_URL": None}
    synced()
    assert genlook.state.requests == []
    row = SyncedProduct.objects.get()
    assert row.status == Status.FAILED
    assert "PUBLIC_BASE_URL" in row.last_error


def test_absolute_storage_urls_are_kept(genlook, genlook_client, adapter_for, synced):
    class CdnAdapter(ProductAdapter):
        def get_images(self, instance):
            return [f"https://cdn.example.com/{instance.slug}.jpg", "//cdn.example.com/b.jpg"]

    adapter_for(Product, CdnAdapter)
    product = synced(image=None, slug="cdn")
    images = genlook_client.get_product(f"shop.product:{product.pk}").images
    assert [i.source_url for i in images] == [
        "https://cdn.example.com/cdn.jpg",
        "https://cdn.example.com/b.jpg",
    ]


def test_content_hash_covers_every_pushed_field():
    base = ProductPayload("a", "Title", "Text", ("http://x/1.png",), {"category": "tops"}, None)
    same = ProductPayload("a", "Title", "Text", ("http://x/1.png",), {"category": "tops"}, None)
    assert base.content_hash == same.content_hash
    changes = [
        ProductPayload("b", "Title", "Text", ("http://x/1.png",), {"category": "tops"}, None),
        ProductPayload("a", "Other", "Text", ("http://x/1.png",), {"category": "tops"}, None),
        ProductPayload("a", "Title", "Other", ("http://x/1.png",), {"category": "tops"}, None),
        ProductPayload("a", "Title", "Text", ("http://x/2.png",), {"category": "tops"}, None),
        ProductPayload("a", "Title", "Text", ("http://x/1.png",), {"category": "caps"}, None),
        ProductPayload("a", "Title", "Text", ("http://x/1.png",), {"category": "tops"}, 7),
    ]
    assert len({p.content_hash for p in [base, *changes]}) == 7


def _as_stored(sandbox, external_id: str) -> ProductPayload:
    """The product as the sandbox stored it from the request it received."""
    stored = sandbox.state.catalog.live(API_KEY, external_id)
    assert stored is not None, f"the sandbox has no {external_id}"
    return ProductPayload(
        external_id=stored.external_id,
        title=stored.title or "",
        description=stored.description or "",
        image_urls=tuple(
            image.source_url for image in sorted(stored.images, key=lambda i: i.order)
        ),
        metadata=stored.metadata or {},
        valid_for_days=stored.valid_for_days,
    )


def test_content_hash_covers_exactly_what_is_pushed(
    genlook, adapter_for, synced, django_capture_on_commit_callbacks
):
    """The recorded hash is the hash of what Genlook received, field for field."""

    class Adapter(ProductAdapter):
        external_id_field = "slug"
        metadata_fields = ("price", "currency")
        valid_for_days = 30

        def get_images(self, instance):
            return [instance.image, f"https://cdn.example.com/{instance.slug}-back.jpg"]

    adapter = adapter_for(Product, Adapter)
    # A blank description is left out (Genlook refuses an empty one), not sent as "".
    product = synced("Havana Sunglasses", slug="havana", category=Category.EYEWEAR, description="")
    edits = [
        {"name": "Havana Sunglasses II"},
        {"description": "Acetate frame."},
        {"price": Decimal("130.00")},
        {"category": Category.HATS},
        {"slug": "havana-2"},
    ]
    for edit in [{}, *edits]:
        with django_capture_on_commit_callbacks(execute=True):
            for name, value in edit.items():
                setattr(product, name, value)
            product.save()
        row = SyncedProduct.objects.get()
        assert row.status == Status.SYNCED, (edit, row.last_error)
        payload = adapter.get_payload(product)
        stored = _as_stored(genlook, row.external_id)
        assert stored == payload, edit
        assert row.content_hash == stored.content_hash == payload.content_hash, edit
    assert genlook.state.count("POST", "/products") == 1 + len(edits)


def test_bad_adapters_are_refused(make_product, adapter_for):
    with pytest.raises(ImproperlyConfigured, match="valid_for_days"):
        adapter_for(Product, valid_for_days=400)
    with pytest.raises(ImproperlyConfigured, match="no field 'sku'"):
        adapter_for(Product, external_id_field="sku")
    adapter = adapter_for(Product, get_external_id=lambda self, obj: "_anon_1")
    with pytest.raises(ValueError, match="_anon_"):
        adapter.get_payload(make_product())


def test_register_forms(adapter_for):
    adapter = adapter_for(Product, title_field="slug")
    assert catalog.get_adapter("shop.product") is adapter
    assert catalog.get_adapter("shop.Product") is adapter
    assert catalog.get_adapter(Product()) is adapter
    with pytest.raises(catalog.AlreadyRegistered):
        genlook_django.register(Product)
    catalog.unregister(Product)
    with pytest.raises(catalog.NotRegistered):
        catalog.get_adapter(Product)

    assert type(genlook_django.register(Product)) is ProductAdapter


def test_register_from_settings(settings, adapter_for):
    adapter_for(Product)
    catalog.unregister(Product)
    settings.GENLOOK = {
        **settings.GENLOOK,
        "PRODUCT_ADAPTERS": {"shop.Product": "example_shop.shop.genlook.ShopProductAdapter"},
    }
    catalog.register_from_settings()
    assert type(catalog.get_adapter(Product)).__name__ == "ShopProductAdapter"


class UserAdapter(ProductAdapter):
    """A stand-in "product" whose description depends on two watched relations."""

    title_field = "username"
    watch = {"admin.LogEntry": "user", Group: "user_set"}
    watch_m2m = ["groups"]

    def get_images(self, instance):
        return ["https://cdn.example.com/user.jpg"]

    def get_description(self, instance):
        groups = ",".join(sorted(g.name for g in instance.groups.all()))
        notes = LogEntry.objects.filter(user=instance).count()
        return f"groups={groups} notes={notes}"


def test_watched_relations_resync_the_product(
    genlook, genlook_client, adapter_for, db, django_capture_on_commit_callbacks
):
    adapter_for(User, UserAdapter)
    with django_capture_on_commit_callbacks(execute=True):
        user = User.objects.create(username="ada")
    group = Group.objects.create(name="staff")

    def description() -> str:
        return genlook_client.get_product(f"auth.user:{user.pk}").description

    assert description() == "groups= notes=0"
    with django_capture_on_commit_callbacks(execute=True):
        user.groups.add(group)  # many-to-many, from the product's side
    assert description() == "groups=staff notes=0"
    with django_capture_on_commit_callbacks(execute=True):
        group.user_set.clear()  # from the other side
    assert description() == "groups= notes=0"
    with django_capture_on_commit_callbacks(execute=True):
        group.user_set.add(user)
    assert description() == "groups=staff notes=0"
    with django_capture_on_commit_callbacks(execute=True):
        LogEntry.objects.create(user=user, action_flag=ADDITION, object_repr="x")  # a FK
    assert description() == "groups=staff notes=1"
    with django_capture_on_commit_callbacks(execute=True):
        group.name = "team"
        group.save()  # a reverse manager path
    assert description() == "groups=team notes=1"
    assert genlook.state.count("POST", "/products") == 6


def test_package_imports_without_django_settings():
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    code = (
        "import genlook_django, genlook_django.client; "
        "print(genlook_django.__version__, callable(genlook_django.__getattr__))"
    )
    run = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        cwd=os.path.dirname(os.path.dirname(os.path.dirname(__file__))),
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith(genlook_django.__version__)


def test_system_check_for_relative_image_urls(settings, shop_adapter):
    from genlook_django.checks import check_product_sync

    settings.MEDIA_URL = "/media/"
    settings.GENLOOK = {**settings.GENLOOK, "PUBLIC_BASE_URL": None}
    assert [m.id for m in check_product_sync()] == ["genlook.W003"]
    settings.GENLOOK = {**settings.GENLOOK, "PUBLIC_BASE_URL": "https://shop.example.com"}
    assert check_product_sync() == []
    settings.GENLOOK = {**settings.GENLOOK, "PUBLIC_BASE_URL": None}
    settings.MEDIA_URL = "https://cdn.example.com/media/"
    assert check_product_sync() == []


def test_an_adapter_error_is_recorded_not_raised(genlook, adapter_for, synced):
    class Broken(ProductAdapter):
        def get_description(self, instance):
            raise RuntimeError("the description service is down")

    adapter_for(Product, Broken)
    synced()
    assert genlook.state.requests == []
    row = SyncedProduct.objects.get()
    assert (row.status, row.last_error_code) == (Status.FAILED, "RuntimeError")
    assert "description service" in row.last_error
