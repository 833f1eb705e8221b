"""Oscar's ``basket_addition`` signal feeds the try-on funnel (started → completed →
added to cart): a shopper who tried a product on and puts it (or one of its variants) in
the basket is counted, with no code in the shop's basket view."""

from __future__ import annotations

from typing import Any

from oscar.core.loading import get_class

from genlook_django.services.funnel import track_add_to_cart

DISPATCH_UID = "genlook_oscar:basket_addition"


def on_basket_addition(sender: Any, product: Any = None, request: Any = None, **kwargs: Any):
    """Record the add-to-cart (``track_add_to_cart`` never raises, and records nothing
    for a shopper who did not try the product on)."""
    if product is not None and request is not None:
        track_add_to_cart(request, product)


def connect_basket() -> None:
    basket_addition = get_class("basket.signals", "basket_addition")
    basket_addition.connect(on_basket_addition, weak=False, dispatch_uid=DISPATCH_UID)
