"""The try-on call: a shop product as Genlook will take it, reference first.

A reference when the local ``SyncedProduct`` says Genlook holds the current content; the
full inline product otherwise, or when Genlook answers ``PRODUCT_NOT_FOUND`` (the product
is then set back to pending and synced again for the next shopper).
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from django.db import models
from django.utils import timezone

from genlook_django.client import (
    CLASSIC_CATEGORIES,
    Generation,
    GenlookClient,
    GenlookError,
    InlineProduct,
    ProductNotFoundError,
    ProductReference,
)
from genlook_django.conf import genlook_settings
from genlook_django.models import SyncedProduct
from genlook_django.services.catalog import ProductAdapter, ProductPayload, present, registry
from genlook_django.services.genlook import get_client

logger = logging.getLogger("genlook_django.tryons")

Status = SyncedProduct.Status


def product_for_try_on(source: models.Model) -> ProductReference | InlineProduct:
    """The cheapest product shape Genlook will accept for this shop product right now.

    A reference when the local record says Genlook holds the current content, else the
    full inline product.
    """
    adapter = registry.get_adapter(source)
    payload = adapter.get_payload(source)
    row = SyncedProduct.objects.filter(external_id=payload.external_id).first()
    known = (
        row is not None
        and row.status == Status.SYNCED
        and row.content_hash == payload.content_hash
        and (row.remote_expires_at is None or row.remote_expires_at > timezone.now())
    )
    if known:
        return ProductReference(payload.external_id)
    return _inline(payload)


def _inline(payload: ProductPayload) -> InlineProduct:
    return InlineProduct(
        payload.external_id,
        title=present(payload.title),
        description=present(payload.description),
        images=list(payload.image_urls),
    )


class GarmentError(GenlookError):
    """The classic API cannot be sent this product: no image URL, or no category."""


def garment(source: models.Model) -> InlineProduct:
    """The product as the classic API takes it: an image URL and one of its categories."""
    payload = registry.get_adapter(source).get_payload(source)
    category = payload.metadata.get("category")
    if not payload.image_urls:
        raise GarmentError(
            f"Product {payload.external_id} has no image for Genlook to fetch.",
            code="PRODUCT_IMAGE_MISSING",
        )
    if category not in CLASSIC_CATEGORIES:
        raise GarmentError(
            f"Product {payload.external_id} has no garment category the classic API knows "
            f"({', '.join(CLASSIC_CATEGORIES)}): set the adapter's category, "
            "category_field or category_map.",
            code="CATEGORY_UNKNOWN",
        )
    return InlineProduct(payload.external_id, images=list(payload.image_urls), category=category)


def create_try_on(
    source: models.Model,
    *,
    person: Any,
    wait: bool = False,
    client: GenlookClient | None = None,
    **options: Any,
) -> Generation:
    """Start a try-on of a shop product: reference first, inline on ``PRODUCT_NOT_FOUND``.

    ``person`` and ``options`` (``external_user_id``, ``watermark``, ``keep_for_days``,
    ``webhook_url``) go to the client as they are; ``wait=True`` uses ``/try-on/sync``.
    When Genlook did not hold the product, the local record is set back to pending and a
    sync is enqueued, so the product is registered again for the next shopper.
    """
    client = client or get_client()
    submit = client.create_try_on_sync if wait else client.create_try_on
    if genlook_settings.classic:
        return submit(product=garment(source), person=person, **options)
    adapter = registry.get_adapter(source)
    product = product_for_try_on(source)
    if isinstance(product, ProductReference):
        try:
            generation = submit(product=product, person=person, **options)
        except ProductNotFoundError:
            logger.info("Genlook lost product %s: sending it inline", product.external_id)
            product = _inline(adapter.get_payload(source))
        else:
            _touch(product.external_id)
            return generation
    generation = submit(product=product, person=person, **options)
    _mark_missing(source, adapter, product.external_id)
    return generation


def _touch(external_id: str) -> None:
    """Each generation restarts a product's lifetime at Genlook."""
    row = SyncedProduct.objects.filter(external_id=external_id).only("remote").first()
    days = row.remote.get("validForDays") if row is not None else None
    if isinstance(days, int) and days > 0:
        SyncedProduct.objects.filter(pk=row.pk).update(
            remote_expires_at=timezone.now() + timedelta(days=days)
        )


def _mark_missing(source: models.Model, adapter: ProductAdapter, external_id: str) -> None:
    """Genlook holds the product only as an inline one now: register it properly again."""
    SyncedProduct.objects.filter(external_id=external_id).exclude(status=Status.DELETED).update(
        status=Status.PENDING,
        content_hash="",
        last_error="Genlook did not hold the current product; it was sent inline with a try-on.",
        last_error_code="PRODUCT_NOT_FOUND",
        updated_at=timezone.now(),
    )
    if adapter.should_sync(source):
        registry.enqueue_sync(adapter.model, [source.pk])


__all__ = ["GarmentError", "create_try_on", "garment", "product_for_try_on"]
