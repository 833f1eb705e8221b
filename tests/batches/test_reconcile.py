"""The reconciler and batch items: a lost poll task or a lost submission never leaves a
batch job open forever. Started eagerly, a job's items end pending with nobody polling
them (no worker, no admin page open): exactly what a lost poll task leaves behind."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from genlook_django import tasks
from genlook_django.models import BatchItem, BatchJob
from genlook_django.services import batches
from genlook_django.services.genlook import get_client
from genlook_django.services.tryons import reconcile
from tests.support.dialects import DIALECTS, speak
from tests.support.webhooks import finished

pytestmark = pytest.mark.django_db(transaction=True)

State = BatchItem.State


@pytest.fixture
def dialect(request, settings, storefront, live_server):
    speak(settings, storefront, live_server, request.param)
    return request.param


@pytest.fixture
def unpolled(storefront, products, person_photo, django_capture_on_commit_callbacks):
    """A started job whose items Genlook accepted and nobody polls; their generations done."""

    def make() -> BatchJob:
        job = batches.create_job(photos_in=[("front.png", person_photo)], products=products)
        with django_capture_on_commit_callbacks(execute=True):
            batches.start(job)
        items = list(job.items.all())
        assert {item.state for item in items} == {State.PENDING}
        for item in items:
            finished(item.generation_id)
        return job

    return make


def ago(seconds: float | None):
    return None if seconds is None else timezone.now() - timedelta(seconds=seconds)


def age(job: BatchJob, *, started: float, checked: float | None = None, **items) -> None:
    """Move a job's clocks (and its items') back by so many seconds."""
    BatchJob.objects.filter(pk=job.pk).update(created_at=ago(started), started_at=ago(started))
    rows = job.items.all()
    rows.exclude(submitted_at=None).update(submitted_at=ago(started))
    rows.update(last_checked_at=ago(checked), **items)


def outcomes(job: BatchJob) -> list[tuple[str, str]]:
    return list(job.items.order_by("pk").values_list("state", "error_code"))


def job_state(job: BatchJob) -> str:
    return BatchJob.objects.get(pk=job.pk).state


@pytest.mark.parametrize("dialect", DIALECTS, indirect=True)
def test_items_whose_poll_task_was_lost_are_completed_and_their_job_finishes(
    dialect, storefront, unpolled
):
    job = unpolled()
    age(job, started=200, checked=150)
    gets = storefront.state.count("GET")

    report = reconcile.reconcile()

    assert outcomes(job) == [(State.COMPLETED, "")] * 3
    assert job.items.exclude(result_file="").count() == 3
    assert job_state(job) == BatchJob.State.DONE
    assert storefront.state.count("GET") - gets >= 3  # each asked about once (+ its image)
    assert (report.batch_items.checked, report.batch_items.completed) == (3, 3)
    assert report.try_ons.checked == 0


def test_a_recently_checked_item_is_not_polled(storefront, unpolled):
    job = unpolled()
    age(job, started=200, checked=30)  # its poll task asked 30 s ago
    gets = storefront.state.count("GET")

    report = reconcile.reconcile()

    assert report.batch_items.checked == 0
    assert storefront.state.count("GET") == gets
    assert {state for state, _code in outcomes(job)} == {State.PENDING}
    assert job_state(job) == BatchJob.State.RUNNING


class SecondRunWhileAsking:
    """A client whose first question to Genlook waits for another whole reconciler run:
    two runs overlapping, deterministically."""

    def __init__(self, client) -> None:
        self.client = client
        self.second_run: reconcile.ReconcileReport | None = None

    def get_generation(self, generation_id: str):
        if self.second_run is None:  # the second run asks with the plain client: no nesting
            self.second_run = reconcile.reconcile(client=self.client)
        return self.client.get_generation(generation_id)

    def __getattr__(self, name: str):
        return getattr(self.client, name)


def test_two_overlapping_runs_poll_each_item_once(storefront, unpolled):
    job = unpolled()
    age(job, started=200, checked=150)
    gets = storefront.state.count("GET", "/generations/{generationId}")
    client = SecondRunWhileAsking(get_client())

    first_run = reconcile.reconcile(client=client)

    # The second run took the two items the first had not claimed yet; the first skipped them.
    assert client.second_run is not None
    assert (first_run.batch_items.checked, client.second_run.batch_items.checked) == (1, 2)
    assert storefront.state.count("GET", "/generations/{generationId}") == gets + 3
    assert outcomes(job) == [(State.COMPLETED, "")] * 3
    assert job_state(job) == BatchJob.State.DONE


@pytest.fixture
def stuck(products, person_photo):
    """A job whose items were never sent (created, their tasks lost)."""
    return batches.create_job(photos_in=[("front.png", person_photo)], products=products)


@pytest.mark.parametrize("dialect", DIALECTS, indirect=True)
def test_items_stuck_past_the_max_age_fail_with_a_reason_and_their_job_ends(
    dialect, storefront, settings, stuck
):
    settings.GENLOOK = {**settings.GENLOOK, "RECONCILE_MAX_AGE": 1800}
    interrupted, never_sent, _queued = stuck.items.order_by("pk")
    age(stuck, started=1801)
    BatchItem.objects.filter(pk=interrupted.pk).update(
        state=State.SUBMITTING, create_sent_at=ago(1801)
    )
    BatchItem.objects.filter(pk=never_sent.pk).update(state=State.SUBMITTING)

    report = reconcile.reconcile()

    assert outcomes(stuck) == [
        (State.FAILED, "SUBMISSION_INTERRUPTED"),
        (State.FAILED, "TIMED_OUT"),
        (State.FAILED, "TIMED_OUT"),
    ]
    assert "Never submitted" in BatchItem.objects.get(pk=never_sent.pk).error_message
    assert report.batch_items.given_up == 3
    assert job_state(stuck) == BatchJob.State.DONE
    # Nothing is ever sent again, in either dialect.
    assert storefront.state.count("POST", "/try-on") == 0
    assert storefront.state.count("POST", "/v1/try-on/batch") == 0


def test_items_of_a_job_still_sending_are_left_waiting(storefront, settings, stuck):
    """A large job moving through the request budget: its queued items are not lost."""
    settings.GENLOOK = {**settings.GENLOOK, "RECONCILE_MAX_AGE": 1800}
    sending, *waiting = stuck.items.order_by("pk")
    age(stuck, started=4000)
    BatchItem.objects.filter(pk=sending.pk).update(state=State.SUBMITTING, create_sent_at=ago(60))

    report = reconcile.reconcile()

    assert report.batch_items.given_up == 0
    assert outcomes(stuck) == [(State.SUBMITTING, "")] + [(State.QUEUED, "")] * len(waiting)
    assert job_state(stuck) == BatchJob.State.QUEUED


def test_the_command_and_the_task_count_batch_items(storefront, unpolled):
    job = unpolled()
    age(job, started=200, checked=150)

    out = StringIO()
    call_command("genlook_reconcile", "--dry-run", stdout=out)
    assert "3 pending batch items unchecked for 120s would be polled" in out.getvalue()

    out = StringIO()
    call_command("genlook_reconcile", "--limit", "2", stdout=out)
    assert "Reconciled try-ons: 0 checked" in out.getvalue()
    assert "Reconciled batch items: 2 checked: 2 completed" in out.getvalue()

    assert tasks.reconcile_try_ons.apply().result["batch_items"]["completed"] == 1
    assert job_state(job) == BatchJob.State.DONE
