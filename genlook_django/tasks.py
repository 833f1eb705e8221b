"""Celery tasks: thin wrappers around the services. They take primary keys, never instances.

They are handed over (queued, or run inline) by ``jobs``, by name; nothing calls ``delay``."""

from __future__ import annotations

import random
from typing import Any

from celery import shared_task

from genlook_django.services import batches, catalog, classic_batches
from genlook_django.services.genlook import get_client
from genlook_django.services.tryons import erasure, reconcile, results, submission

from . import jobs
from .client import GenlookError, RateLimitedError
from .conf import genlook_settings
from .models import BatchItem, TryOn

# The first retry of a failed sync waits about a minute; each next one twice as long, up to
# SYNC_RETRY_BACKOFF_MAX. With the defaults (5 retries, 600 s): 1, 2, 4, 8 and 10 minutes,
# each drawn between half and all of that, so the retries span 12.5 to 25 minutes of outage.
RETRY_BACKOFF_BASE = 60.0


def _backoff(retries: int, error: BaseException | None = None) -> float:
    """Seconds before retry number ``retries + 1``: exponential, with jitter, capped by
    ``SYNC_RETRY_BACKOFF_MAX``, and never sooner than a 429's ``Retry-After``."""
    cap = float(genlook_settings.SYNC_RETRY_BACKOFF_MAX)
    delay = min(cap, RETRY_BACKOFF_BASE * 2.0**retries)
    delay = random.uniform(delay / 2, delay)  # spread the retries of a failed batch
    if isinstance(error, RateLimitedError) and error.retry_after is not None:
        delay = max(delay, error.retry_after)
    return delay


@shared_task(bind=True, acks_late=True, name="genlook.sync_product")
def sync_product(self, model_label: str, pk: Any, force: bool = False) -> str:
    """Upsert, delete, or leave alone one registered product (``model_label``, ``pk``).

    Transient failures (5xx, 429, network) are retried ``SYNC_MAX_RETRIES`` times with
    backoff (``_backoff``: a minute, doubling up to ``SYNC_RETRY_BACKOFF_MAX``, at least a
    429's ``Retry-After``); the failure is recorded on the ``SyncedProduct`` row each time,
    and the last one leaves it ``failed`` (``genlook_sync`` or ``retry_failed_products``
    picks it up).

    Run inline (``jobs``: ``GENLOOK["TASKS"]``), nothing waits: the call is made once and a
    failure is recorded at once, since an eager retry cannot be delayed and would only hold
    up the request that saved the product.
    """
    max_retries = int(genlook_settings.SYNC_MAX_RETRIES)
    eager = bool(self.request.is_eager)
    can_retry = not eager and self.request.retries < max_retries
    try:
        result = catalog.sync_object(
            model_label,
            pk,
            force=force,
            raise_transient=can_retry,
            client=get_client(max_retries=0) if eager else None,
        )
    except GenlookError as exc:
        if not catalog.worth_retrying(exc):
            raise
        raise self.retry(
            exc=exc, countdown=_backoff(self.request.retries, exc), max_retries=max_retries
        ) from exc
    return result.outcome


@shared_task(bind=True, acks_late=True, name="genlook.delete_product")
def delete_product(self, synced_product_id: int) -> str:
    """Remove one product from Genlook (the ``SyncedProduct`` row's external id).

    Works whatever became of the product's model (unregistered, or removed: orphans)."""
    from .models import SyncedProduct

    row = SyncedProduct.objects.filter(pk=synced_product_id).first()
    if row is None:
        return "missing"
    return catalog.delete_remote(row).outcome


@shared_task(acks_late=True, name="genlook.refresh_product")
def refresh_product(synced_product_id: int) -> str:
    """Re-read one product from Genlook into its ``SyncedProduct`` row."""
    from .models import SyncedProduct

    row = SyncedProduct.objects.filter(pk=synced_product_id).first()
    if row is None:
        return "missing"
    return catalog.refresh_from_genlook(row).status


@shared_task(acks_late=True, name="genlook.retry_failed_products")
def retry_failed_products(max_failures: int | None = None) -> int:
    """Enqueue a sync of the products whose last failure was transient, while they have
    failed fewer than ``max_failures`` times in a row (see ``catalog.enqueue_failed``).
    Schedule it with Celery beat if you like."""
    if genlook_settings.classic:  # no catalog at Genlook (manage.py check says so, W060)
        return 0
    return catalog.enqueue_failed(max_failures)


@shared_task(acks_late=True, name="genlook.audit_product_images")
def audit_product_images(synced_product_ids: list[int]) -> int:
    """Check the images of these products; the findings land on each row. Returns how many
    products have an issue."""
    from .models import SyncedProduct

    rows = SyncedProduct.objects.select_related("content_type").filter(pk__in=synced_product_ids)
    return sum(1 for row in rows if catalog.audit_synced_product(row))


# -- Storefront try-ons ---------------------------------------------------------------------


def _submit_backoff(retries: int) -> float:
    """A shopper is waiting: retry within seconds (full jitter, at most 8 s)."""
    return random.uniform(0.5, min(8.0, 2.0 ** (retries + 1)))


def _poll_countdown(retries: int) -> float:
    """2 s (Genlook's advice), then 1.5x longer each time, at most 30 s."""
    return min(30.0, 2.0 * 1.5**retries)


def _poll_once(record: Any) -> Any:
    """One check of a pending try-on or batch item; a transient failure is asked again
    by the caller's next retry."""
    try:
        return results.poll_once(record, client=get_client())
    except GenlookError as exc:
        if not exc.is_transient:
            raise
        return record


@shared_task(bind=True, acks_late=True, name="genlook.submit_try_on", max_retries=3)
def submit_try_on(self, try_on_id: int) -> str:
    """Upload the shopper's photo (once) and create the try-on at Genlook.

    With a worker: ``/try-on/sync`` (the result is stored as soon as Genlook answers 200);
    on a 202, ``poll_try_on`` takes over. Transient failures that created nothing are
    retried with backoff. Run eagerly (inside the shopper's request): the asynchronous
    ``/try-on``, one quick retry at most, and the status view polls the result through.
    """
    eager = bool(self.request.is_eager)
    try:
        outcome = submission.submit_try_on(
            try_on_id,
            wait=not eager,
            client=get_client(max_retries=1) if eager else None,
            raise_transient=not eager and self.request.retries < self.max_retries,
        )
    except GenlookError as exc:
        if not exc.is_transient:
            raise
        raise self.retry(exc=exc, countdown=_submit_backoff(self.request.retries)) from exc
    if outcome == "poll" and not eager:
        jobs.enqueue("genlook.poll_try_on", try_on_id, countdown=_first_poll(try_on_id))
    return outcome


# With the classic API the webhook is the result's way in: the poll, a fallback, waits more.
WEBHOOK_FIRST_POLL = 20.0


def _first_poll(try_on_id: int) -> float:
    if genlook_settings.classic and (
        TryOn.objects.filter(pk=try_on_id).exclude(webhook_token_hash="").exists()
    ):
        return WEBHOOK_FIRST_POLL
    return _poll_countdown(0)


@shared_task(bind=True, acks_late=True, name="genlook.poll_try_on", max_retries=None)
def poll_try_on(self, try_on_id: int) -> str:
    """Ask Genlook for a pending try-on's result, again and again with backoff (2 s, then
    1.5x longer, at most 30 s apart), until it is final or ``RESULT_TIMEOUT`` passes."""
    try_on = TryOn.objects.filter(pk=try_on_id).first()
    if try_on is None:
        return "missing"
    try_on = _poll_once(try_on)
    if try_on.is_final or try_on.state != TryOn.State.PENDING:
        return try_on.state
    if self.request.is_eager:
        return try_on.state  # nothing can wait here: the status view polls through
    raise self.retry(countdown=_poll_countdown(self.request.retries))


@shared_task(bind=True, acks_late=True, name="genlook.erase_shopper_at_genlook", max_retries=8)
def erase_shopper_at_genlook(self, shopper_key: str) -> None:
    """``DELETE /customers/{shopper_key}``: Genlook erases the shopper's photos and results.
    Retried with backoff (up to about an hour) while Genlook cannot be reached."""
    try:
        erasure.erase_at_genlook(shopper_key)
    except GenlookError as exc:
        if self.request.is_eager or not exc.is_transient:
            raise
        raise self.retry(exc=exc, countdown=_backoff(self.request.retries)) from exc


# -- Admin: retention, erasure, credits --------------------------------------------------------


@shared_task(acks_late=True, name="genlook.erase_shopper")
def erase_shopper(shopper_key: str) -> dict[str, int]:
    """Erase a shopper here (try-ons, photos, files, events, quota records), then enqueue
    ``erase_shopper_at_genlook`` (retried on its own). Enqueued when a user is deleted."""
    from genlook_django.services import retention

    report = retention.erase_shopper(shopper_key)
    return {"try_ons": report.try_ons, "photos": report.photos}


@shared_task(acks_late=True, name="genlook.purge_expired")
def purge_expired() -> dict[str, int]:
    """Apply ``RETENTION_DAYS`` and ``STATS_RETENTION_DAYS`` (``services.retention``).
    Schedule it with Celery beat, e.g. daily (docs/admin.md)."""
    from genlook_django.services import retention

    return retention.purge_expired().as_dict()


@shared_task(acks_late=True, name="genlook.refresh_credits")
def refresh_credits() -> int | None:
    """Read the credit balance from Genlook: a snapshot for the charts and the low-balance
    check, even when nobody opens the admin. Schedule it with Celery beat, e.g. hourly."""
    from genlook_django.services import credits

    return credits.get_balance(refresh=True).credits


# -- Webhooks and the reconciler ---------------------------------------------------------------


def _webhook_countdown(retries: int, error: BaseException | None = None) -> float:
    """2, 4, 8, 16, 32 s (with jitter): about a minute in all, then the reconciler."""
    from genlook_django.services import webhooks

    if isinstance(error, webhooks.NotReady):  # the submission is recording it right now
        return random.uniform(0.5, 1.5)
    delay = min(60.0, 2.0 * 2.0**retries)
    delay = random.uniform(delay / 2, delay)
    if isinstance(error, RateLimitedError) and error.retry_after is not None:
        delay = max(delay, error.retry_after)
    return delay


@shared_task(bind=True, acks_late=True, name="genlook.process_webhook", max_retries=5)
def process_webhook(self, delivery_id: int) -> str:
    """Confirm one accepted webhook delivery with ``GET /generations/{id}`` and ingest
    Genlook's answer (``services.webhooks.process``). Transient failures are retried
    with backoff; the last one leaves the delivery ``failed`` (``genlook_replay_webhooks``).
    Run eagerly (inside the webhook request), nothing waits: one try, no client retries."""
    from genlook_django.services import webhooks

    eager = bool(self.request.is_eager)
    try:
        return webhooks.process(
            delivery_id,
            client=get_client(max_retries=0, rate_wait_timeout=2.0) if eager else None,
            raise_transient=not eager and self.request.retries < self.max_retries,
        )
    except Exception as exc:
        if not webhooks.is_retryable(exc):
            raise
        raise self.retry(exc=exc, countdown=_webhook_countdown(self.request.retries, exc)) from exc


@shared_task(bind=True, acks_late=True, name="genlook.process_webhooks")
def process_webhooks(self, delivery_ids: list[int]) -> dict[int, str]:
    """Several deliveries published together (``services.webhooks.dispatch``): each gets
    the first try of ``process_webhook``; one that fails transiently goes on as its own
    ``process_webhook``, with the remaining retries. Returns {delivery id: outcome}."""
    from genlook_django.services import webhooks

    eager = bool(self.request.is_eager)
    client = get_client(max_retries=0, rate_wait_timeout=2.0) if eager else None
    outcomes: dict[int, str] = {}
    for delivery_id in delivery_ids:
        try:
            outcomes[delivery_id] = webhooks.process(
                delivery_id, client=client, raise_transient=not eager
            )
        except Exception as exc:
            if not webhooks.is_retryable(exc):
                raise
            outcomes[delivery_id] = "pending"
            jobs.enqueue(
                "genlook.process_webhook",
                delivery_id,
                countdown=_webhook_countdown(0, exc),
                retries=1,
            )
    return outcomes


@shared_task(acks_late=True, name="genlook.reconcile_try_ons")
def reconcile_try_ons(limit: int | None = None) -> dict[str, Any]:
    """Poll try-ons and batch items nobody has checked for ``RECONCILE_AFTER`` seconds, and
    fail those still open after ``RECONCILE_MAX_AGE`` (``services.reconcile``); the batch
    items' counts are under ``batch_items``. Schedule it with Celery beat, e.g. every
    minute (docs/webhooks.md)."""
    return reconcile.reconcile(limit=limit).as_dict()


# -- Batch processing (catalog images) ---------------------------------------------------------


@shared_task(bind=True, acks_late=True, name="genlook.start_batch", max_retries=5)
def start_batch(self, job_id: int) -> int:
    """Upload a batch's model photos (once each), then fan out one ``run_batch_item`` task
    per item. Every call spends the shared request budget. Returns how many were enqueued."""
    eager = bool(self.request.is_eager)
    try:
        item_ids = batches.prepare(job_id, client=get_client(max_retries=1) if eager else None)
    except GenlookError as exc:
        if eager or not exc.is_transient:
            raise
        raise self.retry(exc=exc, countdown=_submit_backoff(self.request.retries)) from exc
    if genlook_settings.classic:  # POST /v1/try-on/batch, CLASSIC_BATCH_SIZE at a time
        return _start_classic_batch(self, job_id, eager)
    for item_id in item_ids:
        jobs.enqueue("genlook.run_batch_item", item_id)
    return len(item_ids)


def _start_classic_batch(task: Any, job_id: int, eager: bool) -> int:
    def hand_over(item_ids: list[int]) -> None:
        # Each request's items go to the poll task as soon as Genlook takes them: a later
        # request's failure must not leave them (charged for) unpolled.
        if not eager:  # eagerly, the admin's progress page or genlook_batch --wait polls
            for item_id in item_ids:
                jobs.enqueue("genlook.poll_batch_item", item_id, countdown=_poll_countdown(0))

    try:
        return classic_batches.submit(
            job_id,
            client=get_client(max_retries=1) if eager else None,
            # No retry follows: an outage fails the items left, so that the job ends.
            last_attempt=eager or task.request.retries >= task.max_retries,
            on_pending=hand_over,
        )
    except GenlookError as exc:
        if eager or not exc.is_transient:
            raise
        raise task.retry(exc=exc, countdown=_submit_backoff(task.request.retries)) from exc


@shared_task(bind=True, acks_late=True, name="genlook.run_batch_item", max_retries=5)
def run_batch_item(self, item_id: int) -> str:
    """Try one (model photo, product) pair on: ``/try-on/sync`` with a worker (the poll
    task takes over on a 202), ``/try-on`` when run eagerly (the admin's progress page
    polls through). Transient failures that created nothing are retried with backoff."""
    eager = bool(self.request.is_eager)
    try:
        outcome = submission.submit_batch_item(
            item_id,
            wait=not eager,
            client=get_client(max_retries=1) if eager else None,
            raise_transient=not eager and self.request.retries < self.max_retries,
        )
    except GenlookError as exc:
        if not exc.is_transient:
            raise
        raise self.retry(exc=exc, countdown=_backoff(self.request.retries, exc) / 4) from exc
    if outcome == "poll" and not eager:
        jobs.enqueue("genlook.poll_batch_item", item_id, countdown=_poll_countdown(0))
    return outcome


@shared_task(bind=True, acks_late=True, name="genlook.poll_batch_item", max_retries=None)
def poll_batch_item(self, item_id: int) -> str:
    """Ask Genlook for a pending batch item's result with backoff, until it is final."""
    item = BatchItem.objects.filter(pk=item_id).first()
    if item is None:
        return "missing"
    item = _poll_once(item)
    if item.is_final or item.state != BatchItem.State.PENDING or self.request.is_eager:
        return item.state
    raise self.retry(countdown=_poll_countdown(self.request.retries))
