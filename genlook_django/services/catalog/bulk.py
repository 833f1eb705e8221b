"""Whole models at once: plans read in chunks, pushes from a thread pool within the shared
request budget, results recorded from the calling thread (one thread touches the database)."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction
from django.db.models import Q

from genlook_django.client import GenlookClient
from genlook_django.conf import genlook_settings
from genlook_django.models import SyncedProduct
from genlook_django.services.genlook import get_client

from . import registry
from .adapters import ProductAdapter
from .plan import DELETE, ERROR, SKIP, UPSERT, Plan, log_skip, may_hold, plan_product
from .push import Outcome, push
from .record import record
from .results import SyncReport, SyncResult

Status = SyncedProduct.Status
CHUNK_SIZE = 1000


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
) -> Iterator[Plan]:
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
            yield plan_product(
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
            yield plan_product(adapter, content_type, row.object_id, None, row, {})


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


def _dry_run(plans: Iterable[Plan], report: SyncReport, progress: Progress | None) -> None:
    for plan in plans:
        if plan.action == UPSERT:
            outcome = "would_update" if may_hold(plan.row) else "would_create"
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
    plans: Iterable[Plan],
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

    def record_batch(batch: list[tuple[Plan, Outcome | None]]) -> None:
        """One transaction per batch of finished pushes; signals once it has committed."""
        signals: list[Callable[[], Any]] = []
        with transaction.atomic():
            results = [record(plan, outcome, deferred=signals) for plan, outcome in batch]
        for send in signals:
            send()
        for result in results:
            finish(result)

    in_flight: dict[Future, Plan] = {}
    executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="genlook-sync")

    def harvest(block: bool) -> None:
        if not in_flight:
            return
        done, _ = wait(list(in_flight), timeout=None if block else 0, return_when=FIRST_COMPLETED)
        record_batch([(in_flight.pop(future), future.result()) for future in done])

    try:
        for plan in plans:
            if plan.action == SKIP:
                if plan.outcome == "skipped":
                    log_skip(plan)
                finish(plan.result(plan.outcome))
            elif plan.action == ERROR:
                record_batch([(plan, None)])
            else:
                in_flight[executor.submit(push, client, plan)] = plan
            harvest(block=len(in_flight) >= workers * 4)
        while in_flight:
            harvest(block=True)
    finally:
        # Interrupted: drop what has not started, keep what has finished (resumable).
        executor.shutdown(wait=True, cancel_futures=True)
        finished = [(f, p) for f, p in in_flight.items() if f.done() and not f.cancelled()]
        if finished:
            record_batch([(plan, future.result()) for future, plan in finished])
