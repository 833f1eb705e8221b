"""The two records a generation at Genlook is tracked on, behind one interface.

A shopper's ``TryOn`` and a batch's ``BatchItem`` go through the same states (waiting →
``submitting`` → ``pending`` → ``completed`` / ``failed``) on the same fields
(``create_sent_at``, ``generation_id``, ``submitted_at``, ``last_checked_at``,
``result_file``, ``error_code``, ``error_message``, ``finished_at``), so the submission
machine (``submission``) and the ingestion (``results``) work on either through
``Tracked``. What differs is each adapter's: whose photo is uploaded and how, the create's
options, and what a failure or a result sets off besides (the shopper's signals and status
waiters; the batch job's completion).
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from datetime import datetime
from typing import Any, ClassVar

from django.db import models
from django.db.models import F
from django.utils import timezone

from genlook_django.client import Generation, GenlookClient, InsufficientCreditsError
from genlook_django.models import BatchItem, BatchJob, TryOn
from genlook_django.services import watermark
from genlook_django.services.tryons import intake, status_wait, uploads
from genlook_django.signals import credits_exhausted, tryon_completed, tryon_failed

logger = logging.getLogger("genlook_django.results")

SUBMITTING, PENDING, COMPLETED, FAILED = "submitting", "pending", "completed", "failed"
_EXTENSIONS = {b"\xff\xd8\xff": ".jpg", b"\x89PNG": ".png", b"RIFF": ".webp"}


class Tracked(ABC):
    """One record of a generation, as the submission machine and the ingestion see it.
    Each kind of record (``ShopperTryOn``, ``BatchTryOn``) fills in the abstract hooks."""

    model: ClassVar[type[models.Model]]
    waiting: ClassVar[str]  # the state of a record nobody has started sending
    open_states: ClassVar[tuple[str, ...]]
    related: ClassVar[tuple[str, ...]]  # what ``fetch`` reads along (photo, product type...)
    takes_webhooks: ClassVar[bool] = False  # whether its create carries a webhook URL
    too_large_code: ClassVar[str] = "RESULT_TOO_LARGE"
    keeps_raw: ClassVar[bool] = False  # whether Genlook's answers are kept on the row

    def __init__(self, instance: Any) -> None:
        self.instance = instance

    @classmethod
    def fetch(cls, pk: Any) -> Tracked | None:
        instance = cls.model.objects.select_related(*cls.related).filter(pk=pk).first()
        return cls(instance) if instance is not None else None

    def rows(self) -> models.QuerySet:
        return self.model.objects.filter(pk=self.instance.pk)

    def reload(self) -> Tracked | None:
        current = self.rows().first()
        return type(self)(current) if current is not None else None

    @property
    @abstractmethod
    def label(self) -> str:  # for the logs
        """How the logs name it."""

    # -- Submission ---------------------------------------------------------------------

    @property
    def photo(self) -> Any:
        return self.instance.photo

    def upload(self, client: GenlookClient, *, force: bool = False) -> str:
        """The photo's Genlook ``imageId`` (see ``uploads.ensure_uploaded``)."""
        return uploads.ensure_uploaded(self.photo, client, force=force)

    @abstractmethod
    def create_options(self) -> dict[str, Any]:
        """``external_user_id`` and ``watermark`` of the create."""

    def pending_fields(self, generation: Generation) -> dict[str, Any]:
        """What the create's answer sets besides the state and the generation id."""
        return {}

    def out_of_credits(self, error: InsufficientCreditsError) -> None:
        """Genlook answered 402: the record is failed; anything else to say?"""
        self.fail("INSUFFICIENT_CREDITS", str(error))

    def changed(self) -> None:
        """Its state changed: waiters, if any, are told (none wait on a batch item)."""
        return None

    @property
    def started_at(self) -> datetime | None:
        """Whence ``RESULT_TIMEOUT`` runs (None: it never times out)."""
        return self.instance.submitted_at

    def record_check(self, asked: datetime) -> None:
        """Genlook was asked about it at ``asked``."""
        self.rows().update(last_checked_at=asked)

    # -- Outcome ----------------------------------------------------------------------------

    def fail(self, code: str, message: str, *, raw: dict[str, Any] | None = None) -> bool:
        """Mark it failed if it is still open; False if its outcome was recorded first."""
        fields: dict[str, Any] = {
            "state": FAILED,
            "error_code": code[:64],
            "error_message": message[:4000],
            "finished_at": timezone.now(),
        }
        if raw is not None and self.keeps_raw:
            fields["raw"] = raw
        if not self.rows().filter(state__in=self.open_states).update(**fields):
            return False
        for name, value in fields.items():
            setattr(self.instance, name, value)
        logger.info("%s failed: %s %s", self.label, code, message)
        self.changed()
        self.failed(code)
        return True

    def keep_progress(self, generation: Generation) -> None:
        """A generation still running: its raw answer, where kept."""
        if self.keeps_raw:
            self.rows().update(raw=generation.raw)
            self.instance.raw = generation.raw

    def prepare_result(self, content: bytes) -> bytes:
        return content

    @abstractmethod
    def result_name(self, content: bytes) -> str:
        """Where its result goes in ``RESULTS_STORAGE``."""

    def completed_fields(self, generation: Generation) -> dict[str, Any]:
        return {}

    @abstractmethod
    def failed(self, code: str) -> None:
        """It was failed (once): signals, the job's completion."""

    @abstractmethod
    def completed(self) -> None:
        """Its result was stored (once): signals, the job's completion."""


class ShopperTryOn(Tracked):
    model = TryOn
    waiting = TryOn.State.RECEIVED
    open_states = (TryOn.State.RECEIVED, TryOn.State.SUBMITTING, TryOn.State.PENDING)
    related = ("photo", "content_type")
    takes_webhooks = True
    keeps_raw = True

    @property
    def label(self) -> str:
        return f"Try-on {self.instance.public_id}"

    def upload(self, client: GenlookClient, *, force: bool = False) -> str:
        # An upload left to the worker is normalised before anything is sent (``intake``).
        intake.ensure_normalised(self.photo)
        return super().upload(client, force=force)

    def create_options(self) -> dict[str, Any]:
        # The watermark is the admin's, or the WATERMARK setting.
        return {
            "external_user_id": self.instance.shopper_key,
            "watermark": watermark.genlook_watermark(),
        }

    def pending_fields(self, generation: Generation) -> dict[str, Any]:
        external_id = generation.product_external_id or self.instance.product_external_id
        return {"product_external_id": external_id[:255], "raw": generation.raw}

    def out_of_credits(self, error: InsufficientCreditsError) -> None:
        # New try-ons pause for CREDITS_RETRY_AFTER (start.credits_paused_until).
        if self.fail("INSUFFICIENT_CREDITS", str(error)):
            logger.warning("Genlook has no credits left: try-ons paused (%s)", error)
            credits_exhausted.send(sender=TryOn, try_on=self.instance, error=error)

    def changed(self) -> None:
        status_wait.notify(self.instance.pk)

    @property
    def started_at(self) -> datetime | None:
        # One stuck in received or submitting times out too.
        return self.instance.submitted_at or self.instance.created_at

    def record_check(self, asked: datetime) -> None:
        self.rows().update(last_checked_at=asked, checks=F("checks") + 1)

    def prepare_result(self, content: bytes) -> bytes:
        return watermark.apply_to_result(content)  # the merchant's logo, if set in the admin

    def result_name(self, content: bytes) -> str:
        extension = next(
            (ext for magic, ext in _EXTENSIONS.items() if content.startswith(magic)), ".jpg"
        )
        return f"genlook/results/{self.instance.public_id}{extension}"

    def completed_fields(self, generation: Generation) -> dict[str, Any]:
        return {
            "generation_id": generation.id,
            "remote_finished_at": generation.updated_at,
            "raw": generation.raw,
        }

    def failed(self, code: str) -> None:
        tryon_failed.send(sender=TryOn, try_on=self.instance, error_code=code)

    def completed(self) -> None:
        tryon_completed.send(sender=TryOn, try_on=self.instance)


class BatchTryOn(Tracked):
    model = BatchItem
    waiting = BatchItem.State.QUEUED
    open_states = BatchItem.OPEN_STATES
    related = ("photo", "job", "content_type")
    too_large_code = "RESULT_MISSING"

    @property
    def label(self) -> str:
        return f"Batch item {self.instance.pk}"

    def create_options(self) -> dict[str, Any]:
        return {"external_user_id": uploads.BATCH_USER_ID, "watermark": self.instance.job.watermark}

    def result_name(self, content: bytes) -> str:
        return f"genlook/batches/{self.instance.job_id}/result-{self.instance.pk}.jpg"

    def failed(self, code: str) -> None:
        finish_job_if_done(self.instance.job_id)

    def completed(self) -> None:
        finish_job_if_done(self.instance.job_id)


def finish_job_if_done(job_id: int) -> None:
    """A job none of whose items is open any more is done."""
    if not BatchItem.objects.filter(job_id=job_id, state__in=BatchItem.OPEN_STATES).exists():
        BatchJob.objects.filter(
            pk=job_id, state__in=(BatchJob.State.QUEUED, BatchJob.State.RUNNING)
        ).update(state=BatchJob.State.DONE, finished_at=timezone.now())
        BatchJob.objects.filter(pk=job_id, finished_at__isnull=True).update(
            finished_at=timezone.now()
        )


_KINDS: dict[type[models.Model], type[Tracked]] = {TryOn: ShopperTryOn, BatchItem: BatchTryOn}


def tracked(instance: TryOn | BatchItem) -> Tracked:
    """The adapter of a ``TryOn`` or a ``BatchItem``."""
    return _KINDS[type(instance)](instance)


__all__ = [
    "BatchTryOn",
    "ShopperTryOn",
    "Tracked",
    "finish_job_if_done",
    "tracked",
]
