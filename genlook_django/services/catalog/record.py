"""Recording a pushed plan (database only): the ``SyncedProduct`` row, then the
``product_synced`` / ``product_sync_failed`` signal."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from genlook_django.client import GenlookError
from genlook_django.models import SyncedProduct
from genlook_django.signals import product_sync_failed, product_synced

from .plan import DELETE, ERROR, UPSERT, Plan, log_skip
from .push import Outcome
from .results import SyncResult

logger = logging.getLogger("genlook_django.catalog")

Status = SyncedProduct.Status


def remote_expiry(product: Any) -> Any:
    if product.expires_at is not None:
        return product.expires_at
    if product.valid_for_days:
        return timezone.now() + timedelta(days=product.valid_for_days)
    return None


def record(
    plan: Plan,
    outcome: Outcome | None,
    *,
    will_retry: bool = False,
    deferred: list[Callable[[], Any]] | None = None,
) -> SyncResult:
    """Write the row for a plan that was pushed (or failed before any call).

    The signal is sent at once, or appended to ``deferred`` to be sent after the caller's
    transaction (so a receiver's error cannot undo a batch of recorded results).
    """
    model = plan.adapter.model

    def emit(signal: Any, **kwargs: Any) -> None:
        send = functools.partial(signal.send, sender=model, action=plan.action, **kwargs)
        if deferred is None:
            send()
        else:
            deferred.append(send)

    result = plan.result("failed")
    error = plan.error if plan.action == ERROR else (outcome.error if outcome else None)
    result.requests = outcome.requests if outcome else 0
    if plan.rowless:
        # A product gone without a row: nothing to record; a failure is signalled only.
        result.error = error
        if error is not None:
            logger.warning("Genlook delete of %s failed (%s)", plan.external_id, error)
            emit(product_sync_failed, synced_product=None, error=error, will_retry=will_retry)
        else:
            result.outcome = "deleted" if outcome is not None and outcome.existed else "skipped"
        return result
    if plan.action == ERROR and not plan.external_id:
        # No usable external id: nothing to hang a row on. Logged and signalled only.
        result.error = error
        logger.warning("Genlook sync of %s:%s failed (%s)", result.model, plan.object_id, error)
        emit(product_sync_failed, synced_product=None, error=error, will_retry=False)
        return result

    row = plan.row or SyncedProduct(
        content_type=plan.content_type, object_id=plan.object_id, status=Status.PENDING
    )
    first_push = not row.content_hash
    now = timezone.now()
    if error is not None:
        row.status = Status.FAILED
        row.last_error = str(error)[:2000] or type(error).__name__
        row.last_error_code = (getattr(error, "code", None) or type(error).__name__)[:64]
        # What ``retry.enqueue_failed`` decides from later (None: no HTTP answer).
        row.last_error_status = error.status if isinstance(error, GenlookError) else None
        row.failure_count += 1
        # Keep the old id while Genlook may still hold the product under it.
        moved = not plan.previous_external_id or (outcome is not None and outcome.moved)
        if (plan.action == UPSERT and moved) or not row.external_id:
            row.external_id = plan.external_id or ""
    elif plan.action == DELETE:
        row.status = Status.DELETED
        row.content_hash = ""
        row.last_error = row.last_error_code = ""
        row.last_error_status = None
        if plan.skip is not None:
            # Shown in the admin: why the product left Genlook.
            row.last_error = f"Withdrawn from Genlook: {plan.skip.message}."[:2000]
            row.last_error_code = str(plan.skip.reason)[:64]
            log_skip(plan)
        row.failure_count = 0
        row.remote_expires_at = None
        row.last_synced_at = now
        result.outcome = "deleted"
    else:
        assert plan.payload is not None and outcome is not None
        product = outcome.product
        row.external_id = plan.payload.external_id
        row.status = Status.SYNCED
        row.content_hash = plan.payload.content_hash
        row.last_synced_at = now
        row.last_error = row.last_error_code = ""
        row.last_error_status = None
        row.failure_count = 0
        row.remote = product.raw
        row.remote_expires_at = remote_expiry(product)
        result.outcome = "created" if first_push else "updated"
    result.error = error
    result.synced_product = _save(row, plan.evict)
    if error is not None:
        logger.warning(
            "Genlook sync of %s failed (%s)%s",
            row.external_id,
            error,
            "; will retry" if will_retry else "",
        )
        emit(
            product_sync_failed,
            synced_product=result.synced_product,
            error=error,
            will_retry=will_retry,
        )
    else:
        emit(product_synced, synced_product=result.synced_product)
    return result


def _save(row: SyncedProduct, evict: SyncedProduct | None) -> SyncedProduct | None:
    """Save the row; None if it cannot exist (its external id belongs to another product)."""
    with transaction.atomic():
        if evict is not None:
            SyncedProduct.objects.filter(pk=evict.pk, status=Status.DELETED).delete()
        try:
            with transaction.atomic():
                row.save()
        except IntegrityError:
            if row.pk is not None:
                raise
            # Another worker created the row for this source meanwhile: update that one.
            existing = SyncedProduct.objects.filter(
                content_type=row.content_type, object_id=row.object_id
            ).first()
            if existing is None:
                logger.warning(
                    "Genlook external id %s is held by another product; %s:%s not recorded.",
                    row.external_id,
                    row.content_type_id,
                    row.object_id,
                )
                return None
            row.pk, row.created_at = existing.pk, existing.created_at
            row.save()
    return row
