"""The try-on funnel: started → completed → added to cart.

The shop reports add-to-carts with one call in its own add-to-cart view::

    import genlook_django

    genlook_django.track_add_to_cart(request, product)

An add-to-cart is recorded only when the shopper has a completed try-on of that very product
(in the last ``ATTRIBUTION_DAYS``; a variant counts as the product it is tried on as):
nothing is collected about shoppers who do not use try-on. It never raises: a failure is
logged, and the shop's cart works as before.
"""

from __future__ import annotations

import contextlib
import logging
from datetime import timedelta

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.http import HttpRequest
from django.utils import timezone

from genlook_django.models import FunnelEvent, TryOn
from genlook_django.services import catalog
from genlook_django.services.tryons import shoppers

logger = logging.getLogger("genlook_django.funnel")

ATTRIBUTION_DAYS = 30


def attributed_try_on(shopper_key: str, product: models.Model) -> TryOn | None:
    """The shopper's latest completed try-on of ``product`` in the attribution window."""
    content_type = ContentType.objects.get_for_model(product, for_concrete_model=False)
    return (
        TryOn.objects.filter(
            shopper_key=shopper_key,
            content_type=content_type,
            object_id=str(product.pk),
            state=TryOn.State.COMPLETED,
            finished_at__gte=timezone.now() - timedelta(days=ATTRIBUTION_DAYS),
        )
        .order_by("-finished_at")
        .first()
    )


def track_add_to_cart(request: HttpRequest, product: models.Model) -> FunnelEvent | None:
    """Record that this request's shopper put ``product`` in their cart after trying it on.

    Returns the event, or None when there is nothing to attribute (no try-on of this
    product by this shopper) or the recording failed (logged, never raised)."""
    try:
        shopper_key = shoppers.shopper_key(request, create=False)
        if not shopper_key:
            return None
        # A variant (a size put in the cart) counts for the product tried on.
        with contextlib.suppress(catalog.NotRegistered):
            product = catalog.get_tryon_product(product)
        try_on = attributed_try_on(shopper_key, product)
        if try_on is None:
            return None
        return FunnelEvent.objects.create(
            kind=FunnelEvent.Kind.ADDED_TO_CART,
            shopper_key=shopper_key,
            content_type=try_on.content_type,
            object_id=try_on.object_id,
            try_on=try_on,
        )
    except Exception:
        logger.exception("Could not record an add-to-cart for the try-on funnel")
        return None
