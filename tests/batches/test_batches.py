"""Batch processing: model photos x products, within the shared request budget."""

from __future__ import annotations

import io
import time

import pytest
from django.core.management import CommandError, call_command
from PIL import Image

from genlook_django.models import BatchItem, BatchJob
from genlook_django.services import batches, files
from tests.support.batches import wait_done

pytestmark = pytest.mark.django_db(transaction=True)


def start(job, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        batches.start(job)


def test_a_batch_uploads_each_photo_once_and_makes_every_pair(
    storefront, products, person_photo, django_capture_on_commit_callbacks
):
    job = batches.create_job(
        photos_in=[("front.png", person_photo), ("side.png", person_photo)],
        products=products,
        name="Spring",
    )
    assert batches.progress(job).as_dict() == {
        "total": 6,
        "completed": 0,
        "failed": 0,
        "open": 6,
        "percent": 0,
    }
    start(job, django_capture_on_commit_callbacks)
    progress = wait_done(job)
    assert (progress.total, progress.completed, progress.failed) == (6, 6, 0)
    state = storefront.state
    assert state.count(method="POST", path="/images/upload") == 2
    assert state.count(method="POST", path="/try-on") == 6
    assert state.count(status=429) == 0
    job.refresh_from_db()
    assert job.state == BatchJob.State.DONE and job.finished_at
    assert all(photo.genlook_image_id for photo in job.photos.all())
    # A gallery per product, images in RESULTS_STORAGE.
    for product in products:
        gallery = batches.gallery(product)
        assert len(gallery) == 2
        with files.results_storage().open(gallery[0].result_file, "rb") as stored:
            assert stored.read().startswith(b"\xff\xd8")


def test_failed_generations_are_counted(
    storefront, products, person_photo, django_capture_on_commit_callbacks
):
    storefront.state.set_faults(fail_generations=1.0, fail_error_code="GENERATION_FAILED")
    job = batches.create_job(photos_in=[("a.png", person_photo)], products=products[:2])
    start(job, django_capture_on_commit_callbacks)
    progress = wait_done(job)
    assert (progress.completed, progress.failed) == (0, 2)
    assert set(BatchItem.objects.values_list("error_code", flat=True)) == {"GENERATION_FAILED"}


def test_stays_inside_a_tight_rate_budget(storefront, settings, products, person_photo):
    """8 workers, 2 photos x 3 products (8 requests) at 3 requests per second on both
    sides: the budget makes the threads wait, the sandbox never answers 429."""
    storefront.state.add_account("gk_batch_budget", credits=100)
    storefront.state.configure(rate_limit=3, rate_window=1.0, generation_seconds=0.2)
    settings.GENLOOK = {
        **settings.GENLOOK,
        "API_KEY": "gk_batch_budget",
        "RATE_LIMIT": 3,
        "RATE_PERIOD": 1.0,
    }
    job = batches.create_job(
        photos_in=[("a.png", person_photo), ("b.png", person_photo)], products=products
    )
    started = time.monotonic()
    progress = batches.run_in_process(job, workers=8, poll_interval=0.2)
    elapsed = time.monotonic() - started
    assert (progress.completed, progress.failed) == (6, 0)
    # 2 uploads and 6 try-ons at least (a product unknown to this account costs a second,
    # inline create), then the polls: every one waited for the budget, none was refused.
    sent = storefront.state.count(api_key="gk_batch_budget")
    assert sent >= 8
    assert storefront.state.count(status=429) == 0
    assert elapsed >= (sent - 3) / 3 - 0.5  # 3 per second, the first 3 at once


def test_nothing_to_do_is_refused(storefront, products, person_photo):
    with pytest.raises(batches.BatchError):
        batches.create_job(photos_in=[], products=products)
    with pytest.raises(batches.BatchError):
        batches.create_job(photos_in=[("a.png", person_photo)], products=[])


def test_cancel_fails_what_was_not_sent(storefront, products, person_photo):
    job = batches.create_job(photos_in=[("a.png", person_photo)], products=products)
    assert batches.cancel(job) == 3
    job.refresh_from_db()
    assert job.state == BatchJob.State.CANCELLED
    assert batches.progress(job).failed == 3
    assert storefront.state.count(path="/images/upload") == 0
    assert storefront.state.count(path="/try-on") == 0


def test_use_as_catalog_image(
    storefront, adapter_for, products, person_photo, django_capture_on_commit_callbacks
):
    from example_shop.shop.models import Product

    job = batches.create_job(photos_in=[("a.png", person_photo)], products=products[:1])
    batches.run_in_process(job, workers=1)
    item = BatchItem.objects.get(job=job)
    with pytest.raises(batches.BatchError):  # the adapter names no field
        batches.use_as_catalog_image(item)
    adapter_for(Product, catalog_image_field="image")
    product = batches.use_as_catalog_image(item)
    product.refresh_from_db()
    assert product.image.name.endswith(".jpg")
    with product.image.open("rb") as image:
        assert Image.open(io.BytesIO(image.read())).format == "JPEG"
    assert BatchItem.objects.get(pk=item.pk).used_as_catalog_image_at


# -- genlook_batch -----------------------------------------------------------------------


def test_command_runs_a_batch_with_a_progress_bar(storefront, products, tmp_path):
    photo = tmp_path / "model.jpg"
    buffer = io.BytesIO()
    Image.new("RGB", (600, 800), "tan").save(buffer, "JPEG")
    photo.write_bytes(buffer.getvalue())
    out = io.StringIO()
    call_command(
        "genlook_batch",
        "shop.Product",
        "--photo",
        str(photo),
        "--workers",
        "3",
        "--output",
        str(tmp_path / "results"),
        stdout=out,
    )
    text = out.getvalue()
    assert "1 photo(s) x 3 product(s) = 3 try-ons" in text
    assert "3/3 try-ons 100%" in text  # the bar, one line per 10% off a terminal
    assert "3 completed, 0 failed of 3." in text
    written = sorted((tmp_path / "results").rglob("*.jpg"))
    assert len(written) == 3 and written[0].read_bytes().startswith(b"\xff\xd8")
    creates = storefront.state.count(method="POST", path="/try-on")
    assert creates + storefront.state.count(method="POST", path="/try-on/sync") == 3


def test_command_with_the_workers(storefront, products, person_photo, tmp_path):
    photo = tmp_path / "model.png"
    photo.write_bytes(person_photo)
    out = io.StringIO()
    call_command(
        "genlook_batch",
        f"shop.product:{products[0].pk}",
        "--photo",
        str(photo),
        "--enqueue",
        "--no-progress",
        stdout=out,
    )
    assert "1 completed, 0 failed of 1." in out.getvalue()


def test_command_errors(storefront, products, person_photo, tmp_path):
    with pytest.raises(CommandError, match=r"x\.jpg"):
        call_command("genlook_batch", "shop.Product", "--photo", str(tmp_path / "x.jpg"))
    (tmp_path / "ok.png").write_bytes(person_photo)
    with pytest.raises(CommandError, match="not a registered product model"):
        call_command("genlook_batch", "auth.User", "--photo", str(tmp_path / "ok.png"))
    with pytest.raises(CommandError, match="no such product"):
        call_command("genlook_batch", "shop.product:999999", "--photo", str(tmp_path / "ok.png"))
    (tmp_path / "bad.jpg").write_bytes(b"not an image")
    with pytest.raises(CommandError):
        call_command("genlook_batch", "shop.Product", "--photo", str(tmp_path / "bad.jpg"))
