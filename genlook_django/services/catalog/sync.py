"""Catalog sync: keep Genlook's products in step with the shop's registered product models.

Every path goes through the same three steps:

1. **plan** (``plan``, database only): compute the adapter's payload and its content hash,
   compare it with the ``SyncedProduct`` row, and decide: upsert, delete, or nothing;
2. **push** (``push``, network only, thread-safe): ``POST /products`` or
   ``DELETE /products/{id}``;
3. **record** (``record``, database only): write the row, send ``product_synced`` /
   ``product_sync_failed``.

This module runs them for one product: ``sync_object`` (what the Celery task calls),
serialised per product (``locks.serialised``), and the admin's ``delete_remote`` and
``refresh_from_genlook``. ``bulk.sync_catalog`` runs them for whole models.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, models, router, transaction

from genlook_django.client import GenlookClient, NotFoundError
from genlook_django.models import SyncedProduct
from genlook_django.services.genlook import get_client

from . import locks, registry
from .adapters import ProductAdapter
from .payload import ProductPayload
from .plan import (
    DELETE,
    ERROR,
    SKIP,
    UPSERT,
    Plan,
    default_external_id,
    holders_of,
    log_skip,
    plan_product,
)
from .push import Outcome, push
from .record import record, remote_expiry
from .results import SyncResult
from .retry import worth_retrying

logger = logging.getLogger("genlook_django.catalog")

Status = SyncedProduct.Status


def _load_row(content_type: ContentType, object_id: str, *, lock: bool) -> SyncedProduct | None:
    rows = SyncedProduct.objects.filter(content_type=content_type, object_id=object_id)
    if lock:
        rows = rows.select_for_update()  # this row only: not the content type's
    row = rows.first()
    if row is not None:
        row.content_type = content_type
    return row


def _claim(plan: Plan) -> None:
    """Create (and commit) a ``pending`` row before a product's first push.

    A concurrent task for the same product then finds the row and waits for its lock, and
    a push that never reports back (a crash) leaves a row saying Genlook may hold it.
    """
    assert plan.payload is not None
    row = SyncedProduct(
        content_type=plan.content_type,
        object_id=plan.object_id,
        external_id=plan.payload.external_id,
        status=Status.PENDING,
    )
    try:
        with transaction.atomic(using=router.db_for_write(SyncedProduct)):
            if plan.evict is not None:
                SyncedProduct.objects.filter(pk=plan.evict.pk, status=Status.DELETED).delete()
            row.save(force_insert=True)
    except IntegrityError:
        pass  # claimed by another task meanwhile, or the id is held: the plan decides


def _plan_object(
    adapter: ProductAdapter,
    content_type: ContentType,
    object_id: str,
    pk: Any,
    *,
    force: bool,
    lock: bool,
) -> Plan:
    row = _load_row(content_type, object_id, lock=lock)  # first: the product is read after
    instance = adapter.get_queryset().filter(pk=pk).first()  # the previous sync committed
    holders: dict[str, SyncedProduct] = {}
    fallback = None
    if instance is not None:
        try:
            holders = holders_of([adapter.get_external_id(instance)])
        except Exception:
            holders = {}
    elif row is None:
        fallback = default_external_id(adapter, pk)
        if fallback and SyncedProduct.objects.filter(external_id=fallback).exists():
            fallback = None  # the id is another product's
    return plan_product(
        adapter,
        content_type,
        object_id,
        instance,
        row,
        holders,
        force=force,
        fallback_external_id=fallback,
    )


def _still_wanted(adapter: ProductAdapter, pk: Any) -> bool:
    """After a push: does the product still exist, and still belong at Genlook?"""
    instance = adapter.get_queryset().filter(pk=pk).first()
    if instance is None:
        return False
    try:
        return bool(adapter.should_sync(instance))
    except Exception:
        return True  # its next sync records the adapter's error


def sync_object(
    model: str | type[models.Model],
    pk: Any,
    *,
    force: bool = False,
    raise_transient: bool = False,
    client: GenlookClient | None = None,
) -> SyncResult:
    """Reconcile one product with Genlook: upsert, delete, or nothing if unchanged.

    The product may be gone (deleted): its Genlook product is then deleted (by its row's
    external id, else by the default one). Plan, push and record run alone for this product
    (see ``serialised``), and a product deleted or withdrawn while it was being pushed is
    deleted at Genlook again at once. With ``raise_transient``, a transient failure is
    recorded and then raised, for the Celery task to retry; otherwise every failure is
    recorded and returned.
    """
    adapter = registry.get_adapter(model)
    content_type = ContentType.objects.get_for_model(adapter.model, for_concrete_model=False)
    object_id = str(pk)
    signals: list[Callable[[], Any]] = []
    with locks.process_lock(content_type, object_id):
        if not SyncedProduct.objects.filter(
            content_type=content_type, object_id=object_id
        ).exists():
            plan = _plan_object(adapter, content_type, object_id, pk, force=force, lock=False)
            if plan.action == UPSERT:
                _claim(plan)
        with locks.serialised(content_type, object_id) as lock:
            plan = _plan_object(adapter, content_type, object_id, pk, force=force, lock=lock)
            outcome = None
            if plan.action not in (SKIP, ERROR):
                client = client or get_client()
                outcome = push(client, plan)
                if plan.action == UPSERT and outcome.error is None:
                    outcome = _recheck(client, plan, outcome, pk)
            will_retry = raise_transient and outcome is not None and worth_retrying(outcome.error)
            if plan.action == SKIP:
                if plan.outcome == "skipped":
                    log_skip(plan)
                result = plan.result(plan.outcome, synced_product=plan.row)
            else:
                result = record(plan, outcome, will_retry=will_retry, deferred=signals)
    for send in signals:  # after the commit: a receiver's error cannot undo the record
        send()
    if will_retry:
        assert outcome is not None and outcome.error is not None
        raise outcome.error
    return result


def _recheck(client: GenlookClient, plan: Plan, outcome: Outcome, pk: Any) -> Outcome:
    """The product vanished (or was withdrawn) while it was pushed: take it back."""
    if _still_wanted(plan.adapter, pk):
        return outcome
    assert plan.payload is not None
    logger.info("Genlook product %s went away during its push: deleting it", plan.external_id)
    plan.action, plan.external_id = DELETE, plan.payload.external_id
    plan.previous_external_id, plan.payload = None, None
    again = push(client, plan)
    again.requests += outcome.requests
    return again


def delete_remote(
    synced_product: SyncedProduct, *, client: GenlookClient | None = None
) -> SyncResult:
    """Remove the product from Genlook (the admin's "delete at Genlook").

    Needs nothing but the row's external id: it works for models no longer registered, or
    no longer existing (the orphans' clean-up). The shop's product is left alone: if
    ``should_sync`` still says yes, the next save or ``genlook_sync`` pushes it again.
    """
    content_type = ContentType.objects.get_for_id(synced_product.content_type_id)
    object_id = synced_product.object_id
    signals: list[Callable[[], Any]] = []
    with locks.serialised(content_type, object_id) as lock:
        rows = SyncedProduct.objects.filter(pk=synced_product.pk)
        row = (rows.select_for_update() if lock else rows).first()
        if row is None:
            return SyncResult("skipped", _label(content_type), object_id)
        row.content_type = content_type
        plan = Plan(
            DELETE,
            _adapter_or_stand_in(content_type),
            content_type,
            object_id,
            row,
            external_id=row.external_id,
        )
        outcome = push(client or get_client(), plan)
        result = record(plan, outcome, deferred=signals)
    for send in signals:
        send()
    return result


def _label(content_type: ContentType) -> str:
    return f"{content_type.app_label}.{content_type.model}"


@dataclass
class _StandIn:
    """What a plan needs of an adapter, for a model that is no longer registered."""

    model: type[models.Model] | None
    label: str


def _adapter_or_stand_in(content_type: ContentType) -> Any:
    model = content_type.model_class()
    if model is not None and registry.is_registered(model):
        return registry.get_adapter(model)
    return _StandIn(model, _label(content_type))


def refresh_from_genlook(
    synced_product: SyncedProduct, *, client: GenlookClient | None = None
) -> SyncedProduct:
    """Re-read the product at Genlook (the admin's "refresh from Genlook").

    Updates the raw JSON and the expiry. A product Genlook no longer has, or holds with
    other content than the shop last pushed, is set back to ``pending``: nothing is pushed
    here; the product's next save, ``genlook_sync`` or "Sync now" pushes the shop's
    version. A ``deleted`` row whose product Genlook still has only gets a note.
    """
    row = synced_product
    content_type = ContentType.objects.get_for_id(row.content_type_id)
    with locks.serialised(content_type, row.object_id) as lock:
        rows = SyncedProduct.objects.filter(pk=row.pk)
        if lock:
            list(rows.select_for_update().values_list("pk"))
        row.refresh_from_db()  # what a sync may have recorded meanwhile
        _refresh(row, client or get_client())
    return row


def _refresh(row: SyncedProduct, client: GenlookClient) -> None:
    try:
        product = client.get_product(row.external_id)
    except NotFoundError:
        if row.status != Status.DELETED:
            row.status = Status.PENDING
            row.content_hash = ""
            row.last_error = "Genlook no longer has this product (expired or deleted)."
            row.last_error_code = "PRODUCT_NOT_FOUND"
            row.last_error_status = None
        row.remote = {}
        row.remote_expires_at = None
        row.save()
        return
    row.remote = product.raw
    row.remote_expires_at = remote_expiry(product)
    if row.status == Status.DELETED:
        row.last_error = "Genlook still has this product although it was deleted here."
    elif row.status == Status.SYNCED and row.content_hash != _remote_payload(product).content_hash:
        row.status = Status.PENDING
        row.content_hash = ""
        row.last_error = (
            "Genlook holds other content than the shop pushed: the next sync pushes it again."
        )
        row.last_error_code = "REMOTE_DIFFERS"
        row.last_error_status = None
    row.save()


def _remote_payload(product: Any) -> ProductPayload:
    images = sorted(product.images, key=lambda image: (image.order is None, image.order or 0))
    return ProductPayload(
        external_id=product.external_id,
        title=product.title or "",
        description=product.description or "",
        image_urls=tuple(image.source_url for image in images if image.source_url),
        metadata=product.metadata or {},
        valid_for_days=product.valid_for_days,
    )
