"""Catalog sync: keep Genlook's products in step with the shop's registered product models.

Every path goes through the same three steps:

1. **plan** (database only): compute the adapter's payload and its content hash, compare it
   with the ``SyncedProduct`` row, and decide: upsert, delete, or nothing;
2. **push** (network only, thread-safe): ``POST /products`` or ``DELETE /products/{id}``;
3. **record** (database only): write the row, send ``product_synced`` / ``product_sync_failed``.

``sync_object`` runs them for one product (what the Celery task calls), serialised per
product (see ``_serialised``); ``sync_catalog`` runs them for whole models, reading in
chunks, pushing from a thread pool within the shared request budget, and writing the
results from the calling thread.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, connections, models, router, transaction
from django.db.models import Q
from django.utils import timezone

from genlook_django import registry
from genlook_django.adapters import ProductAdapter, ProductPayload, Skip, present
from genlook_django.client import (
    GenlookAPIError,
    GenlookClient,
    NotFoundError,
    RateBudgetTimeout,
    RateLimitedError,
    ServerError,
    TransportError,
)
from genlook_django.conf import genlook_settings
from genlook_django.models import SyncedProduct
from genlook_django.services.genlook import get_client
from genlook_django.signals import product_sync_failed, product_synced

logger = logging.getLogger("genlook_django.catalog")

Status = SyncedProduct.Status

# Worth another try later: Genlook or the network failed, or the budget was busy.
TRANSIENT_ERRORS: tuple[type[Exception], ...] = (
    ServerError,
    RateLimitedError,
    TransportError,
    RateBudgetTimeout,
)

UPSERT, DELETE, SKIP, ERROR = "upsert", "delete", "skip", "error"
CHUNK_SIZE = 1000
# A product whose lifetime at Genlook ends within this margin is pushed again (which
# restarts its lifetime), even if its content is unchanged.
EXPIRY_MARGIN = timedelta(hours=1)


def is_transient(error: BaseException | None) -> bool:
    return isinstance(error, TRANSIENT_ERRORS)


def _class_names(classes: Iterable[type]) -> set[str]:
    names: set[str] = set()
    for cls in classes:
        names.add(cls.__name__)
        names |= _class_names(cls.__subclasses__())
    return names


# What ``_record`` stores as ``last_error_code`` for a transient failure: the API's code,
# or the exception's class name when there is none (network failures, the local budget).
TRANSIENT_ERROR_CODES = frozenset(
    {"RATE_LIMITED", "INTERNAL_ERROR", "BAD_GATEWAY", "SERVICE_UNAVAILABLE", "GATEWAY_TIMEOUT"}
    | _class_names(TRANSIENT_ERRORS)
)
# GenlookError's str(): "[503 SERVICE_UNAVAILABLE] message", or "[503] message" without code.
_STATUS_PREFIX = re.compile(r"^\[(\d{3})(?: (\S+))?\]")
_API_ERROR_NAMES = frozenset(_class_names([GenlookAPIError]))


def is_transient_failure(row: SyncedProduct) -> bool:
    """Whether a ``failed`` row's last error was transient (worth retrying unattended).

    Decided from what ``_record`` stored: a known transient code or exception name, else
    the API error's HTTP status (any 5xx or 429) at the start of the message, with the
    stored code. Validation errors, other 4xx and adapter errors are not transient.
    """
    if row.last_error_code in TRANSIENT_ERROR_CODES:
        return True
    match = _STATUS_PREFIX.match(row.last_error or "")
    if match is None:
        return False
    status, code = int(match[1]), match[2]
    if code != row.last_error_code and not (
        code is None and row.last_error_code in _API_ERROR_NAMES
    ):
        return False  # not an API error's message
    return status >= 500 or status == 429


# -- Results --------------------------------------------------------------------------------


@dataclass
class SyncResult:
    """What happened to one product.

    ``outcome`` is one of ``created``, ``updated``, ``deleted``, ``unchanged`` (already in
    step: no call), ``skipped`` (not for Genlook and not there: no call), ``failed``; with
    ``dry_run``, ``would create``, ``would update``, ``would delete``.

    ``reason`` (a ``SkipReason`` value) and ``message`` say why a product is kept from
    Genlook: set on ``skipped`` results, on ``deleted``/``would delete`` ones withdrawn for
    that reason, and on failures that have one (``image_not_public``). ``label`` is the
    product as the shop shows it (``str(product)``), for such results.
    """

    outcome: str
    model: str
    object_id: str
    external_id: str | None = None
    error: BaseException | None = None
    synced_product: SyncedProduct | None = None
    requests: int = 0
    reason: str | None = None
    message: str = ""
    label: str = ""

    @property
    def ok(self) -> bool:
        return self.outcome != "failed"


@dataclass
class SyncReport:
    """The summary of a bulk sync."""

    counts: Counter = field(default_factory=Counter)
    failures: list[SyncResult] = field(default_factory=list)
    requests: int = 0
    elapsed: float = 0.0
    interrupted: bool = False
    reasons: Counter = field(default_factory=Counter)  # SkipReason value -> products
    skips: list[SyncResult] = field(default_factory=list)  # the results with a reason

    def add(self, result: SyncResult) -> None:
        self.counts[result.outcome] += 1
        self.requests += result.requests
        if result.outcome == "failed":
            self.failures.append(result)
        if result.reason:
            self.reasons[result.reason] += 1
            self.skips.append(result)

    def reasons_summary(self) -> str:
        """``"3 no_image, 1 inactive"``: the products kept from Genlook, by reason."""
        return ", ".join(f"{count} {reason}" for reason, count in self.reasons.most_common())

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def summary(self) -> str:
        order = [
            "created",
            "updated",
            "deleted",
            "unchanged",
            "skipped",
            "failed",
            "would_create",
            "would_update",
            "would_delete",
        ]
        parts = [
            f"{self.counts[k]} {k.replace('_', ' ')}"
            for k in sorted(self.counts, key=lambda k: order.index(k) if k in order else 99)
            if self.counts[k]
        ]
        rate = self.requests / self.elapsed if self.elapsed else 0.0
        text = (
            f"{self.total} products: {', '.join(parts) or 'nothing to do'}; "
            f"{self.requests} API calls in {self.elapsed:.1f}s ({rate:.1f}/s)."
        )
        if self.reasons:
            text += f" Not for Genlook, by reason: {self.reasons_summary()}."
        return text


# -- Planning (database only) -----------------------------------------------------------------


@dataclass
class _Plan:
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


def _label_of(instance: models.Model) -> str:
    try:
        text = str(instance)
    except Exception:  # a __str__ that fails must not hide the reason
        return ""
    return text if len(text) <= 80 else text[:77] + "..."


def _log_skip(plan: _Plan) -> None:
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


def _may_hold(row: SyncedProduct | None) -> bool:
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


def _plan(
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
) -> _Plan:
    """Decide what one product needs. ``holders`` maps external ids to rows of any source.

    ``fallback_external_id``: for a product gone from the shop without a row, the id to
    delete at Genlook anyway (a push may have landed without being recorded).
    """
    plan = _Plan(SKIP, adapter, content_type, object_id, row)
    try:
        wanted = instance is not None and adapter.should_sync(instance)
        if wanted:
            plan.payload = adapter.get_payload(instance)
            plan.external_id = plan.payload.external_id
        elif instance is not None:
            plan.skip = adapter.explain_skip(instance)
            plan.label = _label_of(instance)
    except Exception as exc:
        if instance is not None:
            plan.label = _label_of(instance)
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
        if _may_hold(row):
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
    if row is not None and row.external_id != external_id and _may_hold(row):
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


def _holders(external_ids: Iterable[str]) -> dict[str, SyncedProduct]:
    ids = [e for e in external_ids if e]
    if not ids:
        return {}
    rows = SyncedProduct.objects.filter(external_id__in=ids).select_related("content_type")
    return {row.external_id: row for row in rows}


# -- Pushing (network only) -------------------------------------------------------------------


@dataclass
class _Outcome:
    product: Any = None  # the client's Product after an upsert
    error: BaseException | None = None
    requests: int = 0
    moved: bool = False  # the product's previous external id was deleted at Genlook
    existed: bool = True  # a delete found the product at Genlook (False: it answered 404)


def _push(client: GenlookClient, plan: _Plan) -> _Outcome:
    outcome = _Outcome()
    try:
        if plan.action == DELETE:
            outcome.requests += 1
            outcome.existed = _delete_quietly(client, plan.external_id or "")
        elif plan.action == UPSERT:
            assert plan.payload is not None
            if plan.previous_external_id:
                outcome.requests += 1
                _delete_quietly(client, plan.previous_external_id)
                outcome.moved = True
            payload = plan.payload
            outcome.requests += 1
            outcome.product = client.upsert_product(
                payload.external_id,
                title=present(payload.title),  # blank: left out (Genlook refuses "")
                description=present(payload.description),
                images=list(payload.image_urls),
                valid_for_days=payload.valid_for_days,
                metadata=payload.metadata,
            )
    except Exception as exc:
        outcome.error = exc
    return outcome


def _delete_quietly(client: GenlookClient, external_id: str) -> bool:
    """Delete at Genlook; False if it did not have the product (404: what was asked)."""
    try:
        client.delete_product(external_id)
    except NotFoundError:
        return False
    return True


# -- Recording (database only) ----------------------------------------------------------------


def _remote_expiry(product: Any) -> Any:
    if product.expires_at is not None:
        return product.expires_at
    if product.valid_for_days:
        return timezone.now() + timedelta(days=product.valid_for_days)
    return None


def _record(
    plan: _Plan,
    outcome: _Outcome | None,
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
        row.failure_count += 1
        # Keep the old id while Genlook may still hold the product under it.
        moved = not plan.previous_external_id or (outcome is not None and outcome.moved)
        if (plan.action == UPSERT and moved) or not row.external_id:
            row.external_id = plan.external_id or ""
    elif plan.action == DELETE:
        row.status = Status.DELETED
        row.content_hash = ""
        row.last_error = row.last_error_code = ""
        if plan.skip is not None:
            # Shown in the admin: why the product left Genlook.
            row.last_error = f"Withdrawn from Genlook: {plan.skip.message}."[:2000]
            row.last_error_code = str(plan.skip.reason)[:64]
            _log_skip(plan)
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
        row.failure_count = 0
        row.remote = product.raw
        row.remote_expires_at = _remote_expiry(product)
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


# -- One product (the Celery task's path) --------------------------------------------------

_locks_guard = threading.Lock()
_locks: dict[tuple[int, str], list[Any]] = {}  # key -> [RLock, users]


@contextlib.contextmanager
def _process_lock(content_type: ContentType, object_id: str) -> Iterator[None]:
    """One product's lock within this process (re-entrant: a nested sync cannot deadlock)."""
    key = (content_type.pk, object_id)
    with _locks_guard:
        entry = _locks.setdefault(key, [threading.RLock(), 0])
        entry[1] += 1
    try:
        with entry[0]:
            yield
    finally:
        with _locks_guard:
            entry[1] -= 1
            if entry[1] == 0:
                _locks.pop(key, None)


@contextlib.contextmanager
def _serialised(content_type: ContentType, object_id: str) -> Iterator[bool]:
    """Run plan, push and record of one product alone.

    Within a process, a lock per product. Across processes, on databases with row locks
    (PostgreSQL, MySQL, Oracle), a transaction in which the caller locks the product's
    ``SyncedProduct`` row (``SELECT ... FOR UPDATE``) until the result is recorded; yields
    whether it does. SQLite has no row locks, and a transaction held across a network call
    would block every writer: there, the process lock alone serialises.
    """
    using = router.db_for_write(SyncedProduct)
    with _process_lock(content_type, object_id):
        if connections[using].features.has_select_for_update:
            with transaction.atomic(using=using):
                yield True
        else:
            yield False


def _load_row(content_type: ContentType, object_id: str, *, lock: bool) -> SyncedProduct | None:
    rows = SyncedProduct.objects.filter(content_type=content_type, object_id=object_id)
    if lock:
        rows = rows.select_for_update()  # this row only: not the content type's
    row = rows.first()
    if row is not None:
        row.content_type = content_type
    return row


def _claim(plan: _Plan) -> None:
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
) -> _Plan:
    row = _load_row(content_type, object_id, lock=lock)  # first: the product is read after
    instance = adapter.get_queryset().filter(pk=pk).first()  # the previous sync committed
    holders: dict[str, SyncedProduct] = {}
    fallback = None
    if instance is not None:
        try:
            holders = _holders([adapter.get_external_id(instance)])
        except Exception:
            holders = {}
    elif row is None:
        fallback = default_external_id(adapter, pk)
        if fallback and SyncedProduct.objects.filter(external_id=fallback).exists():
            fallback = None  # the id is another product's
    return _plan(
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
    (see ``_serialised``), and a product deleted or withdrawn while it was being pushed is
    deleted at Genlook again at once. With ``raise_transient``, a transient failure is
    recorded and then raised, for the Celery task to retry; otherwise every failure is
    recorded and returned.
    """
    adapter = registry.get_adapter(model)
    content_type = ContentType.objects.get_for_model(adapter.model, for_concrete_model=False)
    object_id = str(pk)
    signals: list[Callable[[], Any]] = []
    with _process_lock(content_type, object_id):
        if not SyncedProduct.objects.filter(
            content_type=content_type, object_id=object_id
        ).exists():
            plan = _plan_object(adapter, content_type, object_id, pk, force=force, lock=False)
            if plan.action == UPSERT:
                _claim(plan)
        with _serialised(content_type, object_id) as lock:
            plan = _plan_object(adapter, content_type, object_id, pk, force=force, lock=lock)
            outcome = None
            if plan.action not in (SKIP, ERROR):
                client = client or get_client()
                outcome = _push(client, plan)
                if plan.action == UPSERT and outcome.error is None:
                    outcome = _recheck(client, plan, outcome, pk)
            will_retry = raise_transient and outcome is not None and is_transient(outcome.error)
            if plan.action == SKIP:
                if plan.outcome == "skipped":
                    _log_skip(plan)
                result = plan.result(plan.outcome, synced_product=plan.row)
            else:
                result = _record(plan, outcome, will_retry=will_retry, deferred=signals)
    for send in signals:  # after the commit: a receiver's error cannot undo the record
        send()
    if will_retry:
        assert outcome is not None and outcome.error is not None
        raise outcome.error
    return result


def _recheck(client: GenlookClient, plan: _Plan, outcome: _Outcome, pk: Any) -> _Outcome:
    """The product vanished (or was withdrawn) while it was pushed: take it back."""
    if _still_wanted(plan.adapter, pk):
        return outcome
    assert plan.payload is not None
    logger.info("Genlook product %s went away during its push: deleting it", plan.external_id)
    plan.action, plan.external_id = DELETE, plan.payload.external_id
    plan.previous_external_id, plan.payload = None, None
    again = _push(client, plan)
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
    with _serialised(content_type, object_id) as lock:
        rows = SyncedProduct.objects.filter(pk=synced_product.pk)
        row = (rows.select_for_update() if lock else rows).first()
        if row is None:
            return SyncResult("skipped", _label(content_type), object_id)
        row.content_type = content_type
        plan = _Plan(
            DELETE,
            _adapter_or_stand_in(content_type),
            content_type,
            object_id,
            row,
            external_id=row.external_id,
        )
        outcome = _push(client or get_client(), plan)
        result = _record(plan, outcome, deferred=signals)
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
    with _serialised(content_type, row.object_id) as lock:
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
        row.remote = {}
        row.remote_expires_at = None
        row.save()
        return
    row.remote = product.raw
    row.remote_expires_at = _remote_expiry(product)
    if row.status == Status.DELETED:
        row.last_error = "Genlook still has this product although it was deleted here."
    elif row.status == Status.SYNCED and row.content_hash != _remote_payload(product).content_hash:
        row.status = Status.PENDING
        row.content_hash = ""
        row.last_error = (
            "Genlook holds other content than the shop pushed: the next sync pushes it again."
        )
        row.last_error_code = "REMOTE_DIFFERS"
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


# -- Whole catalog -----------------------------------------------------------------------------


def _adapters_for(models_: Sequence[str | type[models.Model]] | None) -> list[ProductAdapter]:
    if not models_:
        return registry.registered_adapters()
    return [registry.get_adapter(m) for m in models_]


def _pk_chunks(
    adapter: ProductAdapter, pks: Sequence[Any] | None, size: int
) -> Iterator[list[models.Model]]:
    """The model's instances in primary-key order, ``size`` at a time (keyset pagination)."""
    queryset = adapter.get_queryset().order_by("pk")
    if pks is not None:
        pks = list(pks)
        for start in range(0, len(pks), size):
            yield list(queryset.filter(pk__in=pks[start : start + size]))
        return
    last = None
    while True:
        page = queryset if last is None else queryset.filter(pk__gt=last)
        chunk = list(page[:size])
        if not chunk:
            return
        yield chunk
        last = chunk[-1].pk


def plan_catalog(
    adapter: ProductAdapter,
    *,
    pks: Sequence[Any] | None = None,
    force: bool = False,
    prune: bool = True,
    chunk_size: int = CHUNK_SIZE,
) -> Iterator[_Plan]:
    """Plan every product of one model: two queries per chunk, whatever its size.

    With ``prune`` (and no ``pks``), rows whose source object no longer exists are planned
    for deletion too.
    """
    content_type = ContentType.objects.get_for_model(adapter.model, for_concrete_model=False)
    seen: set[str] = set()
    claimed: set[str] = set()
    for chunk in _pk_chunks(adapter, pks, chunk_size):
        ids = [str(obj.pk) for obj in chunk]
        external_ids: dict[str, str] = {}
        for obj in chunk:
            with contextlib.suppress(Exception):  # planning records the error
                external_ids[str(obj.pk)] = adapter.get_external_id(obj)
        rows = SyncedProduct.objects.filter(
            Q(content_type=content_type, object_id__in=ids)
            | Q(external_id__in=list(external_ids.values()))
        ).select_related("content_type")
        by_source: dict[str, SyncedProduct] = {}
        holders: dict[str, SyncedProduct] = {}
        for row in rows:
            holders[row.external_id] = row
            if row.content_type_id == content_type.pk:
                by_source[row.object_id] = row
        for obj, object_id in zip(chunk, ids, strict=True):
            seen.add(object_id)
            yield _plan(
                adapter,
                content_type,
                object_id,
                obj,
                by_source.get(object_id),
                holders,
                force=force,
                claimed=claimed,
            )
    if pks is not None or not prune:
        return
    # Rows whose product is gone. Their ids are read in full first: the caller writes rows
    # while it consumes these plans, and SQLite does not isolate an open cursor from that.
    live_rows = SyncedProduct.objects.filter(content_type=content_type).exclude(
        status=Status.DELETED
    )
    orphan_pks = [
        pk
        for pk, object_id in live_rows.values_list("pk", "object_id").iterator(chunk_size)
        if object_id not in seen
    ]
    for start in range(0, len(orphan_pks), chunk_size):
        rows = SyncedProduct.objects.filter(pk__in=orphan_pks[start : start + chunk_size])
        for row in rows.select_related("content_type").order_by("pk"):
            yield _plan(adapter, content_type, row.object_id, None, row, {})


def count_catalog(adapter: ProductAdapter, pks: Sequence[Any] | None = None) -> int:
    queryset = adapter.get_queryset()
    if pks is not None:
        queryset = queryset.filter(pk__in=list(pks))
    return queryset.count()


Progress = Callable[[SyncResult], None]


def sync_catalog(
    models_: Sequence[str | type[models.Model]] | None = None,
    *,
    pks: Sequence[Any] | None = None,
    force: bool = False,
    dry_run: bool = False,
    prune: bool = True,
    workers: int | None = None,
    client: GenlookClient | None = None,
    progress: Progress | None = None,
    chunk_size: int = CHUNK_SIZE,
) -> SyncReport:
    """Sync whole models (every registered one by default) with Genlook.

    Unchanged products cost no API call, so a re-run resumes where an interrupted one
    stopped. Pushes run on ``workers`` threads (``SYNC_WORKERS``); the client's shared
    budget keeps the rate within Genlook's limit. ``force`` pushes unchanged products too;
    ``dry_run`` only reports what would happen. ``pks`` needs exactly one model.
    """
    adapters = _adapters_for(models_)
    if pks is not None and len(adapters) != 1:
        raise ValueError("Pass exactly one model together with pks.")
    report = SyncReport()
    started = time.monotonic()
    workers = max(1, int(workers or genlook_settings.SYNC_WORKERS))
    try:
        for adapter in adapters:
            plans = plan_catalog(adapter, pks=pks, force=force, prune=prune, chunk_size=chunk_size)
            if dry_run:
                _dry_run(plans, report, progress)
            else:
                _run(plans, report, progress, client or get_client(), workers)
    except KeyboardInterrupt:
        report.interrupted = True
        raise
    finally:
        report.elapsed = time.monotonic() - started
    return report


def _dry_run(plans: Iterable[_Plan], report: SyncReport, progress: Progress | None) -> None:
    for plan in plans:
        if plan.action == UPSERT:
            outcome = "would_update" if _may_hold(plan.row) else "would_create"
        elif plan.action == DELETE:
            outcome = "would_delete"
        elif plan.action == ERROR:
            outcome = "failed"
        else:
            outcome = plan.outcome
        result = plan.result(outcome, error=plan.error)
        report.add(result)
        if progress:
            progress(result)


def _run(
    plans: Iterable[_Plan],
    report: SyncReport,
    progress: Progress | None,
    client: GenlookClient,
    workers: int,
) -> None:
    """Push from a thread pool; plan and record here (one thread touches the database)."""

    def finish(result: SyncResult) -> None:
        report.add(result)
        if progress:
            progress(result)

    def record(batch: list[tuple[_Plan, _Outcome | None]]) -> None:
        """One transaction per batch of finished pushes; signals once it has committed."""
        signals: list[Callable[[], Any]] = []
        with transaction.atomic():
            results = [_record(plan, outcome, deferred=signals) for plan, outcome in batch]
        for send in signals:
            send()
        for result in results:
            finish(result)

    in_flight: dict[Future, _Plan] = {}
    executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="genlook-sync")

    def harvest(block: bool) -> None:
        if not in_flight:
            return
        done, _ = wait(list(in_flight), timeout=None if block else 0, return_when=FIRST_COMPLETED)
        record([(in_flight.pop(future), future.result()) for future in done])

    try:
        for plan in plans:
            if plan.action == SKIP:
                if plan.outcome == "skipped":
                    _log_skip(plan)
                finish(plan.result(plan.outcome))
            elif plan.action == ERROR:
                record([(plan, None)])
            else:
                in_flight[executor.submit(_push, client, plan)] = plan
            harvest(block=len(in_flight) >= workers * 4)
        while in_flight:
            harvest(block=True)
    finally:
        # Interrupted: drop what has not started, keep what has finished (resumable).
        executor.shutdown(wait=True, cancel_futures=True)
        finished = [(f, p) for f, p in in_flight.items() if f.done() and not f.cancelled()]
        if finished:
            record([(plan, future.result()) for future, plan in finished])


__all__ = [
    "TRANSIENT_ERRORS",
    "SyncReport",
    "SyncResult",
    "count_catalog",
    "default_external_id",
    "default_max_failures",
    "delete_remote",
    "enqueue_failed",
    "is_transient",
    "is_transient_failure",
    "plan_catalog",
    "refresh_from_genlook",
    "sync_catalog",
    "sync_object",
]


def default_max_failures() -> int:
    """Failures in a row after which ``enqueue_failed`` stops retrying a product: four
    rounds of a task and its Celery retries (24 with the default ``SYNC_MAX_RETRIES``)."""
    return 4 * (int(genlook_settings.SYNC_MAX_RETRIES) + 1)


def enqueue_failed(max_failures: int | None = None) -> int:
    """Enqueue a sync of the ``failed`` products worth retrying unattended; returns how many.

    Only transient failures (5xx, 429, network, the local budget: ``is_transient_failure``)
    of registered models, and only while ``failure_count`` is under ``max_failures``
    (``default_max_failures()``). A validation error or an adapter error would fail the
    same way again: those wait for a fix, then ``genlook_sync`` or the admin's "Sync now".
    """
    cap = default_max_failures() if max_failures is None else int(max_failures)
    rows = (
        SyncedProduct.objects.filter(status=Status.FAILED, failure_count__lt=cap)
        .filter(
            Q(last_error_code__in=TRANSIENT_ERROR_CODES)
            | Q(last_error__startswith="[5")
            | Q(last_error__startswith="[429")
        )
        .only("content_type_id", "object_id", "last_error", "last_error_code")
    )
    by_model: dict[type[models.Model], list[str]] = {}
    for row in rows.iterator():
        if not is_transient_failure(row):
            continue
        model = ContentType.objects.get_for_id(row.content_type_id).model_class()
        if model is not None and registry.is_registered(model):
            by_model.setdefault(model, []).append(row.object_id)
    for model, pks in by_model.items():
        registry.enqueue_sync(model, pks)
    return sum(len(pks) for pks in by_model.values())
