"""Processing an accepted delivery: retries on transient failures, attempts and tracebacks
on the row, the try-on not submitted yet, and WEBHOOK_CONFIRM off."""

from __future__ import annotations

import json

import pytest
from celery.exceptions import Retry

from genlook_django import jobs, tasks
from genlook_django.client import (
    NotFoundError,
    PermissionDeniedError,
    RateBudgetTimeout,
    RateLimitedError,
    ServerError,
    TransportError,
)
from genlook_django.models import TryOn, WebhookDelivery
from genlook_django.services import webhooks
from genlook_django.services.webhooks.signatures import signature_header
from tests.support.webhooks import finished, payload_of

pytestmark = pytest.mark.django_db(transaction=True)

Outcome = WebhookDelivery.Outcome


@pytest.fixture
def outage(hooks):
    """Genlook answers 503 to everything (faults apply after the try-on was created)."""

    def start():
        hooks.state.set_faults(drop_webhooks=1.0, error_rates={503: 1.0})

    return start


def test_a_transient_failure_fails_the_eager_delivery_with_its_traceback(
    hooks, pending, post, outage
):
    try_on, token = pending
    finished(try_on.generation_id)
    outage()

    response = post(token, payload_of(hooks, try_on.generation_id))

    assert response.status_code == 202  # accepted: the sender need not send it again
    delivery = WebhookDelivery.objects.get()
    assert (delivery.outcome, delivery.reason, delivery.attempts) == (
        "failed",
        "genlook_unavailable",
        1,
    )
    assert "Traceback" in delivery.error and "503" in delivery.error
    assert TryOn.objects.get(pk=try_on.pk).state == TryOn.State.PENDING


def test_the_task_retries_transient_failures_then_gives_up(
    hooks, pending, post, outage, monkeypatch
):
    try_on, token = pending
    finished(try_on.generation_id)
    monkeypatch.setattr(jobs, "enqueue", lambda *args, **kwargs: None)  # queued, not run
    post(token, payload_of(hooks, try_on.generation_id))
    delivery = WebhookDelivery.objects.get()
    outage()
    countdowns = []

    def retry(**kwargs):
        countdowns.append(kwargs["countdown"])
        raise Retry()

    monkeypatch.setattr(tasks.process_webhook, "retry", retry)
    request = tasks.process_webhook.request
    try:
        for retries in range(5):
            request.retries, request.is_eager = retries, False
            with pytest.raises(Retry):
                tasks.process_webhook.run(delivery.pk)
            delivery.refresh_from_db()
            assert (delivery.outcome, delivery.attempts) == ("pending", retries + 1)
            assert "503" in delivery.error
        request.retries = 5  # the last one
        assert tasks.process_webhook.run(delivery.pk) == "failed"
    finally:
        request.retries, request.is_eager = 0, False
    delivery.refresh_from_db()
    assert (delivery.outcome, delivery.attempts) == ("failed", 6)
    assert len(countdowns) == 5 and all(0 < c <= 60 for c in countdowns)
    assert countdowns[-1] > countdowns[0]


def test_a_sender_retry_of_a_failed_delivery_processes_it_again(hooks, pending, post, outage):
    try_on, token = pending
    finished(try_on.generation_id)
    payload = payload_of(hooks, try_on.generation_id)
    outage()
    post(token, payload)
    hooks.state.set_faults(drop_webhooks=1.0)  # Genlook is back

    response = post(token, payload)

    assert response.status_code == 200 and response.json()["status"] == "duplicate"
    first, second = WebhookDelivery.objects.order_by("pk")
    assert (first.outcome, first.attempts, second.outcome) == ("processed", 2, "duplicate")
    assert TryOn.objects.get(pk=try_on.pk).state == TryOn.State.COMPLETED


def test_a_try_on_not_submitted_yet_is_retried_not_guessed(hooks, pending, post, monkeypatch):
    """Its generation id is unknown here: the payload's must not be taken on trust."""
    try_on, token = pending
    finished(try_on.generation_id)
    generation_id = try_on.generation_id
    TryOn.objects.filter(pk=try_on.pk).update(state=TryOn.State.SUBMITTING, generation_id="")
    monkeypatch.setattr(jobs, "enqueue", lambda *args, **kwargs: None)  # queued, not run
    assert post(token, payload_of(hooks, generation_id)).status_code == 202
    delivery = WebhookDelivery.objects.get()

    with pytest.raises(webhooks.NotReady):
        webhooks.process(delivery.pk, raise_transient=True)
    delivery.refresh_from_db()
    assert (delivery.outcome, delivery.reason) == ("pending", "not_submitted_yet")

    # The submission records its generation; the retry then confirms and ingests it.
    TryOn.objects.filter(pk=try_on.pk).update(
        state=TryOn.State.PENDING, generation_id=generation_id
    )
    assert webhooks.process(delivery.pk, raise_transient=True) == "processed"
    assert TryOn.objects.get(pk=try_on.pk).state == TryOn.State.COMPLETED


def test_not_ready_retries_soon(hooks):
    assert tasks._webhook_countdown(3, webhooks.NotReady()) <= 1.5


def test_rejected_deliveries_are_never_processed(hooks, pending, post):
    try_on, _token = pending
    finished(try_on.generation_id)
    post("x" * 43, payload_of(hooks, try_on.generation_id))
    delivery = WebhookDelivery.objects.get()
    assert webhooks.process(delivery.pk) == "not_processed"
    assert webhooks.mark_for_reprocessing([delivery.pk]) == 0
    assert TryOn.objects.get(pk=try_on.pk).state == TryOn.State.PENDING


def test_a_deleted_try_on_is_ignored(hooks, pending, post, monkeypatch):
    try_on, token = pending
    finished(try_on.generation_id)
    monkeypatch.setattr(jobs, "enqueue", lambda *args, **kwargs: None)  # queued, not run
    post(token, payload_of(hooks, try_on.generation_id))
    TryOn.objects.filter(pk=try_on.pk).delete()
    delivery = WebhookDelivery.objects.get()
    assert webhooks.process(delivery.pk) == "ignored"
    delivery.refresh_from_db()
    assert delivery.reason == "try_on_deleted"


def test_a_broker_error_leaves_the_delivery_pending(hooks, pending, post, monkeypatch):
    try_on, token = pending
    finished(try_on.generation_id)

    def down(*args, **kwargs):
        raise ConnectionError("broker down")

    monkeypatch.setattr(jobs, "enqueue", down)
    assert post(token, payload_of(hooks, try_on.generation_id)).status_code == 202
    assert WebhookDelivery.objects.get().outcome == "pending"


def test_without_confirmation_a_signed_payload_is_trusted(hooks, pending, post, settings):
    settings.GENLOOK = {
        **settings.GENLOOK,
        "WEBHOOK_CONFIRM": False,
        "WEBHOOK_SIGNING_SECRETS": ["whsec_x"],
    }
    try_on, token = pending
    finished(try_on.generation_id)
    gets = hooks.state.count("GET", "/generations/{generationId}")
    body = json.dumps(payload_of(hooks, try_on.generation_id, "v1")).encode()

    response = post(token, body, Genlook_Signature=signature_header(body, "whsec_x"))

    assert response.status_code == 202
    assert hooks.state.count("GET", "/generations/{generationId}") == gets  # no confirmation
    row = TryOn.objects.get(pk=try_on.pk)
    assert row.state == TryOn.State.COMPLETED and row.result_file
    assert row.raw["webhook"]["generationId"] == try_on.generation_id
    assert WebhookDelivery.objects.get().reason == "unconfirmed"


@pytest.mark.parametrize(
    ("error", "retryable"),
    [
        (webhooks.NotReady("no generation id yet"), True),
        (ServerError("boom", status=503), True),
        (RateLimitedError("slow down", status=429), True),
        (TransportError("reset", request_sent=True), True),
        (RateBudgetTimeout("no free slot"), True),
        (PermissionDeniedError("no", status=403), False),
        (NotFoundError("gone", status=404), False),
        (ValueError("a bug"), False),
    ],
)
def test_retryable_is_what_genlook_calls_transient_or_not_ready(error, retryable):
    assert webhooks.is_retryable(error) is retryable
