"""The local record and Genlook stay in step: pending rows, races, expiry, retries."""

from __future__ import annotations

import contextlib
import importlib
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from celery.exceptions import Retry
from django.contrib.auth.models import User
from django.contrib.contenttypes.models import ContentType
from django.db import connection, connections
from django.utils import timezone

from example_shop.shop.models import Product
from genlook_django import ProductAdapter, disable_auto_sync, jobs, tasks
from genlook_django import migrations as genlook_migrations
from genlook_django.client import NotFoundError, RateLimitedError
from genlook_django.models import SyncedProduct
from genlook_django.services import catalog
from genlook_django.services.catalog import locks
from genlook_django.services.tryons import products
from genlook_django.signals import product_sync_failed, product_synced
from tests.support.signals import listening

Status = SyncedProduct.Status


def external_id(product: Product) -> str:
    return f"shop.product:{product.pk}"


def at_genlook(client, product: Product) -> bool:
    try:
        client.get_product(external_id(product))
    except NotFoundError:
        return False
    return True


# -- 1. A pending row's product is still at Genlook ------------------------------------------


def test_deleting_a_product_set_back_to_pending_by_a_refresh_deletes_it_at_genlook(
    genlook, genlook_client, synced, django_capture_on_commit_callbacks
):
    product = synced()
    eid = external_id(product)
    genlook_client.upsert_product(eid, title="Edited in the dashboard")
    row = catalog.refresh_from_genlook(SyncedProduct.objects.get())
    assert (row.status, row.last_error_code) == (Status.PENDING, "REMOTE_DIFFERS")

    with django_capture_on_commit_callbacks(execute=True):
        product.delete()
    assert genlook.state.count("DELETE", f"/products/{eid}") == 1
    with pytest.raises(NotFoundError):
        genlook_client.get_product(eid)
    assert SyncedProduct.objects.get().status == Status.DELETED


def test_deactivating_a_product_after_a_try_on_miss_deletes_it_at_genlook(
    genlook, genlook_client, synced, person_photo, django_capture_on_commit_callbacks
):
    product = synced()
    genlook_client.delete_product(external_id(product))  # expired at Genlook
    with django_capture_on_commit_callbacks(execute=False):  # its re-sync has not run yet
        products.create_try_on(product, person=person_photo)
    assert SyncedProduct.objects.get().status == Status.PENDING
    assert at_genlook(genlook_client, product)  # the inline product of the try-on

    with django_capture_on_commit_callbacks(execute=True):
        product.is_active = False
        product.save()
    assert not at_genlook(genlook_client, product)
    assert SyncedProduct.objects.get().status == Status.DELETED


def test_a_product_gone_without_a_row_is_deleted_by_its_default_external_id(
    genlook, genlook_client, make_product, public_base_url, django_capture_on_commit_callbacks
):
    with disable_auto_sync():
        pushed, never_pushed = make_product(), make_product(image=None)
    # Pushed, but the worker died before recording it: no row.
    genlook_client.upsert_product(
        external_id(pushed), title="x", images=[public_base_url + pushed.image.url]
    )
    with django_capture_on_commit_callbacks(execute=True):
        pushed.delete()
    assert not at_genlook(genlook_client, pushed)

    pk = never_pushed.pk
    with disable_auto_sync():
        never_pushed.delete()
    result = catalog.sync_object(Product, pk)
    assert (result.outcome, result.requests) == ("skipped", 1)  # DELETE answered 404: fine
    assert not SyncedProduct.objects.exists()


# -- 2. One product at a time --------------------------------------------------------------


class PushHook:
    """The real client, running ``action`` just before or after each upsert lands."""

    def __init__(self, client, action, *, when: str = "after") -> None:
        self._client, self._action, self._when = client, action, when

    def upsert_product(self, *args, **kwargs):
        if self._when == "before":
            self._action()
        product = self._client.upsert_product(*args, **kwargs)
        if self._when == "after":
            self._action()
        return product

    def __getattr__(self, name):
        return getattr(self._client, name)


@pytest.mark.parametrize("when", ["before", "after"])
def test_a_product_deleted_during_its_first_push_leaves_nothing_at_genlook(
    genlook, genlook_client, make_product, when
):
    with disable_auto_sync():
        product = make_product()
    pk = product.pk

    def shop_deletes_it() -> None:
        with disable_auto_sync():
            Product.objects.filter(pk=pk).delete()
        catalog.sync_object(Product, pk)  # its delete task, running meanwhile

    result = catalog.sync_object(
        Product, pk, client=PushHook(genlook_client, shop_deletes_it, when=when)
    )
    assert result.outcome == "deleted"
    assert not at_genlook(genlook_client, product)
    assert SyncedProduct.objects.get().status == Status.DELETED


def test_a_product_deleted_during_its_push_is_deleted_right_after(
    genlook, genlook_client, make_product
):
    """Its own delete task waits for the lock; the push re-checks the product at once."""
    with disable_auto_sync():
        product = make_product()
    pk = product.pk

    def shop_deletes_it() -> None:
        with disable_auto_sync():
            Product.objects.filter(pk=pk).delete()

    catalog.sync_object(Product, pk, client=PushHook(genlook_client, shop_deletes_it))
    assert not at_genlook(genlook_client, product)
    assert catalog.sync_object(Product, pk).outcome == "skipped"  # the delete task: done
    assert genlook.state.count("DELETE") == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_syncs_of_one_product_run_one_after_the_other(
    genlook, genlook_client, make_product, monkeypatch, sqlite_waits_for_locks
):
    if connection.features.has_select_for_update:
        # PostgreSQL: as between two worker processes, only the row lock is shared.
        monkeypatch.setattr(locks, "process_lock", lambda *args: contextlib.nullcontext())
    with disable_auto_sync():
        product = make_product("Version 1")
    pk = product.pk
    second: dict = {}
    started = threading.Event()

    def second_task() -> None:
        started.set()
        try:
            second["result"] = catalog.sync_object(Product, pk)
        except BaseException as exc:  # pragma: no cover - reported below
            second["error"] = exc
        finally:
            connections.close_all()

    thread = threading.Thread(target=second_task)

    def shop_saves_version_2_meanwhile() -> None:
        Product.objects.filter(pk=pk).update(name="Version 2")  # no signal: enqueued below
        thread.start()
        started.wait(5)
        time.sleep(0.3)
        assert "result" not in second and "error" not in second, "it did not wait"

    catalog.sync_object(
        Product, pk, client=PushHook(genlook_client, shop_saves_version_2_meanwhile, when="before")
    )
    thread.join(10)
    assert "error" not in second, second.get("error")
    assert second["result"].outcome == "updated"
    assert genlook_client.get_product(external_id(product)).title == "Version 2"
    product.refresh_from_db()
    row = SyncedProduct.objects.get()
    payload = catalog.get_adapter(Product).get_payload(product)
    assert (row.status, row.content_hash) == (Status.SYNCED, payload.content_hash)


# -- 3. Lifetimes ----------------------------------------------------------------------------


def test_an_expired_product_is_registered_again(genlook, genlook_client, adapter_for, synced):
    adapter_for(Product, valid_for_days=1)
    product = synced()
    genlook.state.advance_clock(2 * 86_400)  # two days later Genlook has forgotten it...
    SyncedProduct.objects.update(remote_expires_at=timezone.now() - timedelta(hours=1))
    assert not at_genlook(genlook_client, product)

    report = catalog.sync_catalog([Product])  # ...and the next sync registers it again
    assert (report.counts["updated"], report.requests) == (1, 1)
    assert at_genlook(genlook_client, product)
    row = SyncedProduct.objects.get()
    assert row.remote_expires_at > timezone.now() + timedelta(hours=23)


def test_a_product_about_to_expire_is_pushed_again_and_a_fresh_one_is_not(
    genlook, adapter_for, synced, django_capture_on_commit_callbacks
):
    adapter_for(Product, valid_for_days=1)
    product = synced()
    report = catalog.sync_catalog([Product])
    assert report.counts["unchanged"] == 1

    SyncedProduct.objects.update(remote_expires_at=timezone.now() + timedelta(minutes=10))
    with django_capture_on_commit_callbacks(execute=True):
        product.save()  # nothing changed but its lifetime: pushed again, which renews it
    assert genlook.state.count("POST", "/products") == 2
    assert SyncedProduct.objects.get().remote_expires_at > timezone.now() + timedelta(hours=23)


# -- 7. Unattended retries -----------------------------------------------------------------


def test_retry_failed_products_retries_transient_failures_only(
    genlook, synced, make_product, django_capture_on_commit_callbacks
):
    genlook.state.set_faults(error_rates={500: 1.0})
    server_error = synced("Server error")
    genlook.state.set_faults(error_rates={429: 1.0})
    rate_limited = synced("Rate limited")
    genlook.state.set_faults(error_rates={400: 1.0})
    rejected = synced("Rejected")
    genlook.state.set_faults(error_rates={503: 1.0})
    given_up = synced("Given up")
    genlook.state.clear_faults()
    with disable_auto_sync():
        adapter_error = make_product("Adapter error")
    SyncedProduct.objects.create(
        content_type=ContentType.objects.get_for_model(Product),
        object_id=str(adapter_error.pk),
        external_id=external_id(adapter_error),
        status=Status.FAILED,
        last_error="the description service is down",
        last_error_code="RuntimeError",
        failure_count=1,
    )
    SyncedProduct.objects.filter(object_id=str(given_up.pk)).update(
        failure_count=catalog.default_max_failures()
    )
    stored = dict(SyncedProduct.objects.values_list("object_id", "last_error_status"))
    assert (stored[str(server_error.pk)], stored[str(rejected.pk)]) == (500, 400)
    assert stored[str(adapter_error.pk)] is None
    posts = genlook.state.count("POST", "/products")

    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.retry_failed_products.apply().result == 2
    status = {row.object_id: row.status for row in SyncedProduct.objects.all()}
    assert status == {
        str(server_error.pk): Status.SYNCED,
        str(rate_limited.pk): Status.SYNCED,
        str(rejected.pk): Status.FAILED,
        str(given_up.pk): Status.FAILED,
        str(adapter_error.pk): Status.FAILED,
    }
    assert genlook.state.count("POST", "/products") == posts + 2
    assert SyncedProduct.objects.get(object_id=str(server_error.pk)).last_error_status is None
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.retry_failed_products.delay(max_failures=100).get() == 1  # asked for


FAILURES = {  # object id: (stored status, code, message), as a failed sync left them
    "503": (503, "SERVICE_UNAVAILABLE", "[503 SERVICE_UNAVAILABLE] down for maintenance"),
    "502": (502, "ServerError", "[502] Genlook answered HTTP 502."),
    "429": (429, "RATE_LIMITED", "[429 RATE_LIMITED] slow down"),
    "timeout": (None, "GenlookTimeoutError", "Genlook did not answer"),
    "budget": (None, "RateBudgetTimeout", "no free slot"),
    "400": (400, "VALIDATION_FAILED", "[400 VALIDATION_FAILED] images: required"),
    "404": (404, "PRODUCT_NOT_FOUND", "[404 PRODUCT_NOT_FOUND] gone"),
    # Messages that merely look like a server error: no status was stored with them.
    "adapter": (None, "ValueError", "[503] an adapter's message"),
    "no-status": (None, "INTERNAL_ERROR", "[500 INTERNAL_ERROR] boom"),
    "config": (None, "ImproperlyConfigured", "PUBLIC_BASE_URL is not set"),
}


def test_stored_failures_are_retried_by_their_status_or_local_code(
    db, monkeypatch, django_capture_on_commit_callbacks
):
    content_type = ContentType.objects.get_for_model(Product)
    for object_id, (status, code, message) in FAILURES.items():
        SyncedProduct.objects.create(
            content_type=content_type,
            object_id=object_id,
            external_id=f"p-{object_id}",
            status=Status.FAILED,
            last_error=message,
            last_error_code=code,
            last_error_status=status,
            failure_count=1,
        )
    queued: list[tuple] = []
    monkeypatch.setattr(jobs, "enqueue", lambda name, *args, **kwargs: queued.append(args))

    with django_capture_on_commit_callbacks(execute=True):
        assert catalog.enqueue_failed() == 5
    assert sorted(pk for _, pk in queued) == ["429", "502", "503", "budget", "timeout"]


# -- 8. Orphans of unregistered models -----------------------------------------------------


class UserAdapter(ProductAdapter):
    title_field = "username"

    def get_images(self, instance):
        return ["https://cdn.example.com/user.jpg"]


def test_delete_remote_needs_only_the_external_id(
    genlook, genlook_client, adapter_for, db, django_capture_on_commit_callbacks
):
    adapter_for(User, UserAdapter)
    with django_capture_on_commit_callbacks(execute=True):
        user = User.objects.create(username="ada")
    catalog.unregister(User)  # the shop stopped offering users as products
    row = SyncedProduct.objects.get()
    assert tasks.delete_product.delay(row.pk).get() == "deleted"
    with pytest.raises(NotFoundError):
        genlook_client.get_product(f"auth.user:{user.pk}")

    gone = ContentType.objects.create(app_label="oldshop", model="garment")  # no model left
    genlook_client.upsert_product("old-1", title="Old", images=["https://cdn.example.com/o.jpg"])
    orphan = SyncedProduct.objects.create(
        content_type=gone, object_id="1", external_id="old-1", status=Status.SYNCED
    )
    with listening(product_synced) as events:
        result = catalog.delete_remote(orphan)
    assert (result.outcome, result.model) == ("deleted", "oldshop.garment")
    assert [e["action"] for e in events] == ["delete"]
    with pytest.raises(NotFoundError):
        genlook_client.get_product("old-1")
    orphan.refresh_from_db()
    assert orphan.status == Status.DELETED


# -- 9. The retry schedule -----------------------------------------------------------------


def test_the_default_retry_schedule_spans_an_outage(settings, monkeypatch):
    settings.GENLOOK = {"API_KEY": "x"}  # the defaults: 5 retries, capped at 600 s
    retries = range(5)
    # The jitter is drawn: its two ends stand in for the draw (no public seam schedules).
    monkeypatch.setattr(tasks.random, "uniform", lambda low, high: low)
    shortest = [tasks._backoff(n) for n in retries]
    monkeypatch.setattr(tasks.random, "uniform", lambda low, high: high)
    longest = [tasks._backoff(n) for n in retries]
    assert longest == [60, 120, 240, 480, 600]  # SYNC_RETRY_BACKOFF_MAX is reached
    assert sum(shortest) >= 600  # at least ten minutes of outage are ridden out
    assert sum(longest) <= 1500


def test_retry_after_is_honoured(settings):
    settings.GENLOOK = {"API_KEY": "x", "SYNC_RETRY_BACKOFF_MAX": 0.01}
    error = RateLimitedError("slow down", status=429, headers={"retry-after": "120"})
    assert tasks._backoff(0, error) == 120
    assert tasks._backoff(4, RuntimeError()) <= 0.01


def test_a_rate_limited_task_retries_after_retry_after(genlook, make_product):
    product = make_product()
    genlook.state.set_faults(error_rates={429: 1.0})  # the sandbox sends Retry-After: 1
    tasks.sync_product.push_request(
        id="task-429",
        args=["shop.product", product.pk],
        kwargs={},
        retries=0,
        is_eager=False,
        called_directly=False,
    )
    try:
        with (
            listening(product_sync_failed, genlook.state.clear_faults),
            pytest.raises(Retry) as retry,
        ):
            tasks.sync_product.run("shop.product", product.pk)
    finally:
        tasks.sync_product.pop_request()
    assert retry.value.when >= 1.0  # although SYNC_RETRY_BACKOFF_MAX is 0.01 here
    assert SyncedProduct.objects.get().status == Status.SYNCED


# -- 10. Stored statuses of failures recorded before the column existed -----------------------


def test_the_migration_reads_the_status_of_api_errors_only():
    folder = Path(genlook_migrations.__file__).parent
    (path,) = folder.glob("*_syncedproduct_last_error_status.py")
    status_of = importlib.import_module(f"{genlook_migrations.__name__}.{path.stem}").status_of

    assert status_of("[503 SERVICE_UNAVAILABLE] down", "SERVICE_UNAVAILABLE") == 503
    assert status_of("[500] Genlook answered HTTP 500.", "ServerError") == 500
    assert status_of("[400 VALIDATION_FAILED] x", "VALIDATION_FAILED") == 400
    assert status_of("[503] an adapter's message", "ValueError") is None
    assert status_of("[503 OTHER] copied into an adapter's message", "ValueError") is None
    assert status_of("Genlook did not answer", "GenlookTimeoutError") is None
    assert status_of("", "") is None
