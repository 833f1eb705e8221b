from collections.abc import Callable
from decimal import Decimal
from io import BytesIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from example_shop.shop.models import Category, Product


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    """Every shop test writes its uploads to its own temporary MEDIA_ROOT."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def png(size: tuple[int, int] = (8, 10), color: str = "tan") -> bytes:
    buffer = BytesIO()
    Image.new("RGB", size, color).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture
def make_product(db) -> Callable[..., Product]:
    def make(name: str = "Linen Shirt", **fields) -> Product:
        fields.setdefault("slug", name.lower().replace(" ", "-"))
        fields.setdefault("price", Decimal("49.00"))
        fields.setdefault("category", Category.TOPS)
        fields.setdefault("description", f"The {name.lower()}, described.")
        return Product.objects.create(name=name, **fields)

    return make


@pytest.fixture
def product_with_image(make_product) -> Product:
    return make_product(
        "Striped Scarf",
        category=Category.HATS,
        image=SimpleUploadedFile("scarf.png", png(), content_type="image/png"),
    )
