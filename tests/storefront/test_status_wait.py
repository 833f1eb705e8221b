"""GET /tryons/{id}/?wait=<seconds>: the answer is held until the try-on's status changes
(announced through the cache, or seen in the database), bounded by STATUS_WAIT_MAX, for
its owner only; with poll-through the wait still checks with Genlook at its interval."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection
from django.urls import reverse

from genlook_django.models import TryOn
from genlook_django.services.tryons import status_wait, submission
from tests.support.storefront import start

pytestmark = pytest.mark.django_db(transaction=True)


def detail(public_id) -> str:
    return reverse("genlook:tryon-detail", kwargs={"public_id": public_id})


@pytest.fixture
def with_worker(settings):
    """As with a Celery worker: the status view only reads (no poll-through)."""
    settings.GENLOOK = {**settings.GENLOOK, "STATUS_POLL_THROUGH": False}


@pytest.fixture
def received(storefront, shopper, product, person_photo, submissions_held, sqlite_waits_for_locks):
    """A try-on whose submission a (simulated) worker will make, from a thread of its own
    while the status request reads: both wait for SQLite's table locks, as a file database
    or PostgreSQL would, instead of failing at once."""
    response = start(shopper, product, person_photo)
    assert response.status_code == 202
    return TryOn.objects.get()


def submit_later(pk: int, delay: float) -> threading.Thread:
    def work() -> None:
        try:
            time.sleep(delay)
            submission.submit_try_on(pk, wait=True)
        finally:
            connection.close()

    thread = threading.Thread(target=work)
    thread.start()
    return thread


def test_a_waiting_request_answers_as_soon_as_the_result_is_stored(
    storefront, with_worker, shopper, received
):
    worker = submit_later(received.pk, 0.2)
    started = time.monotonic()
    response = shopper.get(detail(received.public_id), {"wait": "8"})
    elapsed = time.monotonic() - started
    worker.join()

    assert response.status_code == 200
    body = response.json()
    # The submission (held by /try-on/sync) leaves "received" for "submitting" and then
    # straight to completed: the first change ends the wait.
    assert body["status"] in ("submitting", "pending", "completed")
    assert elapsed < 4
    assert response["Server-Timing"].startswith("wait;dur=")
    while body["poll_after_ms"] is not None:
        assert body["poll_after_ms"] == 0  # it waited: ask again at once
        response = shopper.get(detail(received.public_id), {"wait": "8"})
        body = response.json()
    assert body["status"] == "completed"
    assert time.monotonic() - started < 6


def test_a_wait_without_change_ends_at_its_time(storefront, with_worker, shopper, received):
    started = time.monotonic()
    response = shopper.get(detail(received.public_id), {"wait": "0.4"})
    elapsed = time.monotonic() - started

    body = response.json()
    assert body["status"] == "received" and body["poll_after_ms"] == 0
    assert 0.35 <= elapsed < 2.5
    waited = float(response["Server-Timing"].split("dur=")[1])
    assert 350 <= waited < 2500


def test_the_wait_is_bounded_by_the_setting(storefront, with_worker, shopper, received, settings):
    settings.GENLOOK = {**settings.GENLOOK, "STATUS_WAIT_MAX": 0.3}
    started = time.monotonic()
    response = shopper.get(detail(received.public_id), {"wait": "600"})
    assert response.status_code == 200
    assert time.monotonic() - started < 2.3


@pytest.mark.parametrize("value", ["", "abc", "-3", "nan", "0"])
def test_no_wait_answers_at_once_as_before(storefront, with_worker, shopper, received, value):
    started = time.monotonic()
    response = shopper.get(detail(received.public_id), {"wait": value})
    assert time.monotonic() - started < 1.0
    assert response.json()["poll_after_ms"] == 50  # WIDGET_POLL_MS of the tests
    assert "Server-Timing" not in response


def test_waits_off(storefront, with_worker, shopper, received, settings):
    settings.GENLOOK = {**settings.GENLOOK, "STATUS_WAIT_MAX": 0}
    started = time.monotonic()
    response = shopper.get(detail(received.public_id), {"wait": "5"})
    assert time.monotonic() - started < 1.0
    assert response.json()["poll_after_ms"] == 50


def test_only_the_owner_may_wait(storefront, with_worker, other_shopper, received):
    started = time.monotonic()
    response = other_shopper.get(detail(received.public_id), {"wait": "5"})
    assert response.status_code == 404
    assert time.monotonic() - started < 1.0


def test_the_database_is_the_fallback_for_an_unshared_cache(
    storefront, with_worker, shopper, received, settings
):
    """No announcement reaches this process (each gunicorn worker with its own LocMem):
    the change is seen at the next database read."""
    settings.GENLOOK = {**settings.GENLOOK, "STATUS_WAIT_DB_INTERVAL": 0.2}
    # A cache that keeps nothing: every announcement is lost, as in another process's LocMem.
    settings.CACHES = {
        **settings.CACHES,
        "nowhere": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"},
    }
    settings.GENLOOK = {**settings.GENLOOK, "STATUS_WAIT_CACHE": "nowhere"}
    worker = submit_later(received.pk, 0.1)
    started = time.monotonic()
    body = shopper.get(detail(received.public_id), {"wait": "8"}).json()
    worker.join()
    assert body["status"] != "received"
    assert time.monotonic() - started < 4


def test_erased_while_waiting(storefront, with_worker, shopper, received):
    def erase() -> None:
        try:
            time.sleep(0.2)
            TryOn.objects.filter(pk=received.pk).delete()
            status_wait.notify(received.pk)
        finally:
            connection.close()

    thread = threading.Thread(target=erase)
    thread.start()
    response = shopper.get(detail(received.public_id), {"wait": "5"})
    thread.join()
    assert response.status_code == 404


def test_poll_through_goes_on_during_a_wait(storefront, shopper, product, person_photo, settings):
    """No worker: the status view asks Genlook itself; a waiting request makes those
    checks at STATUS_POLL_INTERVAL, so one request can see the result."""
    settings.GENLOOK = {**settings.GENLOOK, "STATUS_POLL_INTERVAL": 0.2}
    storefront.state.configure(generation_seconds=0.8)
    body = start(shopper, product, person_photo).json()
    assert body["status"] == "pending"
    before = storefront.state.count("GET", "/generations/{generationId}")
    started = time.monotonic()
    response = shopper.get(detail(body["id"]), {"wait": "8"})
    elapsed = time.monotonic() - started

    assert response.json()["status"] == "completed"
    assert elapsed < 4
    checks = storefront.state.count("GET", "/generations/{generationId}") - before
    assert 1 <= checks <= elapsed / 0.2 + 2  # at its interval, no more


def test_the_widget_asks_to_wait(storefront, product, rf):
    from django.template import Context, Template

    request = rf.get("/")
    html = Template("{% load genlook %}{% genlook_tryon_button product %}").render(
        Context({"product": product, "request": request})
    )
    assert 'data-status-wait="10"' in html


def test_a_change_announced_before_the_waiter_registers_still_wakes_it(storefront):
    """The watcher reads the waited try-ons' versions in full for a new waiter, even when
    the any-change key has not moved since its last look."""
    other = status_wait.current_version(999_001)
    assert not status_wait.wait_for_change(999_001, other, 0.1)  # the watcher has looked
    seen = status_wait.current_version(999_002)
    status_wait.notify(999_002)  # before the wait starts
    started = time.monotonic()
    assert status_wait.wait_for_change(999_002, seen, 3.0)
    assert time.monotonic() - started < 1.0


def test_the_watcher_reads_one_key_while_nothing_changes(storefront, monkeypatch):
    from django.core.cache import caches

    reads: list[str] = []
    cache = caches["default"]
    real_get_many = type(cache).get_many

    def get_many(self, keys, *args, **kwargs):
        reads.append("many")
        return real_get_many(self, keys, *args, **kwargs)

    monkeypatch.setattr(type(cache), "get_many", get_many)
    seen = status_wait.current_version(999_003)
    assert not status_wait.wait_for_change(999_003, seen, 0.5)
    assert len(reads) <= 2  # the first look, not one per 25 ms tick
