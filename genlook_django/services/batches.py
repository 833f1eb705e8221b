"""Batch processing: model photos x products, tried on for the catalog.

``create_job`` stores the model photos (normalised, in ``PHOTOS_STORAGE``) and one
``BatchItem`` per (photo, product); ``start`` enqueues ``genlook.start_batch`` on commit,
which uploads each photo once (``crop=false``: the whole frame is kept) and fans out one
``genlook.run_batch_item`` task per item. Every call goes through the shared request budget
(``RATE_LIMIT``), so however many workers run the items, the shop stays within Genlook's
rate limit: the budget makes the tasks wait, Genlook never answers 429.

Each item goes through the same submission machine as a shopper's try-on
(``tryons.submission.submit_batch_item``: claimed, sent once, created reference-first, a
refused ``imageId`` uploaded again) and its result through the same ingestion
(``tryons.results``), stored in ``RESULTS_STORAGE`` under ``genlook/batches/<job>/``. With
a worker the task holds ``/try-on/sync``; run eagerly (no worker) it uses ``/try-on`` and
``poll_through`` (the admin's progress page) or ``wait`` (the command) asks for the
results.

With the classic API the items go in ``POST /v1/try-on/batch`` requests instead
(``classic_batches``), then are polled the same way.

``genlook_batch`` runs a job in its own threads (``run_in_process``) or hands it to the
workers. Results are a gallery per product (``gallery``); ``use_as_catalog_image`` copies
one into the field the product's adapter names (``catalog_image_field``).
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.files.base import ContentFile
from django.db import close_old_connections, connection, models, transaction
from django.db.models import Count, Q
from django.utils import timezone

from genlook_django import jobs
from genlook_django.client import GenlookClient, GenlookError
from genlook_django.conf import genlook_settings
from genlook_django.models import BatchItem, BatchJob, BatchPhoto
from genlook_django.services import classic_batches, files
from genlook_django.services.catalog import registry
from genlook_django.services.genlook import get_client
from genlook_django.services.tryons import photos, results, submission, uploads
from genlook_django.services.tryons.records import finish_job_if_done

logger = logging.getLogger("genlook_django.batches")

State = BatchItem.State


class BatchError(Exception):
    """The job cannot be created as asked (no photo, no product, a bad photo)."""


@dataclass(frozen=True)
class Progress:
    total: int
    completed: int
    failed: int

    @property
    def done(self) -> int:
        return self.completed + self.failed

    @property
    def open(self) -> int:
        return self.total - self.done

    @property
    def percent(self) -> int:
        return int(100 * self.done / self.total) if self.total else 100

    def as_dict(self) -> dict[str, int]:
        return {
            "total": self.total,
            "completed": self.completed,
            "failed": self.failed,
            "open": self.open,
            "percent": self.percent,
        }


# -- Creating and starting ---------------------------------------------------------------------


def create_job(
    *,
    photos_in: Sequence[tuple[str, bytes]],
    products: Iterable[models.Model],
    name: str = "",
    user: Any = None,
    watermark: bool = False,
) -> BatchJob:
    """A job of every (photo, product) pair, ``queued``; ``photos_in`` is
    ``[(label, bytes)]``. Raises ``BatchError`` (or ``photos.PhotoError``)."""
    unique: dict[tuple[int, str], models.Model] = {}
    for product in products:
        registry.get_adapter(product)  # NotRegistered for a model without an adapter
        content_type = ContentType.objects.get_for_model(product, for_concrete_model=False)
        unique[(content_type.pk, str(product.pk))] = product
    if not photos_in:
        raise BatchError("Choose at least one model photo.")
    if not unique:
        raise BatchError("Choose at least one product.")
    normalised = [(label, photos.normalise(content)) for label, content in photos_in]
    storage = files.photos_storage()
    with transaction.atomic():
        job = BatchJob.objects.create(
            name=name[:200],
            watermark=watermark,
            created_by=user if getattr(user, "pk", None) else None,
        )
        stored = []
        for label, photo in normalised:
            stored.append(
                BatchPhoto.objects.create(
                    job=job,
                    label=label[:200],
                    file_name=files.save(
                        storage, f"genlook/batches/{job.pk}/{uuid.uuid4().hex}.jpg", photo.content
                    ),
                    width=photo.width,
                    height=photo.height,
                )
            )
        BatchItem.objects.bulk_create(
            [
                BatchItem(
                    job=job,
                    photo=photo,
                    content_type_id=content_type_id,
                    object_id=object_id,
                    product_label=f"{product}"[:255],
                )
                for photo in stored
                for (content_type_id, object_id), product in unique.items()
            ]
        )
    return job


def start(job: BatchJob) -> None:
    """Mark the job running and enqueue ``genlook.start_batch`` once the transaction commits."""
    BatchJob.objects.filter(pk=job.pk, state=BatchJob.State.QUEUED).update(
        state=BatchJob.State.RUNNING, started_at=timezone.now()
    )
    job_id = job.pk

    jobs.enqueue_on_commit("genlook.start_batch", job_id)


def mark_running(job: BatchJob) -> None:
    BatchJob.objects.filter(pk=job.pk, state=BatchJob.State.QUEUED).update(
        state=BatchJob.State.RUNNING, started_at=timezone.now()
    )


def cancel(job: BatchJob) -> int:
    """Fail every item not sent yet; returns how many. Items already at Genlook finish."""
    count = _fail_waiting(
        BatchItem.objects.filter(job=job), "CANCELLED", "Cancelled before it was sent."
    )
    BatchJob.objects.filter(pk=job.pk).exclude(state=BatchJob.State.DONE).update(
        state=BatchJob.State.CANCELLED
    )
    finish_job_if_done(job.pk)
    return count


# -- Sending --------------------------------------------------------------------------------


def prepare(job_id: int, *, client: GenlookClient | None = None) -> list[int]:
    """Upload the job's photos (once each); the ids of its items still to send. A photo
    Genlook refuses fails its items. Transient errors are raised (the task retries)."""
    job = BatchJob.objects.filter(pk=job_id).first()
    if job is None or job.state in (BatchJob.State.DONE, BatchJob.State.CANCELLED):
        return []
    mark_running(job)
    client = client or get_client()
    for photo in job.photos.all():
        try:
            uploads.ensure_uploaded(photo, client)
            continue
        except GenlookError as exc:
            if exc.is_transient:
                raise
            code, message = exc.code or "PHOTO_REJECTED", str(exc)
        except FileNotFoundError as exc:
            code, message = "PHOTO_REJECTED", str(exc)
        _fail_waiting(BatchItem.objects.filter(photo=photo), code, message)
    finish_job_if_done(job.pk)
    return list(BatchItem.objects.filter(job=job, state=State.QUEUED).values_list("pk", flat=True))


def _fail_waiting(items: Any, code: str, message: str) -> int:
    """Fail the items not sent yet (``queued``); how many."""
    return items.filter(state=State.QUEUED).update(
        state=State.FAILED,
        error_code=code[:64],
        error_message=message[:4000],
        finished_at=timezone.now(),
    )


def poll_through(job: BatchJob, *, limit: int = 20) -> int:
    """For deployments without a worker: check the job's pending items whose last check is
    older than ``STATUS_POLL_INTERVAL`` (at most ``limit``), never waiting on the budget.
    Returns how many were checked."""
    if not results.poll_through_enabled():
        return 0
    stale = timezone.now() - timedelta(seconds=float(genlook_settings.STATUS_POLL_INTERVAL))
    pending = BatchItem.objects.filter(job=job, state=State.PENDING).filter(
        Q(last_checked_at__isnull=True) | Q(last_checked_at__lte=stale)
    )[:limit]
    client = get_client(max_retries=0, rate_wait_timeout=0)
    checked = 0
    for item in pending:
        try:
            results.poll_once(item, client=client)
        except GenlookError as exc:
            logger.info("Batch item %s check put off: %s", item.pk, exc)
            break
        checked += 1
    return checked


# -- Progress, in-process runs, the gallery ---------------------------------------------------


# A job's progress as annotations of a ``BatchJob`` queryset (the admin's list).
PROGRESS_COUNTS = {
    "items_total": Count("items"),
    "items_completed": Count("items", filter=Q(items__state=State.COMPLETED)),
    "items_failed": Count("items", filter=Q(items__state=State.FAILED)),
}


def advance_open_jobs(*, limit: int = 20) -> int:
    """``poll_through`` for the running jobs (the newest ``limit``), when no worker runs:
    what the admin's list of jobs does, so its progress moves without opening each job.
    Returns how many items were checked."""
    if not results.poll_through_enabled():
        return 0
    running = BatchJob.objects.filter(state=BatchJob.State.RUNNING).order_by("-created_at")
    return sum(poll_through(job) for job in running[:limit])


def progress(job: BatchJob) -> Progress:
    counts = BatchItem.objects.filter(job=job).aggregate(
        total=Count("pk"),
        completed=Count("pk", filter=Q(state=State.COMPLETED)),
        failed=Count("pk", filter=Q(state=State.FAILED)),
    )
    return Progress(counts["total"], counts["completed"], counts["failed"])


def run_in_process(
    job: BatchJob,
    *,
    workers: int = 4,
    on_item: Callable[[BatchItem], Any] | None = None,
    poll_interval: float = 2.0,
) -> Progress:
    """Run a job here, no worker needed, within the shared request budget; ``on_item`` is
    called with each item once it is final.

    With ``workers`` > 1 (and a database that takes concurrent writes: not SQLite), that
    many threads each hold ``/try-on/sync`` for one item at a time: one request per item.
    Otherwise the items are created one after the other with ``/try-on`` and then polled
    every ``poll_interval`` seconds, from this thread only.
    """
    mark_running(job)
    client = get_client()
    ids = prepare(job.pk, client=client)
    for failed in BatchItem.objects.filter(job=job, state=State.FAILED):
        if on_item:  # already, e.g. a photo Genlook refused
            on_item(failed)
    if genlook_settings.classic:  # POST /v1/try-on/batch: no per-item creates
        ids = []
        failed_before = set(job.items.filter(state=State.FAILED).values_list("pk", flat=True))
        classic_batches.submit(job.pk, client=client, last_attempt=True)  # no retry here
        for failed in job.items.filter(state=State.FAILED).exclude(pk__in=failed_before):
            if on_item:
                on_item(failed)
    threaded = workers > 1 and connection.vendor != "sqlite"

    def one(item_id: int) -> None:
        if threaded:
            close_old_connections()
        try:
            outcome = submission.submit_batch_item(item_id, wait=threaded, client=client)
            if outcome == "done" and on_item:
                on_item(BatchItem.objects.get(pk=item_id))
        finally:
            if threaded:
                close_old_connections()

    if threaded:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            list(pool.map(one, ids))
    else:
        for item_id in ids:
            one(item_id)
    while True:
        pending = list(BatchItem.objects.filter(job=job, state=State.PENDING))
        if not pending:
            break
        time.sleep(poll_interval)
        for item in pending:
            try:
                item = results.poll_once(item, client=client)
            except GenlookError as exc:
                if not exc.is_transient:
                    raise
                logger.info("Batch item %s: %s", item.pk, exc)
                continue
            if item.is_final and on_item:
                on_item(item)
    finish_job_if_done(job.pk)
    return progress(job)


def gallery(product: models.Model) -> list[BatchItem]:
    """Every completed batch try-on of this product, newest first."""
    content_type = ContentType.objects.get_for_model(product, for_concrete_model=False)
    return list(
        BatchItem.objects.filter(
            content_type=content_type, object_id=str(product.pk), state=State.COMPLETED
        )
        .select_related("photo", "job")
        .order_by("-finished_at")
    )


def catalog_image_field(item: BatchItem) -> str | None:
    """The product field ``use_as_catalog_image`` fills, if its adapter names one."""
    try:
        adapter = registry.get_adapter(item.content_type.model_class())
    except (registry.NotRegistered, LookupError, TypeError):
        return None
    return adapter.catalog_image_field


def use_as_catalog_image(item: BatchItem) -> models.Model:
    """Copy a completed item's image into its product's ``catalog_image_field`` (the
    product is saved, which syncs it like any save)."""
    field = catalog_image_field(item)
    product = item.product
    if item.state != State.COMPLETED or not field or product is None:
        raise BatchError("This try-on cannot be used as a catalog image.")
    with files.results_storage().open(item.result_file, "rb") as stored:
        content = stored.read()
    getattr(product, field).save(f"tryon-{item.job_id}-{item.pk}.jpg", ContentFile(content))
    BatchItem.objects.filter(pk=item.pk).update(used_as_catalog_image_at=timezone.now())
    return product
