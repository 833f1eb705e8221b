"""A Genlook outage in the middle of a classic-API batch (the sandbox's fault injection):
the items Genlook already took are polled, the task's last attempt fails the items left,
and the job ends."""

from __future__ import annotations

import time

import pytest

from genlook_django import jobs, tasks
from genlook_django.client import GenlookError
from genlook_django.models import BatchItem, BatchJob
from genlook_django.services import batches
from tests.support.dialects import speak

pytestmark = pytest.mark.django_db(transaction=True)

State = BatchItem.State


@pytest.fixture
def classic(settings, storefront, live_server):
    # Two items per request, and no client retry: each request meets its fault once.
    speak(settings, storefront, live_server, "classic", CLASSIC_BATCH_SIZE=2, MAX_RETRIES=0)


@pytest.fixture
def handed(monkeypatch):
    """The tasks enqueued, as (name, args), instead of being sent to a broker."""
    sent: list[tuple] = []
    monkeypatch.setattr(jobs, "enqueue", lambda name, *args, **kw: sent.append((name, args)))
    return sent


def polls(handed: list[tuple]) -> list[int]:
    return [args[0] for name, args in handed if name == "genlook.poll_batch_item"]


def run_start_batch(job_id: int, *, retries: int = 0) -> int:
    """``start_batch`` as a worker runs it, on its ``retries``-th retry."""
    tasks.start_batch.push_request(retries=retries)
    try:
        return tasks.start_batch.run(job_id)
    finally:
        tasks.start_batch.pop_request()


def poll_until_final(item_ids: list[int], timeout: float = 20.0) -> None:
    """Run the poll tasks handed over (one check per call) until their items are final."""
    deadline = time.monotonic() + timeout
    for item_id in item_ids:
        while tasks.poll_batch_item.apply(args=[item_id]).get() == State.PENDING:
            assert time.monotonic() < deadline, BatchItem.objects.get(pk=item_id).state
            time.sleep(0.1)


def test_an_outage_after_the_first_request_still_polls_what_genlook_took(
    classic, storefront, products, person_photo, handed
):
    job = batches.create_job(photos_in=[("a.png", person_photo)], products=products)
    batches.mark_running(job)
    # Every second request refused with a 503: the first batch goes through, not the second.
    storefront.state.set_faults(error_rates={503: 0.5}, mode="even")
    with pytest.raises(GenlookError) as raised:
        run_start_batch(job.pk)
    assert raised.value.status == 503
    assert storefront.state.count("POST", "/v1/try-on/batch", status=201) == 1
    assert storefront.state.count("POST", "/v1/try-on/batch", status=503) == 1
    pending = set(job.items.filter(state=State.PENDING).values_list("pk", flat=True))
    assert len(pending) == 2
    assert set(polls(handed)) == pending  # charged for: polled although the task retries
    assert job.items.filter(state=State.QUEUED).count() == 1  # for the retry


def test_the_last_attempt_fails_the_items_left_and_the_job_ends(
    classic, storefront, products, person_photo, handed
):
    job = batches.create_job(photos_in=[("a.png", person_photo)], products=products)
    batches.mark_running(job)
    storefront.state.set_faults(error_rates={503: 0.5}, mode="even")
    with pytest.raises(GenlookError):
        run_start_batch(job.pk)
    storefront.state.set_faults(error_rates={503: 1.0})  # still down at the last retry
    assert run_start_batch(job.pk, retries=tasks.start_batch.max_retries) == 0
    failed = job.items.get(state=State.FAILED)
    assert failed.error_code == "SERVICE_UNAVAILABLE"
    assert not job.items.filter(state__in=[State.QUEUED, State.SUBMITTING]).exists()

    storefront.state.clear_faults()
    poll_until_final(polls(handed))
    job.refresh_from_db()
    assert job.state == BatchJob.State.DONE
    progress = batches.progress(job)
    assert (progress.total, progress.completed, progress.failed) == (3, 2, 1)
    assert storefront.state.count("POST", "/v1/try-on/batch", status=201) == 1


def test_an_earlier_retry_puts_the_items_back_for_the_next(
    classic, storefront, products, person_photo, handed
):
    job = batches.create_job(photos_in=[("a.png", person_photo)], products=products)
    batches.mark_running(job)
    storefront.state.set_faults(error_rates={503: 1.0})
    with pytest.raises(GenlookError):
        run_start_batch(job.pk, retries=tasks.start_batch.max_retries - 1)
    assert job.items.filter(state=State.QUEUED).count() == 3
    storefront.state.clear_faults()
    assert run_start_batch(job.pk, retries=tasks.start_batch.max_retries) == 3
    assert len(polls(handed)) == 3
