"""The plan for one product (database only): upsert it, delete it, or nothing, and why.

The adapter's payload and its content hash are compared with the product's
``SyncedProduct`` row; a product kept from Genlook carries its ``Skip`` reason.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone

from genlook_django.models import SyncedProduct

from .adapters import ProductAdapter
from .payload import ProductPayload
from .results import SyncResult
from .skips import Skip

logger = logging.getLogger("genlook_django.catalog")

Status = SyncedProduct.Status

UPSERT, DELETE, SKIP, ERROR = "upsert", "delete", "skip", "error"
# A product whose lifetime at Genlook ends within this margin is pushed again (which
# restarts its lifetime), even if its content is unchanged.
EXPIRY_MARGIN = timedelta(hours=1)


@dataclass
class Plan:
    """What one product needs (``action``: upsert, delete, skip, or error before any call),
    with what its push and its record use."""

    action: str
    adapter: ProductAdapter
    content_type: ContentType
    object_id: str
    row: SyncedProduct | None
    payload: ProductPayload | None = None
    external_id: str | None = None
    previous_external_id: str | None = None  # pushed under another id: delete that first
    evict: SyncedProduct | None = None  # a deleted product's row holding our external id
    outcome: str = ""
    error: BaseException | None = None
    rowless: bool = False  # a delete by the default external id, with no row to record on
    skip: Skip | None = None  # why the product is not for Genlook (skipped or withdrawn)
    label: str = ""  # str(product), for the skip's report

    @property
    def reason(self) -> str | None:
        if self.skip is not None:
            return self.skip.reason
        return getattr(self.error, "reason", None) if self.action == ERROR else None

    def result(self, outcome: str, **kwargs: Any) -> SyncResult:
        """A result for this plan, carrying its skip reason (if any)."""
        message = self.skip.message if self.skip is not None else ""
        if not message and self.reason and self.error is not None:
            message = str(self.error)
        return SyncResult(
            outcome,
            self.adapter.label,
            self.object_id,
            kwargs.pop("external_id", self.external_id),
            reason=self.reason,
            message=message,
            label=self.label,
            **kwargs,
        )


def label_of(instance: models.Model) -> str:
    try:
        text = str(instance)
    except Exception:  # a __str__ that fails must not hide the reason
        return ""
    return text if len(text) <= 80 else text[:77] + "..."


def log_skip(plan: Plan) -> None:
    """A product kept from Genlook is always said so (never skipped silently)."""
    if plan.skip is not None:
        logger.info(
            "Genlook: %s:%s%s not synced (%s): %s",
            plan.adapter.label,
            plan.object_id,
            f" {plan.label!r}" if plan.label else "",
            plan.skip.reason,
            plan.skip.message,
        )


def may_hold(row: SyncedProduct | None) -> bool:
    """Whether Genlook may hold this row's product.

    Every row that is not ``deleted`` came from a push that was accepted or may have
    landed: a ``synced`` row, a ``failed`` one (a timeout may have landed), a ``pending``
    one set back by a refresh or a try-on miss (Genlook still holds the old content, or the
    inline product), or one claimed for a push that never reported back. Removing the
    product therefore costs a ``DELETE``, and a 404 counts as done.
    """
    return row is not None and row.status != Status.DELETED


def _fresh(row: SyncedProduct, now: Any) -> bool:
    """Genlook keeps the product beyond the safety margin (or forever)."""
    return row.remote_expires_at is None or row.remote_expires_at > now + EXPIRY_MARGIN


def default_external_id(adapter: ProductAdapter, pk: Any) -> str | None:
    """The external id of a product that no longer exists, when it can be computed from
    its primary key alone (the default ``"<app_label>.<model>:<pk>"``); else None."""
    if adapter.external_id_field or type(adapter).get_external_id is not (
        ProductAdapter.get_external_id
    ):
        return None
    return f"{adapter.label}:{pk}"


def plan_product(
    adapter: ProductAdapter,
    content_type: ContentType,
    object_id: str,
    instance: models.Model | None,
    row: SyncedProduct | None,
    holders: dict[str, SyncedProduct],
    *,
    force: bool = False,
    claimed: set[str] | None = None,
    fallback_external_id: str | None = None,
) -> Plan:
    """Decide what one product needs. ``holders`` maps external ids to rows of any source.

    ``fallback_external_id``: for a product gone from the shop without a row, the id to
    delete at Genlook anyway (a push may have landed without being recorded).
    """
    plan = Plan(SKIP, adapter, content_type, object_id, row)
    try:
        wanted = instance is not None and adapter.should_sync(instance)
        if wanted:
            plan.payload = adapter.get_payload(instance)
            plan.external_id = plan.payload.external_id
        elif instance is not None:
            plan.skip = adapter.explain_skip(instance)
            plan.label = label_of(instance)
    except Exception as exc:
        if instance is not None:
            plan.label = label_of(instance)
        logger.exception("Genlook adapter %r failed on %s", adapter, object_id)
        plan.action, plan.error = ERROR, exc
        if row is not None:
            plan.external_id = row.external_id
        else:
            try:
                plan.external_id = adapter.get_external_id(instance) if instance else None
            except Exception:
                plan.external_id = None
        return plan

    if not wanted:
        plan.external_id = row.external_id if row is not None else None
        if may_hold(row):
            plan.action = DELETE
        elif instance is None and row is None and fallback_external_id:
            plan.action, plan.external_id, plan.rowless = DELETE, fallback_external_id, True
        else:
            plan.outcome = "skipped"
        return plan

    assert plan.payload is not None
    external_id = plan.payload.external_id
    holder = holders.get(external_id)
    conflict = None
    if holder is not None and (row is None or holder.pk != row.pk):
        if holder.status != Status.DELETED or (claimed and external_id in claimed):
            conflict = (
                f"External id {external_id!r} is already used by "
                f"{holder.content_type.app_label}.{holder.content_type.model}:{holder.object_id}."
            )
        else:
            plan.evict = holder
    elif claimed is not None and external_id in claimed:
        conflict = f"External id {external_id!r} is used by two products."
    if conflict:
        # Recorded on this product's own row if it has one; the id itself stays with the
        # product that holds it.
        plan.action, plan.error = ERROR, ValueError(conflict)
        plan.external_id = row.external_id if row is not None else None
        return plan
    if claimed is not None:
        claimed.add(external_id)
    if row is not None and row.external_id != external_id and may_hold(row):
        plan.previous_external_id = row.external_id
    unchanged = (
        row is not None
        and row.status == Status.SYNCED
        and row.external_id == external_id
        and row.content_hash == plan.payload.content_hash
        and _fresh(row, timezone.now())  # an expired (or expiring) product is pushed again
    )
    if unchanged and not force:
        plan.outcome = "unchanged"
        return plan
    plan.action = UPSERT
    return plan


def holders_of(external_ids: Iterable[str]) -> dict[str, SyncedProduct]:
    ids = [e for e in external_ids if e]
    if not ids:
        return {}
    rows = SyncedProduct.objects.filter(external_id__in=ids).select_related("content_type")
    return {row.external_id: row for row in rows}
