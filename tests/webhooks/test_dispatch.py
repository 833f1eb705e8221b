"""Handing accepted deliveries to the task queue: combined under a burst, never lost or twice."""

from __future__ import annotations

import threading
import time

import pytest

from genlook_django import jobs, tasks
from genlook_django.models import TryOn, WebhookDelivery
from genlook_django.services import webhooks
from genlook_django.services.webhooks.dispatch import Dispatcher, publish
from tests.support.webhooks import finished, payload_of

pytestmark = pytest.mark.django_db(transaction=True)


class Recorder:
    """A publish that takes a while, as a broker round trip does."""

    def __init__(self, seconds: float = 0.0, fail_first: bool = False) -> None:
        self.seconds = seconds
        self.fail_first = fail_first
        self.messages: list[list[int]] = []
        self.lock = threading.Lock()

    def __call__(self, delivery_ids: list[int]) -> None:
        time.sleep(self.seconds)
        with self.lock:
            self.messages.append(list(delivery_ids))
            if self.fail_first and len(self.messages) == 1:
                raise ConnectionError("broker down")

    @property
    def published(self) -> list[int]:
        return sorted(pk for message in self.messages for pk in message)


def burst(dispatcher: Dispatcher, count: int) -> None:
    start = threading.Barrier(count)

    def add(pk: int) -> None:
        start.wait()
        dispatcher.add(pk)

    threads = [threading.Thread(target=add, args=(pk,)) for pk in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)


def test_alone_a_delivery_is_published_at_once_in_its_own_message():
    recorder = Recorder()
    dispatcher = Dispatcher(recorder)
    dispatcher.add(7)
    dispatcher.add(8)
    assert recorder.messages == [[7], [8]]


def test_a_burst_is_published_in_fewer_messages_each_delivery_once():
    recorder = Recorder(seconds=0.02)
    dispatcher = Dispatcher(recorder)
    burst(dispatcher, 40)
    assert recorder.published == list(range(40))  # every one, exactly once
    assert len(recorder.messages) < 40  # combined while a publish was under way
    assert dispatcher._take() == []  # nothing left waiting


def test_a_failed_publish_is_logged_and_the_next_ones_still_go(caplog):
    recorder = Recorder(fail_first=True)
    dispatcher = Dispatcher(recorder)
    dispatcher.add(1)
    dispatcher.add(2)
    assert recorder.messages == [[1], [2]]
    assert "Could not enqueue webhook deliveries [1]" in caplog.text


@pytest.fixture
def two_pending(hooks, submit, post, monkeypatch):
    """Two accepted deliveries of two finished generations, left pending (not published)."""
    rows = []
    for _ in range(2):
        try_on, token = submit()
        finished(try_on.generation_id)
        with monkeypatch.context() as patch:
            patch.setattr(jobs, "enqueue", lambda *args, **kwargs: None)  # queued, not run
            assert post(token, payload_of(hooks, try_on.generation_id)).status_code == 202
        rows.append(try_on)
    deliveries = list(WebhookDelivery.objects.order_by("pk").values_list("pk", flat=True))
    assert WebhookDelivery.objects.filter(outcome="pending").count() == 2
    return rows, deliveries


def test_several_deliveries_in_one_message_are_each_processed(two_pending):
    rows, deliveries = two_pending
    # As a worker runs it (not eager: the client waits for the shared request budget, which
    # the eager one gives up on after 2 s, and other tests of this process use it too).
    outcomes = tasks.process_webhooks.run(deliveries)
    assert outcomes == {pk: "processed" for pk in deliveries}
    assert {TryOn.objects.get(pk=row.pk).state for row in rows} == {TryOn.State.COMPLETED}


def test_a_transient_failure_in_a_message_goes_on_alone_with_retries(two_pending, monkeypatch):
    _rows, (first, second) = two_pending
    deliveries = [first, second]
    real_process = webhooks.process
    retried = []

    def process(delivery_id, **kwargs):
        if delivery_id == first:
            raise webhooks.NotReady("not recorded yet")
        return real_process(delivery_id, **kwargs)

    # NotReady for one delivery of a message: no state of the data makes just one wait.
    monkeypatch.setattr(webhooks, "process", process)
    monkeypatch.setattr(jobs, "enqueue", lambda *args, **kwargs: retried.append((args, kwargs)))
    outcomes = tasks.process_webhooks.run(deliveries)  # as a worker runs it (not eager)
    assert outcomes == {first: "pending", second: "processed"}
    assert len(retried) == 1
    args, options = retried[0]
    assert args == ("genlook.process_webhook", first)
    assert options["retries"] == 1 and options["countdown"] > 0


def test_with_a_worker_deliveries_are_published_by_name(monkeypatch):
    sent = []
    app = jobs.celery_app()
    monkeypatch.setattr(app, "send_task", lambda name, args: sent.append((name, args)))
    eager = app.conf.task_always_eager
    app.conf.task_always_eager = False  # a project whose worker runs the tasks
    try:
        publish([5])
        publish([6, 7])
    finally:
        app.conf.task_always_eager = eager
    assert sent == [("genlook.process_webhook", (5,)), ("genlook.process_webhooks", ([6, 7],))]
