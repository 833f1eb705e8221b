"""The storefront a shopper sees: catalogue, product pages, cart."""

from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from example_shop.shop.cart import SESSION_KEY
from example_shop.shop.models import Category

pytestmark = pytest.mark.django_db

CATALOG = reverse("shop:catalog")


@pytest.fixture
def shop(make_product):
    return {
        "tee": make_product("Organic Tee", category=Category.TOPS, price=Decimal("35.00")),
        "dress": make_product("Wrap Dress", category=Category.DRESSES),
        "cap": make_product("Twill Cap", category=Category.HATS),
        "hidden": make_product("Secret Jacket", category=Category.OUTERWEAR, is_active=False),
    }


def test_catalog_lists_the_active_products(client, shop):
    response = client.get(CATALOG)

    assert response.status_code == 200
    assert list(response.context["products"]) == [shop["cap"], shop["dress"], shop["tee"]]
    html = response.content.decode()
    for name in ("Organic Tee", "Wrap Dress", "Twill Cap"):
        assert name in html
    assert "€35.00" in html
    assert "Secret Jacket" not in html
    assert shop["tee"].get_absolute_url() in html


def test_catalog_filters_by_category(client, shop):
    response = client.get(CATALOG, {"category": "dresses"})

    assert response.status_code == 200
    assert list(response.context["products"]) == [shop["dress"]]
    assert response.context["category"] == "dresses"
    # The filter chips only offer categories that have something to show, with counts.
    assert response.context["filters"] == [
        ("tops", "Tops", 1),
        ("dresses", "Dresses", 1),
        ("hats", "Hats", 1),
    ]


def test_an_unknown_category_shows_everything(client, shop):
    response = client.get(CATALOG, {"category": "spaceships"})

    assert response.status_code == 200
    assert response.context["category"] == ""
    assert len(response.context["products"]) == 3


def test_empty_catalog_says_how_to_seed_it(client, db):
    response = client.get(CATALOG)

    assert response.status_code == 200
    assert "seed_demo" in response.content.decode()


def test_product_page(client, shop):
    tee = shop["tee"]

    response = client.get(tee.get_absolute_url())

    assert response.status_code == 200
    html = response.content.decode()
    assert "<h1" in html and "Organic Tee" in html
    assert "€35.00" in html
    assert "The organic tee, described." in html
    assert reverse("shop:cart_add", args=[tee.slug]) in html
    assert "csrfmiddlewaretoken" in html
    # Related products come from the same shop, never the product itself or hidden ones.
    assert tee not in response.context["related"]
    assert shop["hidden"] not in response.context["related"]


def test_product_page_shows_the_image(client, product_with_image):
    response = client.get(product_with_image.get_absolute_url())

    assert product_with_image.image.url in response.content.decode()


def test_inactive_product_is_404(client, shop):
    assert client.get(shop["hidden"].get_absolute_url()).status_code == 404
    assert client.get(reverse("shop:product", args=["no-such-thing"])).status_code == 404


def test_add_to_cart_without_csrf_token_is_refused(shop):
    client = Client(enforce_csrf_checks=True)

    response = client.post(reverse("shop:cart_add", args=[shop["tee"].slug]))

    assert response.status_code == 403
    assert SESSION_KEY not in client.session


def test_add_to_cart_with_csrf_token(shop):
    client = Client(enforce_csrf_checks=True)
    tee = shop["tee"]
    page = client.get(tee.get_absolute_url())
    token = page.context["csrf_token"]

    response = client.post(
        reverse("shop:cart_add", args=[tee.slug]),
        {"csrfmiddlewaretoken": str(token), "quantity": "2"},
        follow=True,
    )

    assert response.redirect_chain == [(tee.get_absolute_url(), 302)]
    assert client.session[SESSION_KEY] == {str(tee.pk): 2}
    assert "“Organic Tee” was added to your cart." in response.content.decode()


def test_add_to_cart_only_accepts_post(client, shop):
    response = client.get(reverse("shop:cart_add", args=[shop["tee"].slug]))

    assert response.status_code == 405


def test_hidden_products_cannot_be_added(client, shop):
    response = client.post(reverse("shop:cart_add", args=[shop["hidden"].slug]))

    assert response.status_code == 404


def test_cart_page_lists_lines_and_total(client, shop):
    url = reverse("shop:cart_add", args=[shop["tee"].slug])
    client.post(url, {"quantity": "2"})
    client.post(reverse("shop:cart_add", args=[shop["cap"].slug]))

    response = client.get(reverse("shop:cart"))

    assert response.status_code == 200
    lines = response.context["lines"]
    assert [(line.product, line.quantity) for line in lines] == [(shop["tee"], 2), (shop["cap"], 1)]
    assert response.context["totals"] == {"EUR": Decimal("119.00")}
    assert "€119.00" in response.content.decode()


def test_cart_skips_products_hidden_since(client, shop):
    client.post(reverse("shop:cart_add", args=[shop["tee"].slug]))
    shop["tee"].is_active = False
    shop["tee"].save()

    response = client.get(reverse("shop:cart"))

    assert response.context["lines"] == []
    assert "Your cart is empty." in response.content.decode()


def test_remove_from_cart(client, shop):
    client.post(reverse("shop:cart_add", args=[shop["tee"].slug]))

    response = client.post(reverse("shop:cart_remove", args=[shop["tee"].slug]), follow=True)

    assert response.redirect_chain == [(reverse("shop:cart"), 302)]
    assert response.context["lines"] == []


def test_quantity_is_clamped(client, shop):
    url = reverse("shop:cart_add", args=[shop["tee"].slug])

    client.post(url, {"quantity": "999"})
    client.post(url, {"quantity": "not a number"})

    assert client.session[SESSION_KEY] == {str(shop["tee"].pk): 10}


def test_header_counts_the_cart(client, shop):
    client.post(reverse("shop:cart_add", args=[shop["tee"].slug]), {"quantity": "3"})

    response = client.get(CATALOG)

    assert 'class="cart-link__count">3<' in response.content.decode()
