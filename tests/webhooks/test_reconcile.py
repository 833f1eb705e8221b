"""The reconciler: forgotten try-ons are polled, and nothing stays open forever."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from genlook_django import tasks
from genlook_django.models import TryOn
from genlook_django.services.tryons import reconcile
from genlook_django.signals import tryon_failed
from tests.support.storefront import hold_submissions, start
from tests.support.webhooks import finished

pytestmark = pytest.mark.django_db(transaction=True)

State = TryOn.State
GETS = "/generations/{generationId}"


def age(try_on: TryOn, *, received: float = 0, checked: float | None = None) -> None:
    """Move a try-on's clocks back by so many seconds."""
    now = timezone.now()
    fields = {"created_at": now - timedelta(seconds=received)}
    if try_on.submitted_at:
        fields["submitted_at"] = now - timedelta(seconds=received)
    fields["last_checked_at"] = None if checked is None else now - timedelta(seconds=checked)
    TryOn.objects.filter(pk=try_on.pk).update(**fields)


def state(try_on: TryOn) -> tuple[str, str]:
    row = TryOn.objects.get(pk=try_on.pk)
    return row.state, row.error_code


@pytest.fixture
def received(hooks, shopper, product, person_photo, monkeypatch):
    """A try-on whose submission never ran (a lost task)."""

    def make() -> TryOn:
        with monkeypatch.context() as patch:
            hold_submissions(patch)
            response = start(shopper, product, person_photo)
        return TryOn.objects.get(public_id=response.json()["id"])

    return make


def test_a_forgotten_pending_try_on_is_polled_and_completed(hooks, pending):
    try_on, _token = pending
    finished(try_on.generation_id)  # its webhook was dropped
    age(try_on, received=200, checked=150)
    gets = hooks.state.count("GET", GETS)

    report = reconcile.reconcile()

    assert state(try_on) == (State.COMPLETED, "")
    assert hooks.state.count("GET", GETS) == gets + 1
    assert (report.checked, report.completed, report.given_up) == (1, 1, 0)


def test_recently_checked_try_ons_are_left_to_whoever_checks_them(hooks, pending):
    try_on, _token = pending
    finished(try_on.generation_id)
    age(try_on, received=200, checked=30)  # the poll task asked 30 s ago
    gets = hooks.state.count("GET", GETS)

    report = reconcile.reconcile()

    assert report.checked == 0 and state(try_on)[0] == State.PENDING
    assert hooks.state.count("GET", GETS) == gets


def test_a_try_on_still_running_stays_pending(hooks, submit):
    hooks.state.configure(generation_seconds=30)
    try_on, _token = submit()
    age(try_on, received=200, checked=150)

    report = reconcile.reconcile()

    assert (report.checked, report.still_pending) == (1, 1)
    row = TryOn.objects.get(pk=try_on.pk)
    assert row.state == State.PENDING and row.checks == 1


def test_past_result_timeout_a_running_try_on_is_given_up(hooks, submit, settings):
    hooks.state.configure(generation_seconds=30)
    try_on, _token = submit()
    age(try_on, received=700, checked=150)  # RESULT_TIMEOUT is 600 s
    failures = []
    tryon_failed.connect(
        receiver := lambda sender, try_on, error_code, **kw: failures.append(error_code)
    )
    try:
        report = reconcile.reconcile()
    finally:
        tryon_failed.disconnect(receiver)

    assert state(try_on) == (State.FAILED, "TIMED_OUT")
    assert report.given_up == 1 and failures == ["TIMED_OUT"]


def test_past_the_max_age_a_finished_generation_is_still_recorded(hooks, pending):
    try_on, _token = pending
    finished(try_on.generation_id)
    age(try_on, received=4000, checked=5)  # even if checked a moment ago

    report = reconcile.reconcile()

    assert state(try_on) == (State.COMPLETED, "")
    assert report.given_up == 0


def test_past_the_max_age_every_open_try_on_fails_with_a_reason(hooks, received, settings):
    settings.GENLOOK = {**settings.GENLOOK, "RECONCILE_MAX_AGE": 1800}
    never_sent = received()
    stuck_before_its_create = received()
    interrupted = received()
    young = received()
    TryOn.objects.filter(pk=stuck_before_its_create.pk).update(state=State.SUBMITTING)
    TryOn.objects.filter(pk=interrupted.pk).update(
        state=State.SUBMITTING, create_sent_at=timezone.now()
    )
    for stale in (never_sent, stuck_before_its_create, interrupted):
        age(stale, received=1801)
    age(young, received=1700)

    report = reconcile.reconcile()

    assert state(never_sent) == (State.FAILED, "TIMED_OUT")
    assert "Never submitted" in TryOn.objects.get(pk=never_sent.pk).error_message
    assert state(stuck_before_its_create) == (State.FAILED, "TIMED_OUT")
    assert state(interrupted) == (State.FAILED, "SUBMISSION_INTERRUPTED")
    assert state(young) == (State.RECEIVED, "")  # its submission may still run
    assert report.given_up == 3
    assert hooks.state.count("POST", "/try-on") == 0  # never submitted again


def test_a_generation_genlook_lost_fails_the_try_on(hooks, pending):
    try_on, _token = pending
    TryOn.objects.filter(pk=try_on.pk).update(generation_id="cmGoneFromGenlook")
    age(try_on, received=200, checked=150)

    report = reconcile.reconcile()

    assert state(try_on) == (State.FAILED, "GENERATION_LOST")
    assert report.failed == 1


def test_genlook_down_leaves_try_ons_for_the_next_run(hooks, pending):
    try_on, _token = pending
    age(try_on, received=200, checked=150)
    hooks.state.set_faults(error_rates={503: 1.0})

    report = reconcile.reconcile()

    assert report.errors == 1 and state(try_on)[0] == State.PENDING


def test_the_limit_bounds_a_run(hooks, submit):
    rows = [submit()[0] for _ in range(3)]
    for row in rows:
        finished(row.generation_id)
        age(row, received=200, checked=150)
    assert reconcile.reconcile(limit=2).checked == 2
    assert reconcile.reconcile(limit=2).checked == 1


def test_the_task_and_the_command(hooks, pending):
    try_on, _token = pending
    finished(try_on.generation_id)
    age(try_on, received=200, checked=150)

    out = StringIO()
    call_command("genlook_reconcile", "--dry-run", stdout=out)
    assert "1 pending try-ons unchecked for 120s" in out.getvalue()
    assert state(try_on)[0] == State.PENDING

    out = StringIO()
    call_command("genlook_reconcile", stdout=out)
    assert "Reconciled try-ons: 1 checked: 1 completed" in out.getvalue()

    # .apply().result: eager tasks run from threads elsewhere in the suite leave Celery
    # believing it runs inside a task, where .get() refuses to wait.
    nothing = {
        "checked": 0,
        "completed": 0,
        "failed": 0,
        "still_pending": 0,
        "given_up": 0,
        "errors": 0,
    }
    assert tasks.reconcile_try_ons.apply().result == {**nothing, "batch_items": nothing}
