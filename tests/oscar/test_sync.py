"""Oscar's catalog reaches the sandbox: saves, images, categories, hiding, deleting, the
seeded catalog in one ``genlook_sync``, and variants tried on as their parent."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from genlook_django.client import NotFoundError
from genlook_django.contrib.oscar.adapter import OscarProductAdapter
from genlook_django.models import SyncedProduct
from genlook_django.services import catalog
from tests.oscar.conftest import (
    Product,
    ProductCategory,
    add_image,
    create_from_breadcrumbs,
    external_id,
)

Status = SyncedProduct.Status


def test_the_app_registers_oscars_product_with_the_oscar_adapter():
    adapter = catalog.get_adapter(Product)
    assert isinstance(adapter, OscarProductAdapter)
    assert adapter.label == "catalogue.product"


def test_a_new_product_reaches_the_sandbox_as_the_dashboard_saves_it(
    genlook, genlook_client, django_capture_on_commit_callbacks, make_oscar_product
):
    with django_capture_on_commit_callbacks(execute=True):
        product = make_oscar_product("Linen Shirt", "Clothing > Shirts & tops > Shirts")

    # Product, category and image saved in one transaction: one push, with all of them.
    assert genlook.state.count("POST", "/products") == 1
    remote = genlook_client.get_product(external_id(product))
    assert remote.title == "Linen Shirt"
    assert remote.description == "The Linen Shirt & more."  # Oscar's HTML, as plain text
    assert len(remote.images) == 1
    assert remote.images[0].source_url.endswith(product.images.get().original.url)
    assert remote.metadata == {"category": "tops"}
    assert SyncedProduct.objects.get().status == Status.SYNCED


def test_an_added_image_is_pushed(
    genlook_client, django_capture_on_commit_callbacks, make_oscar_product
):
    with django_capture_on_commit_callbacks(execute=True):
        product = make_oscar_product()
    with django_capture_on_commit_callbacks(execute=True):
        add_image(product, "back.png")

    remote = genlook_client.get_product(external_id(product))
    urls = [image.source_url for image in remote.images]
    assert [url.rsplit("/", 1)[-1][:4] for url in urls] == ["fron", "back"]  # display order


def test_a_category_change_through_the_through_model_is_pushed(
    genlook_client, django_capture_on_commit_callbacks, make_oscar_product
):
    with django_capture_on_commit_callbacks(execute=True):
        product = make_oscar_product("Wrap", "Clothing > Misc")
    assert not genlook_client.get_product(external_id(product)).metadata  # nothing maps

    # As Oscar's dashboard formset does it: rows of the through model.
    with django_capture_on_commit_callbacks(execute=True):
        ProductCategory.objects.filter(product=product).delete()
        ProductCategory.objects.create(
            product=product, category=create_from_breadcrumbs("Women > Dresses > Maxi")
        )
    assert genlook_client.get_product(external_id(product)).metadata == {"category": "dresses"}

    # And through the many-to-many manager.
    with django_capture_on_commit_callbacks(execute=True):
        product.categories.set([create_from_breadcrumbs("Accessories > Sunglasses")])
    assert genlook_client.get_product(external_id(product)).metadata == {"category": "eyewear"}


def test_hiding_a_product_removes_it_and_showing_it_pushes_it_again(
    genlook_client, django_capture_on_commit_callbacks, make_oscar_product
):
    with django_capture_on_commit_callbacks(execute=True):
        product = make_oscar_product()
    product.is_public = False
    with django_capture_on_commit_callbacks(execute=True):
        product.save()

    with pytest.raises(NotFoundError):
        genlook_client.get_product(external_id(product))
    assert SyncedProduct.objects.get().status == Status.DELETED

    product.is_public = True
    with django_capture_on_commit_callbacks(execute=True):
        product.save()
    assert genlook_client.get_product(external_id(product)).title == "Linen Shirt"


def test_a_deleted_product_is_deleted_at_genlook(
    genlook_client, django_capture_on_commit_callbacks, make_oscar_product
):
    with django_capture_on_commit_callbacks(execute=True):
        product = make_oscar_product()
    ref = external_id(product)
    with django_capture_on_commit_callbacks(execute=True):
        product.delete()  # its images and category rows go with it

    with pytest.raises(NotFoundError):
        genlook_client.get_product(ref)
    assert SyncedProduct.objects.get().status == Status.DELETED


def test_genlook_sync_syncs_the_whole_seeded_catalog_with_none_skipped(genlook_client, seeded):
    out = io.StringIO()
    call_command("genlook_sync", "--no-progress", stdout=out)

    summary = out.getvalue()
    assert "4 products: 4 created;" in summary, summary  # 3 standalone and 1 parent
    assert "skipped" not in summary and "Kept from Genlook" not in summary
    rows = SyncedProduct.objects.all()
    assert {row.status for row in rows} == {Status.SYNCED}
    expected = {
        "GL-DRESS-1": "dresses",
        "GL-JACKET-1": "outerwear",  # Clothing > Outerwear > Jackets
        "GL-SUN-1": "eyewear",
        "GL-TEE-1": "tops",  # the parent of the sizes S, M and L
    }
    assert {row.external_id for row in rows} == {external_id(seeded[upc]) for upc in expected}
    for upc, category in expected.items():
        remote = genlook_client.get_product(external_id(seeded[upc]))
        assert remote.title == seeded[upc].title
        assert "<" not in remote.description and remote.description
        assert len(remote.images) == 1
        assert remote.metadata == {"category": category}


def test_a_variant_is_tried_on_and_synced_as_its_parent(
    genlook, seeded, django_capture_on_commit_callbacks
):
    parent, child = seeded["GL-TEE-1"], seeded["GL-TEE-1-M"]
    assert child.title == ""  # as Oscar's dashboard leaves it
    assert catalog.get_tryon_product(child) == parent
    assert catalog.get_tryon_product(parent) == parent
    assert list(catalog.get_adapter(Product).get_queryset().filter(parent=parent)) == []

    with django_capture_on_commit_callbacks(execute=True):
        child.save()  # re-syncs the parent, never the child on its own
    rows = SyncedProduct.objects.all()
    assert [row.object_id for row in rows] == [str(parent.pk)]
    # One push (the parent's, never synced before) and no call about the child.
    assert [(r.method, r.route or r.path) for r in genlook.state.requests] == [
        ("POST", "/products")
    ]


def test_the_synced_products_admin_links_to_oscars_dashboard(admin_client, seeded):
    call_command("genlook_sync", "--no-progress", stdout=io.StringIO())
    page = admin_client.get("/admin/genlook/syncedproduct/")

    assert page.status_code == 200
    dress = seeded["GL-DRESS-1"]
    assert f'href="/dashboard/catalogue/products/{dress.pk}/"' in page.content.decode()
