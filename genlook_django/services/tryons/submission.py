"""The submission machine: one waiting try-on or batch item sent to Genlook (the task side).

The same steps for a shopper's ``TryOn`` and a batch's ``BatchItem`` (``records``):

1. **claim** it (waiting → ``submitting``, a conditional update: one delivery wins);
2. the **photo**, uploaded once and its ``imageId`` reused until it nearly expires
   (``uploads``);
3. **mark** the create sent (``create_sent_at``, committed before the request leaves: only
   one submission may send it, once);
4. **create** the try-on reference-first (``products.create_try_on``: the product goes
   inline on ``PRODUCT_NOT_FOUND``), with ``KEEP_FOR_DAYS``, the record's
   ``externalUserId`` and watermark, and for a try-on with ``WEBHOOKS`` a fresh webhook
   URL; a stored ``imageId`` Genlook refuses is uploaded again, once;
5. **classify** the answer, and **record** it: ``pending`` with its generation (ingested
   at once when ``/try-on/sync`` brought the result), or failed with a code.

A create that may have reached Genlook (a lost answer: ``may_have_been_processed``) is never
sent again: it fails ``SUBMISSION_UNCERTAIN``. A delivery redelivered after its worker died
finds the record ``submitting``: it goes on if the create had not left (``create_sent_at``
empty) and fails it ``SUBMISSION_INTERRUPTED`` if it had, since sending it again could be
paid twice. A 402 fails it ``INSUFFICIENT_CREDITS`` (for a try-on, ``credits_exhausted`` is
sent and new try-ons pause for ``CREDITS_RETRY_AFTER``).
"""

from __future__ import annotations

import logging
from functools import partial
from typing import Any

from django.utils import timezone

from genlook_django.client import (
    AuthenticationError,
    Generation,
    GenlookClient,
    GenlookError,
    InsufficientCreditsError,
    PermissionDeniedError,
    ValidationError,
)
from genlook_django.conf import genlook_settings
from genlook_django.services.genlook import get_client
from genlook_django.services.tryons import intake, photos, products, results
from genlook_django.services.tryons.records import (
    PENDING,
    SUBMITTING,
    BatchTryOn,
    ShopperTryOn,
    Tracked,
)
from genlook_django.services.webhooks import setup as webhooks

logger = logging.getLogger("genlook_django.tryons")

# What Genlook says about a photo it will not use.
PHOTO_REJECTIONS = {"INVALID_IMAGE", "FILE_TOO_LARGE", "CUSTOMER_IMAGE_FETCH_FAILED"}


def submit(
    kind: type[Tracked],
    pk: Any,
    *,
    wait: bool,
    client: GenlookClient | None = None,
    raise_transient: bool = False,
) -> str:
    """Send one waiting record to Genlook; returns what is left to do: ``"done"`` (final
    already), ``"poll"`` (pending: someone must ask for the result), ``"elsewhere"``
    (another delivery of the task is sending it) or ``"missing"``.

    ``wait`` uses ``/try-on/sync``. With ``raise_transient`` a transient failure that
    certainly created nothing (5xx before processing, 429, no connection) puts the record
    back to waiting and is re-raised, for Celery to retry; otherwise it fails the record
    with ``GENLOOK_UNAVAILABLE``.
    """
    claimed = kind.model.objects.filter(pk=pk, state=kind.waiting).update(state=SUBMITTING)
    record = kind.fetch(pk)
    if record is None:
        return "missing"
    if not claimed and (outcome := _not_claimed(record)):
        return outcome
    instance = record.instance
    product, photo = instance.product, record.photo
    if product is None or photo is None:
        code = "PRODUCT_UNAVAILABLE" if product is None else "PHOTO_DELETED"
        record.fail(code, "The product or the photo was deleted before submission.")
        return "done"
    client = client or get_client()

    # 1. The photo, uploaded once (free, and safe to send again).
    try:
        image_id = record.upload(client)
    except FileNotFoundError:
        record.fail("PHOTO_DELETED", "The stored photo is missing.")
        return "done"
    except photos.PhotoError as exc:  # an upload left to the worker did not decode
        record.fail(exc.code, str(exc.message))
        intake.discard(photo)
        return "done"
    except GenlookError as exc:
        return (
            _transient(record, exc, raise_transient) if exc.is_transient else _rejected(record, exc)
        )

    # 2. The create. Marked first: a submission that is not the one sending the create
    # must not replace the webhook token of the one that is.
    if not _mark_create_sent(record):
        return "elsewhere"
    options = record.create_options()
    if record.takes_webhooks:  # only its token's hash is kept
        options["webhook_url"] = webhooks.url_for_submission(instance)
    try:
        generation = _create(record, product, image_id, wait=wait, client=client, **options)
    except InsufficientCreditsError as exc:
        record.out_of_credits(exc)
        return "done"
    except GenlookError as exc:
        if exc.may_have_been_processed:
            record.fail(
                "SUBMISSION_UNCERTAIN",
                f"Genlook may have accepted this try-on but its answer was lost ({exc}); "
                "it is not sent again, to avoid paying twice.",
            )
            return "done"
        if exc.is_transient:
            return _transient(record, exc, raise_transient)
        return _rejected(record, exc)
    except Exception as exc:  # the adapter, the database: recorded, not left hanging
        logger.exception("%s could not be submitted", record.label)
        record.fail("SUBMISSION_ERROR", f"{type(exc).__name__}: {exc}")
        return "done"
    return _accepted(record, generation, client)


# The task's entry points: a received try-on, a queued batch item, by id.
submit_try_on = partial(submit, ShopperTryOn)
submit_batch_item = partial(submit, BatchTryOn)


def _not_claimed(record: Tracked) -> str | None:
    """Someone else claimed it: what is left to do, or None to go on sending it."""
    instance = record.instance
    if instance.state != SUBMITTING:
        return "done" if instance.is_final else "poll"
    if instance.create_sent_at is not None:
        record.fail(
            "SUBMISSION_INTERRUPTED",
            "The submission was interrupted after it may have reached Genlook; it is "
            "not sent again, to avoid paying twice.",
        )
        return "done"
    logger.info("Submission of %s interrupted before its create: going on", record.label)
    return None


def _create(
    record: Tracked, product: Any, image_id: str, *, wait: bool, client: Any, **options: Any
) -> Generation:
    """The create, reference first; a stored ``imageId`` Genlook refuses (expired, erased)
    is uploaded again and the create sent once more (the refusal created nothing)."""
    options = {k: v for k, v in options.items() if v is not None}
    options["keep_for_days"] = genlook_settings.KEEP_FOR_DAYS
    try:
        return products.create_try_on(product, person=image_id, wait=wait, client=client, **options)
    except ValidationError as exc:
        if not _person_rejected(exc):
            raise
    logger.info("Genlook refused the imageId of %s's photo: uploading again", record.label)
    image_id = record.upload(client, force=True)
    return products.create_try_on(product, person=image_id, wait=wait, client=client, **options)


def _mark_create_sent(record: Tracked) -> bool:
    """Whether this submission may send the create: only one may, once. Committed before
    the request leaves, so a crash afterwards is known to have perhaps reached Genlook."""
    now = timezone.now()
    marked = (
        record.rows()
        .filter(state=SUBMITTING, create_sent_at__isnull=True)
        .update(create_sent_at=now)
    )
    if marked:
        record.instance.create_sent_at = now
    return bool(marked)


def _accepted(record: Tracked, generation: Generation, client: GenlookClient) -> str:
    """Genlook took the create: the record is pending with its generation, and completed
    at once when the answer (``/try-on/sync``'s 200) holds the result."""
    now = timezone.now()
    pending = (
        record.rows()
        .filter(state=SUBMITTING)
        .update(
            state=PENDING,
            generation_id=generation.id,
            submitted_at=now,
            last_checked_at=now,
            **record.pending_fields(generation),
        )
    )
    if pending:
        record.changed()
    instance = record.instance
    instance.state, instance.generation_id = PENDING, generation.id
    if not generation.is_finished:
        return "poll"
    try:
        results.ingest(instance, generation, client=client)
    except GenlookError as exc:
        if not exc.is_transient:
            raise
        logger.info("Result of %s not downloaded yet: %s", record.label, exc)
        return "poll"
    return "done"


def _transient(record: Tracked, error: GenlookError, raise_transient: bool) -> str:
    if raise_transient:
        # Nothing was created: the retry may send the create again.
        record.rows().filter(state=SUBMITTING).update(state=record.waiting, create_sent_at=None)
        raise error
    record.fail("GENLOOK_UNAVAILABLE", str(error))
    return "done"


def _person_rejected(error: GenlookError) -> bool:
    """Genlook refused the ``imageId`` (expired, erased): a validation error on ``person``."""
    return isinstance(error, ValidationError) and any(
        # v1 names the field person...; the classic API model_image (the photo link).
        str(detail.get("path", "")).startswith(("person", "customer", "model_image"))
        for detail in error.details
    )


def _rejected(record: Tracked, error: GenlookError) -> str:
    if isinstance(error, AuthenticationError | PermissionDeniedError):
        logger.error("Genlook refused the API key: %s", error)
        code = "CONFIGURATION_ERROR"
    elif error.code in PHOTO_REJECTIONS or _person_rejected(error):
        code = "PHOTO_REJECTED"
    else:
        code = error.code or type(error).__name__
    record.fail(code, str(error))
    return "done"
