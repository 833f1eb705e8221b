"""Which sync failures are worth another try, and the unattended retry of stored ones.

At run time the error says so itself (``GenlookError.is_transient``). A stored failure is
judged from what ``record`` kept of it: the HTTP status (any 5xx, or 429), or, for a
failure with no HTTP answer, the local code of a network or request-budget failure.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q

from genlook_django.client import GenlookError, RateBudgetTimeout, TransportError
from genlook_django.conf import genlook_settings
from genlook_django.models import SyncedProduct

from . import registry

Status = SyncedProduct.Status


def worth_retrying(error: BaseException | None) -> bool:
    """Whether the same call may succeed later: Genlook or the network failed, or the
    request budget was busy (a refusal, or an adapter's error, would fail again)."""
    return isinstance(error, GenlookError) and error.is_transient


def _class_names(classes: Iterable[type]) -> set[str]:
    names: set[str] = set()
    for cls in classes:
        names.add(cls.__name__)
        names |= _class_names(cls.__subclasses__())
    return names


# The codes ``record`` stores for a failure with no HTTP answer: its exception's class name.
LOCAL_TRANSIENT_CODES = frozenset(_class_names([TransportError, RateBudgetTimeout]))
# A stored failure worth retrying unattended.
TRANSIENT_FAILURE = (
    Q(last_error_status__gte=500, last_error_status__lte=599)
    | Q(last_error_status=429)
    | Q(last_error_status__isnull=True, last_error_code__in=LOCAL_TRANSIENT_CODES)
)


def default_max_failures() -> int:
    """Failures in a row after which ``enqueue_failed`` stops retrying a product: four
    rounds of a task and its Celery retries (24 with the default ``SYNC_MAX_RETRIES``)."""
    return 4 * (int(genlook_settings.SYNC_MAX_RETRIES) + 1)


def enqueue_failed(max_failures: int | None = None) -> int:
    """Enqueue a sync of the ``failed`` products worth retrying unattended; returns how many.

    Only transient failures (``TRANSIENT_FAILURE``: 5xx, 429, network, the local budget)
    of registered models, and only while ``failure_count`` is under ``max_failures``
    (``default_max_failures()``). A validation error or an adapter error would fail the
    same way again: those wait for a fix, then ``genlook_sync`` or the admin's "Sync now".
    """
    cap = default_max_failures() if max_failures is None else int(max_failures)
    rows = SyncedProduct.objects.filter(
        TRANSIENT_FAILURE, status=Status.FAILED, failure_count__lt=cap
    ).values_list("content_type_id", "object_id")
    by_model: dict[type[models.Model], list[str]] = {}
    for content_type_id, object_id in rows.iterator():
        model = ContentType.objects.get_for_id(content_type_id).model_class()
        if model is not None and registry.is_registered(model):
            by_model.setdefault(model, []).append(object_id)
    for model, pks in by_model.items():
        registry.enqueue_sync(model, pks)
    return sum(len(pks) for pks in by_model.values())
