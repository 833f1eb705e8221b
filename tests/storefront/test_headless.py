"""Front ends without templates: the button as an HTML fragment, and variants named by
their own reference, through ``ProductAdapter.variant_of``."""

from __future__ import annotations

import pytest
from django.urls import reverse

from example_shop.shop.models import Product
from genlook_django.models import TryOn
from genlook_django.services import catalog
from genlook_django.services.catalog import ProductAdapter
from tests.support.storefront import follow, start

pytestmark = pytest.mark.django_db

BUTTON = reverse("genlook:widget-button")


def test_the_button_fragment_is_the_tags_html_without_the_assets(storefront, client, product):
    response = client.get(BUTTON, {"product": f"shop.product:{product.pk}", "label": "Wear it"})

    assert response.status_code == 200
    html = response.content.decode()
    assert f'data-product="shop.product:{product.pk}"' in html
    assert "Wear it" in html and "<dialog" in html
    assert "tryon.js" not in html and "tryon.css" not in html  # the page links them once
    assert "no-store" in response["Cache-Control"]  # it carries the CSRF token
    assert "Cookie" in response["Vary"]


def test_no_fragment_for_a_product_that_cannot_be_tried_on(storefront, client, make_product):
    hidden = make_product(is_active=False)
    for reference in (f"shop.product:{hidden.pk}", "shop.product:999999", "nope", ""):
        assert client.get(BUTTON, {"product": reference}).status_code == 404
    assert client.post(BUTTON, {"product": f"shop.product:{hidden.pk}"}).status_code == 405


class ColourVariants(ProductAdapter):
    """Products whose slug ends in "-red" are the red variant of the product without it."""

    def variant_of(self, instance):
        if instance.slug.endswith("-red"):
            return Product.objects.get(slug=instance.slug.removesuffix("-red"))
        return None


@pytest.mark.django_db(transaction=True)  # the try-on is submitted when its row commits
def test_a_variant_is_tried_on_as_its_product(
    storefront, adapter_for, make_product, shopper, person_photo
):
    adapter_for(Product, ColourVariants)
    base = make_product("Linen Shirt", slug="linen")
    red = make_product("Linen Shirt red", slug="linen-red")
    assert catalog.get_tryon_product(red) == base

    response = shopper.get(BUTTON, {"product": f"shop.product:{red.pk}"})
    assert f'data-product="shop.product:{base.pk}"' in response.content.decode()

    done = follow(shopper, start(shopper, red, person_photo).json())
    assert done["status"] == "completed"
    assert TryOn.objects.get().object_id == str(base.pk)
