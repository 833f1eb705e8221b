"""Fixtures of the Oscar suite (``--ds=tests.oscar.settings``): Oscar's own models, the
example's seeded catalog, and the app pointed at the sandbox (``genlook`` from
tests/support/catalog.py)."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from oscar.apps.catalogue.categories import create_from_breadcrumbs
from oscar.core.loading import get_model

from genlook_django.services.genlook import get_client
from tests.support.images import image_bytes

Product = get_model("catalogue", "Product")
ProductClass = get_model("catalogue", "ProductClass")
ProductCategory = get_model("catalogue", "ProductCategory")
ProductImage = get_model("catalogue", "ProductImage")


def external_id(product) -> str:
    return f"catalogue.product:{product.pk}"


@pytest.fixture
def genlook_client(genlook):
    return get_client()


@pytest.fixture
def seeded(db, genlook) -> dict[str, object]:
    """The Oscar example's demo catalog, by UPC (seeded without syncing)."""
    call_command("seed_oscar_demo", stdout=io.StringIO())
    return {product.upc: product for product in Product.objects.all()}


@pytest.fixture
def make_oscar_product(db, genlook):
    """An Oscar product as the dashboard makes one: the product, then its category and
    image rows (all in the caller's transaction)."""
    product_class, _ = ProductClass.objects.get_or_create(name="Clothing")
    counter = iter(range(1, 1_000_000))

    def make(title: str = "Linen Shirt", category: str = "Clothing > Shirts", **fields):
        number = next(counter)
        fields.setdefault("description", f"<p>The <b>{title}</b> &amp; more.</p>")
        product = Product.objects.create(
            title=title, upc=f"T-{number}", product_class=product_class, **fields
        )
        ProductCategory.objects.create(product=product, category=create_from_breadcrumbs(category))
        add_image(product)
        return product

    return make


def add_image(product, name: str = "front.png"):
    upload = SimpleUploadedFile(name, image_bytes(), content_type="image/png")
    order = product.images.count()
    return ProductImage.objects.create(product=product, original=upload, display_order=order)
