"""With a Celery worker: /try-on/sync in the task, the poll task on a 202, and the one
idempotent ingestion function every path goes through."""

from __future__ import annotations

import pytest
from celery.exceptions import Retry
from django.utils import timezone

from genlook_django import jobs, tasks
from genlook_django.models import TryOn
from genlook_django.services import files
from genlook_django.services.genlook import get_client
from genlook_django.services.tryons import results, submission, uploads
from genlook_django.signals import tryon_completed
from tests.support.storefront import start

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def received(storefront, shopper, product, person_photo, submissions_held):
    """A try-on recorded by the web request, its submission not run yet (as when a worker
    will pick it up)."""
    response = start(shopper, product, person_photo)
    assert response.json()["status"] == "received"
    return TryOn.objects.get()


@pytest.fixture
def completions():
    seen = []

    def receiver(sender, try_on, **kwargs):
        seen.append(try_on.pk)

    tryon_completed.connect(receiver)
    yield seen
    tryon_completed.disconnect(receiver)


def test_the_worker_waits_with_try_on_sync(storefront, received, completions):
    outcome = submission.submit_try_on(received.pk, wait=True)

    assert outcome == "done"
    row = TryOn.objects.get()
    assert row.state == TryOn.State.COMPLETED
    assert storefront.state.count("POST", "/try-on/sync") == 1
    assert storefront.state.count("GET", "/generations/{generationId}") == 0  # no polling
    assert completions == [row.pk]


def test_a_202_hands_over_to_polling(storefront, received, completions):
    storefront.state.configure(sync_wait_seconds=0.01)

    assert submission.submit_try_on(received.pk, wait=True) == "poll"
    row = TryOn.objects.get()
    assert row.state == TryOn.State.PENDING and row.generation_id

    client = get_client()
    client.wait_for_generation(row.generation_id, timeout=5, interval=0.05)
    row = results.poll_once(row, client=client)
    assert row.state == TryOn.State.COMPLETED
    assert completions == [row.pk]


def test_the_poll_task_retries_with_backoff_until_the_result(storefront, received, monkeypatch):
    storefront.state.configure(sync_wait_seconds=0.01, generation_seconds=5)
    submission.submit_try_on(received.pk, wait=True)
    countdowns = []

    def retry(**kwargs):
        countdowns.append(kwargs["countdown"])
        raise Retry()

    monkeypatch.setattr(tasks.poll_try_on, "retry", retry)
    request = tasks.poll_try_on.request
    for retries in range(3):
        request.retries, request.is_eager = retries, False
        with pytest.raises(Retry):
            tasks.poll_try_on.run(received.pk)
    assert countdowns == [2.0, 3.0, 4.5]


def test_a_redelivered_submission_is_not_sent_twice(storefront, received):
    # A worker died after the create left.
    TryOn.objects.update(state=TryOn.State.SUBMITTING, create_sent_at=timezone.now())

    assert submission.submit_try_on(received.pk, wait=True) == "done"

    row = TryOn.objects.get()
    assert (row.state, row.error_code) == (TryOn.State.FAILED, "SUBMISSION_INTERRUPTED")
    assert storefront.state.count("POST", "/try-on/sync") == 0


def test_a_submission_interrupted_before_its_create_goes_on(storefront, received):
    TryOn.objects.update(state=TryOn.State.SUBMITTING)  # a worker died while uploading

    assert submission.submit_try_on(received.pk, wait=True) == "done"

    row = TryOn.objects.get()
    assert row.state == TryOn.State.COMPLETED and row.create_sent_at
    assert storefront.state.count("POST", "/try-on/sync") == 1


def test_only_one_of_two_live_deliveries_sends_the_create(
    storefront, received, monkeypatch, settings
):
    """Two deliveries of the same task at once (a broker redelivering to a second worker
    while the first lives on): both may upload, only one creates, and the other leaves the
    first one's webhook URL alone."""
    settings.GENLOOK = {
        **settings.GENLOOK,
        "WEBHOOKS": True,
        "PUBLIC_BASE_URL": "https://shop.example",
    }
    TryOn.objects.update(state=TryOn.State.SUBMITTING, webhook_token_hash="the-first-ones")
    real_upload = uploads.ensure_uploaded

    def the_first_one_marks_it_meanwhile(photo, client, **kwargs):
        image_id = real_upload(photo, client, **kwargs)
        TryOn.objects.update(create_sent_at=timezone.now())  # and sends its create
        return image_id

    monkeypatch.setattr(uploads, "ensure_uploaded", the_first_one_marks_it_meanwhile)

    assert submission.submit_try_on(received.pk, wait=True) == "elsewhere"

    row = TryOn.objects.get()
    assert row.state == TryOn.State.SUBMITTING  # left to the first one
    assert row.webhook_token_hash == "the-first-ones"  # whose webhook URL still works
    assert storefront.state.count("POST", "/try-on/sync") == 0


def test_a_transient_failure_clears_the_create_mark_for_the_retry(storefront, received):
    storefront.state.set_faults(error_rates={429: 1.0})
    with pytest.raises(Exception):  # noqa: B017  (the client's RateLimitedError)
        submission.submit_try_on(
            received.pk, wait=True, client=get_client(max_retries=0), raise_transient=True
        )
    row = TryOn.objects.get()
    assert (row.state, row.create_sent_at) == (TryOn.State.RECEIVED, None)


def test_a_transient_failure_goes_back_for_a_celery_retry(storefront, received):
    storefront.state.set_faults(error_rates={503: 1.0})

    with pytest.raises(Exception) as caught:
        submission.submit_try_on(
            received.pk, wait=True, client=get_client(max_retries=0), raise_transient=True
        )

    assert caught.value.is_transient
    assert TryOn.objects.get().state == TryOn.State.RECEIVED  # ready to be sent again
    storefront.state.clear_faults()
    assert submission.submit_try_on(received.pk, wait=True) == "done"
    assert TryOn.objects.get().state == TryOn.State.COMPLETED


def test_ingestion_is_idempotent(storefront, received, completions):
    storefront.state.configure(sync_wait_seconds=0.01)
    submission.submit_try_on(received.pk, wait=True)
    row = TryOn.objects.get()
    client = get_client()
    generation = client.wait_for_generation(row.generation_id, timeout=5, interval=0.05)

    first = results.ingest(row, generation)
    second = results.ingest(row, generation)  # a webhook, a second poll, a retry...
    third = results.ingest(TryOn.objects.get(generation_id=generation.id), generation)

    assert first.result_file == second.result_file == third.result_file
    assert completions == [row.pk]
    stored = files.results_storage().listdir("genlook/results")[1]
    assert stored == [first.result_file.rsplit("/", 1)[-1]]  # one file, no duplicates


def test_a_deleted_try_on_is_left_alone(storefront, received):
    storefront.state.configure(sync_wait_seconds=0.01)
    submission.submit_try_on(received.pk, wait=True)
    row = TryOn.objects.get()
    generation = get_client().wait_for_generation(row.generation_id, timeout=5, interval=0.05)
    row.delete()

    assert results.ingest(row, generation).state == TryOn.State.PENDING  # nothing recorded
    assert not files.results_storage().exists("genlook/results")


def test_the_worker_task_hands_a_202_to_the_poll_task(storefront, received, monkeypatch):
    storefront.state.configure(sync_wait_seconds=0.01)
    scheduled = []
    monkeypatch.setattr(
        jobs, "enqueue", lambda name, *args, countdown: scheduled.append((name, args, countdown))
    )
    tasks.submit_try_on.push_request(is_eager=False, retries=0)
    try:
        assert tasks.submit_try_on.run(received.pk) == "poll"
    finally:
        tasks.submit_try_on.pop_request()

    assert scheduled == [("genlook.poll_try_on", (received.pk,), 2.0)]
    assert storefront.state.count("POST", "/try-on/sync") == 1  # a worker waits with sync
