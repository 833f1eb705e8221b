"""Saves and deletes of a registered product reach Genlook through on_commit and Celery."""

from __future__ import annotations

import pytest
from celery.exceptions import Retry
from django.db import transaction

from example_shop.shop.models import Product
from genlook_django import disable_auto_sync, tasks
from genlook_django.client import NotFoundError
from genlook_django.models import SyncedProduct
from genlook_django.signals import product_sync_failed, product_synced
from tests.support.signals import listening

Status = SyncedProduct.Status


def posts(sandbox, status: int | None = None) -> int:
    return sandbox.state.count("POST", "/products", status=status)


def test_save_upserts_once_with_the_adapters_data(
    genlook, genlook_client, django_capture_on_commit_callbacks, make_product, public_base_url
):
    with django_capture_on_commit_callbacks(execute=True):
        product = make_product("Sage Wrap Dress", category="dresses", description="Fluid.")

    assert posts(genlook) == 1
    remote = genlook_client.get_product(f"shop.product:{product.pk}")
    assert remote.title == "Sage Wrap Dress"
    assert remote.description == "Fluid."
    assert [image.source_url for image in remote.images] == [public_base_url + product.image.url]
    assert remote.metadata == {"category": "dresses"}
    assert remote.valid_for_days is None  # kept forever

    row = SyncedProduct.objects.get()
    assert row.external_id == f"shop.product:{product.pk}"
    assert row.source == product
    assert row.status == Status.SYNCED
    assert len(row.content_hash) == 64
    assert row.last_synced_at is not None
    assert row.remote["externalId"] == row.external_id
    assert row.remote_expires_at is None


def test_nothing_is_sent_inside_post_save(
    genlook, django_capture_on_commit_callbacks, make_product
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        make_product()
        assert posts(genlook) == 0
    assert len(callbacks) == 1
    assert posts(genlook) == 0


def test_rolled_back_save_makes_no_call(genlook, django_capture_on_commit_callbacks, make_product):
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        make_product()
        raise RuntimeError("the shop's own error")
    assert callbacks == []
    assert genlook.state.requests == []
    assert not SyncedProduct.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_rollback_and_commit_in_real_transactions(genlook, make_product):
    with pytest.raises(RuntimeError), transaction.atomic():
        make_product()
        raise RuntimeError("rolled back")
    assert genlook.state.requests == []

    with transaction.atomic():
        product = make_product()
        assert posts(genlook) == 0  # not before the commit
    assert posts(genlook) == 1
    assert SyncedProduct.objects.get().object_id == str(product.pk)


def test_unchanged_save_makes_no_call(genlook, synced, django_capture_on_commit_callbacks):
    product = synced()
    assert posts(genlook) == 1

    with django_capture_on_commit_callbacks(execute=True):
        product.save()
        product.price = 999  # not pushed to Genlook: still nothing to send
        product.save()
    assert posts(genlook) == 1

    with django_capture_on_commit_callbacks(execute=True):
        product.name = "Renamed"
        product.save()
    assert posts(genlook) == 2
    assert genlook.state.count("GET") == 0  # the hash decides, not a round trip


def test_several_saves_in_one_transaction_enqueue_one_sync(
    genlook, make_product, django_capture_on_commit_callbacks
):
    product = make_product()
    with django_capture_on_commit_callbacks(execute=True):
        for n in range(5):
            product.name = f"Draft {n}"
            product.save()
    assert posts(genlook) == 1
    assert SyncedProduct.objects.get().remote["title"] == "Draft 4"


def test_delete_removes_the_product_at_genlook(
    genlook, genlook_client, synced, django_capture_on_commit_callbacks
):
    product = synced()
    external_id = f"shop.product:{product.pk}"
    with django_capture_on_commit_callbacks(execute=True):
        product.delete()

    assert genlook.state.count("DELETE", f"/products/{external_id}") == 1
    with pytest.raises(NotFoundError):
        genlook_client.get_product(external_id)
    row = SyncedProduct.objects.get()
    assert row.status == Status.DELETED
    assert row.content_hash == ""


def test_deactivating_removes_and_reactivating_restores(
    genlook, synced, django_capture_on_commit_callbacks
):
    product = synced()
    with django_capture_on_commit_callbacks(execute=True):
        product.is_active = False
        product.save()
    assert genlook.state.count("DELETE") == 1
    assert SyncedProduct.objects.get().status == Status.DELETED

    with django_capture_on_commit_callbacks(execute=True):
        product.is_active = True
        product.save()
    assert posts(genlook) == 2
    assert SyncedProduct.objects.get().status == Status.SYNCED


def test_product_without_image_is_not_sent(genlook, synced):
    synced(image=None)
    assert genlook.state.requests == []
    assert not SyncedProduct.objects.exists()


def test_failing_sandbox_failure_recorded_then_retried_and_synced(
    genlook, synced, django_capture_on_commit_callbacks
):
    genlook.state.set_faults(error_rates={500: 1.0})
    seen = []
    product_sync_failed.connect(
        receiver := lambda sender, will_retry, **kw: seen.append(will_retry)
    )
    try:
        synced()  # eager Celery: recorded at once, no blocking retry inside the request
    finally:
        product_sync_failed.disconnect(receiver)

    assert seen == [False]
    assert posts(genlook, status=500) == 1
    row = SyncedProduct.objects.get()
    assert row.status == Status.FAILED
    assert row.last_error_code == "INTERNAL_ERROR"
    assert "500" in row.last_error
    assert row.failure_count == 1

    genlook.state.clear_faults()
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.retry_failed_products.apply().result == 1  # e.g. from Celery beat
    row.refresh_from_db()
    assert row.status == Status.SYNCED
    assert row.failure_count == 0
    assert row.last_error == ""
    assert posts(genlook, status=500) == 1
    assert posts(genlook) == 2


def _as_on_a_worker(product: Product, retries: int) -> None:
    tasks.sync_product.push_request(
        id=f"task-{retries}",
        args=["shop.product", product.pk],
        kwargs={},
        retries=retries,
        is_eager=False,
        called_directly=False,
    )


def test_worker_retries_transient_failures_with_backoff(genlook, make_product):
    """On a worker (not eager) the task records the failure and asks Celery to retry."""
    product = make_product()
    genlook.state.set_faults(error_rates={503: 1.0})
    _as_on_a_worker(product, retries=0)
    try:
        # Genlook recovers before the retry runs.
        with (
            listening(product_sync_failed, genlook.state.clear_faults) as failures,
            pytest.raises(Retry),  # what a worker does with it: run again after countdown
        ):
            tasks.sync_product.run("shop.product", product.pk)
    finally:
        tasks.sync_product.pop_request()

    # The retry was sent with apply_async; eager settings ran it at once.
    assert [(f["synced_product"].status, f["will_retry"]) for f in failures] == [
        (Status.FAILED, True)
    ]
    assert posts(genlook, status=503) == 1
    row = SyncedProduct.objects.get()
    assert row.status == Status.SYNCED


def test_worker_gives_up_after_max_retries(genlook, make_product):
    product = make_product()
    genlook.state.set_faults(error_rates={500: 1.0})
    seen = []
    product_sync_failed.connect(
        receiver := lambda sender, will_retry, **kw: seen.append(will_retry)
    )
    _as_on_a_worker(product, retries=2)  # the last try
    try:
        assert tasks.sync_product.run("shop.product", product.pk) == "failed"
    finally:
        tasks.sync_product.pop_request()
        product_sync_failed.disconnect(receiver)
    assert seen == [False]
    assert SyncedProduct.objects.get().status == Status.FAILED


def test_product_synced_signal(genlook, synced, django_capture_on_commit_callbacks):
    with listening(product_synced) as events:
        product = synced()
        with django_capture_on_commit_callbacks(execute=True):
            product.delete()
    assert [(e["sender"], e["action"], e["synced_product"].status) for e in events] == [
        (Product, "upsert", Status.SYNCED),
        (Product, "delete", Status.DELETED),
    ]


def test_disable_auto_sync_makes_no_calls(genlook, synced, django_capture_on_commit_callbacks):
    with disable_auto_sync():
        product = synced()
        with disable_auto_sync():  # nests
            pass
        with django_capture_on_commit_callbacks(execute=True):
            product.name = "Imported"
            product.save()

    @disable_auto_sync()
    def bulk_import() -> None:
        synced()
        synced()

    bulk_import()
    assert genlook.state.requests == []

    synced()  # enabled again afterwards
    assert posts(genlook) == 1


def test_auto_sync_setting_off(genlook, settings, synced):
    settings.GENLOOK = {**settings.GENLOOK, "AUTO_SYNC": False}
    synced()
    assert genlook.state.requests == []
