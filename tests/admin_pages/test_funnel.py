"""The funnel: genlook_django.track_add_to_cart(request, product), and the example shop's
add-to-cart view that calls it."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta

import pytest
from django.contrib.sessions.middleware import SessionMiddleware
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

import genlook_django
from genlook_django.models import FunnelEvent, TryOn
from genlook_django.services import credits
from genlook_django.services.tryons.shoppers import SESSION_KEY

pytestmark = pytest.mark.django_db

State = TryOn.State
KEY = "a_" + "1" * 40


def request_of(shopper_key: str | None):
    request = RequestFactory().post("/cart/add/")
    SessionMiddleware(lambda r: None).process_request(request)
    if shopper_key:
        request.session[SESSION_KEY] = shopper_key
    from django.contrib.auth.models import AnonymousUser

    request.user = AnonymousUser()
    return request


def test_it_is_exported_lazily_and_importable_without_django():
    assert genlook_django.track_add_to_cart.__module__ == "genlook_django.services.funnel"
    code = "import genlook_django; print('track_add_to_cart' in dir(genlook_django))"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env={}
    )
    assert result.stdout.strip() == "True"


def test_an_add_to_cart_is_linked_to_the_latest_try_on_of_that_product(make_try_on, product):
    make_try_on(at=timezone.now() - timedelta(hours=3))
    latest = make_try_on(at=timezone.now() - timedelta(hours=1))
    make_try_on(State.FAILED)

    event = genlook_django.track_add_to_cart(request_of(KEY), product)

    assert event.try_on == latest
    assert (event.kind, event.shopper_key, event.object_id) == (
        "added_to_cart",
        KEY,
        str(product.pk),
    )


def test_nothing_is_recorded_without_a_try_on_of_that_product(make_try_on, product, make_product):
    make_try_on(State.FAILED)
    other = make_product("Wool Scarf")
    assert genlook_django.track_add_to_cart(request_of(KEY), product) is None
    assert genlook_django.track_add_to_cart(request_of(KEY), other) is None
    assert genlook_django.track_add_to_cart(request_of(None), product) is None
    assert not FunnelEvent.objects.exists()


def test_it_never_breaks_the_cart(make_try_on, product, monkeypatch, caplog):
    make_try_on()
    monkeypatch.setattr(FunnelEvent.objects, "create", lambda **kw: 1 / 0)
    assert genlook_django.track_add_to_cart(request_of(KEY), product) is None
    assert "Could not record an add-to-cart" in caplog.text


def test_the_funnel_counts_try_ons_not_clicks(make_try_on, product):
    first = make_try_on()
    make_try_on(shopper_key="a_" + "2" * 40)
    make_try_on(State.FAILED, shopper_key="a_" + "3" * 40)
    for _ in range(3):  # one shopper adding the same product three times
        genlook_django.track_add_to_cart(request_of(first.shopper_key), product)

    funnel = credits.funnel()

    assert (funnel.started, funnel.completed, funnel.added_to_cart) == (3, 2, 1)
    assert funnel.rate(funnel.added_to_cart, funnel.completed) == 0.5


def test_the_example_shop_reports_its_add_to_carts(storefront, real_try_on, product, shopper):
    done = real_try_on(shopper)

    response = shopper.post(reverse("shop:cart_add", args=[product.slug]), {"quantity": 1})

    assert response.status_code == 302
    event = FunnelEvent.objects.get()
    assert event.try_on == done
