"""A batch run in both Genlook dialects against the sandbox: with the classic API the items
go in POST /v1/try-on/batch requests of CLASSIC_BATCH_SIZE, within the request budget."""

from __future__ import annotations

import pytest

from genlook_django.models import BatchItem, BatchJob
from genlook_django.services import batches
from tests.support.batches import wait_done
from tests.support.catalog import API_KEY
from tests.support.dialects import DIALECTS, speak

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def dialect(request, settings, storefront, live_server):
    speak(settings, storefront, live_server, request.param, CLASSIC_BATCH_SIZE=4)
    return request.param


def start(job, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        batches.start(job)


@pytest.mark.parametrize("dialect", DIALECTS, indirect=True)
def test_a_batch_run_in_either_dialect(
    dialect, storefront, products, person_photo, django_capture_on_commit_callbacks
):
    job = batches.create_job(
        photos_in=[("front.png", person_photo), ("side.png", person_photo)], products=products
    )
    start(job, django_capture_on_commit_callbacks)
    progress = wait_done(job)
    assert (progress.total, progress.completed, progress.failed) == (6, 6, 0)
    job.refresh_from_db()
    assert job.state == BatchJob.State.DONE
    state = storefront.state
    if dialect == "classic":
        # 6 items, 4 per request: two batch requests, no single create, no upload.
        assert state.count("POST", "/v1/try-on/batch", status=201) == 2
        assert state.count("POST", "/v1/try-on") == 0
        assert state.count("POST", "/images/upload") == 0
    else:
        assert state.count("POST", "/images/upload") == 2
        assert state.count("POST", "/try-on") == 6
        assert state.count("POST", "/v1/try-on/batch") == 0
    assert state.count(status=429) == 0


@pytest.mark.parametrize("dialect", DIALECTS, indirect=True)
def test_run_in_process_in_either_dialect(dialect, storefront, products, person_photo):
    job = batches.create_job(photos_in=[("a.png", person_photo)], products=products)
    seen: list[int] = []
    progress = batches.run_in_process(
        job, workers=1, poll_interval=0.1, on_item=lambda item: seen.append(item.pk)
    )
    assert (progress.completed, progress.failed) == (3, 0)
    assert sorted(seen) == sorted(job.items.values_list("pk", flat=True))
    batch_requests = storefront.state.count("POST", "/v1/try-on/batch")
    assert batch_requests == (1 if dialect == "classic" else 0)


def test_a_classic_batch_the_account_cannot_pay_fails_every_item(
    settings, storefront, live_server, products, person_photo, django_capture_on_commit_callbacks
):
    speak(settings, storefront, live_server, "classic")
    storefront.state.set_credits(API_KEY, 2)  # 3 items, one request: all or nothing
    job = batches.create_job(photos_in=[("a.png", person_photo)], products=products)
    start(job, django_capture_on_commit_callbacks)
    job.refresh_from_db()
    assert job.state == BatchJob.State.DONE
    codes = set(BatchItem.objects.filter(job=job).values_list("error_code", flat=True))
    assert codes == {"INSUFFICIENT_CREDITS"}
    assert storefront.state.get_credits(API_KEY) == 2  # nothing was created or charged


def test_a_classic_batch_entry_genlook_rejects_fails_alone(
    settings, storefront, live_server, products, person_photo, django_capture_on_commit_callbacks
):
    from example_shop.shop.models import Product

    speak(settings, storefront, live_server, "classic")
    # One product whose image the shop no longer serves: Genlook cannot fetch it.
    broken = products[0]
    Product.objects.filter(pk=broken.pk).update(image="gone/missing.png")
    job = batches.create_job(photos_in=[("a.png", person_photo)], products=products)
    start(job, django_capture_on_commit_callbacks)
    progress = wait_done(job)
    assert (progress.completed, progress.failed) == (2, 1)
    failed = BatchItem.objects.get(job=job, state=BatchItem.State.FAILED)
    assert failed.object_id == str(broken.pk)
    assert failed.error_code == "INVALID_IMAGE_URL"
    assert storefront.state.count("POST", "/v1/try-on/batch") == 1


def test_a_classic_batch_without_a_valid_entry_fails_each_item_with_its_reason(
    settings, storefront, live_server, products, person_photo, django_capture_on_commit_callbacks
):
    from example_shop.shop.models import Product

    speak(settings, storefront, live_server, "classic")
    Product.objects.filter(pk__in=[p.pk for p in products]).update(image="gone/missing.png")
    credits = storefront.state.get_credits(API_KEY)
    job = batches.create_job(photos_in=[("a.png", person_photo)], products=products)
    start(job, django_capture_on_commit_callbacks)
    job.refresh_from_db()
    assert job.state == BatchJob.State.DONE
    codes = list(BatchItem.objects.filter(job=job).values_list("error_code", flat=True))
    assert codes == ["INVALID_IMAGE_URL"] * 3  # each entry's own, not the batch's 400
    assert storefront.state.count("POST", "/v1/try-on/batch", status=400) == 1
    assert storefront.state.get_credits(API_KEY) == credits


def test_classic_batches_stay_inside_a_tight_rate_budget(
    settings, storefront, live_server, products, person_photo
):
    """One item per batch request, 3 requests per second on both sides: the budget makes
    the sends and the polls wait, the sandbox never answers 429."""
    storefront.state.add_account("gk_classic_budget", credits=100)
    storefront.state.configure(rate_limit=3, rate_window=1.0, generation_seconds=0.2)
    speak(
        settings,
        storefront,
        live_server,
        "classic",
        API_KEY="gk_classic_budget",
        RATE_LIMIT=3,
        RATE_PERIOD=1.0,
        CLASSIC_BATCH_SIZE=1,
    )
    job = batches.create_job(
        photos_in=[("a.png", person_photo), ("b.png", person_photo)], products=products
    )
    progress = batches.run_in_process(job, workers=1, poll_interval=0.1)
    assert (progress.completed, progress.failed) == (6, 0)
    assert storefront.state.count("POST", "/v1/try-on/batch", api_key="gk_classic_budget") == 6
    assert storefront.state.count(status=429) == 0


def test_with_a_worker_the_classic_batch_hands_its_items_to_the_poll_task(
    settings, storefront, live_server, products, person_photo, monkeypatch
):
    from genlook_django import jobs, tasks

    speak(settings, storefront, live_server, "classic")
    job = batches.create_job(photos_in=[("a.png", person_photo)], products=products)
    batches.mark_running(job)
    handed: list[tuple] = []
    monkeypatch.setattr(jobs, "enqueue", lambda name, *args, **kw: handed.append((name, args)))
    assert tasks.start_batch.run(job.pk) == 3  # as a worker runs it (not eagerly)
    pending = set(job.items.filter(state=BatchItem.State.PENDING).values_list("pk", flat=True))
    assert len(pending) == 3
    assert {args[0] for name, args in handed if name == "genlook.poll_batch_item"} == pending
    assert not [name for name, _ in handed if name == "genlook.run_batch_item"]
    assert storefront.state.count("POST", "/v1/try-on/batch") == 1
