"""Batch items go through the shoppers' submission machine: sent once, photo uploaded again
when Genlook no longer knows it."""

from __future__ import annotations

import pytest
from django.utils import timezone

from genlook_django.models import BatchItem, BatchPhoto
from genlook_django.services import batches
from genlook_django.services.genlook import get_client
from genlook_django.services.tryons import submission, uploads

pytestmark = pytest.mark.django_db(transaction=True)

CREATES = ("POST", "/try-on/sync")


@pytest.fixture
def item(storefront, products, person_photo) -> BatchItem:
    """A queued item whose model photo is uploaded (the job was prepared)."""
    job = batches.create_job(photos_in=[("front.png", person_photo)], products=products[:1])
    assert len(batches.prepare(job.pk)) == 1
    return BatchItem.objects.get()


@pytest.mark.parametrize(
    "create_sent, outcome",
    [(True, (BatchItem.State.FAILED, "SUBMISSION_INTERRUPTED")), (False, ("completed", ""))],
    ids=["after-the-create", "before-the-create"],
)
def test_a_redelivered_item_is_never_sent_twice(storefront, item, create_sent, outcome):
    # A worker died while submitting it: after its create left, or before (uploading).
    BatchItem.objects.update(
        state=BatchItem.State.SUBMITTING, create_sent_at=timezone.now() if create_sent else None
    )

    assert submission.submit_batch_item(item.pk, wait=True) == "done"

    row = BatchItem.objects.get()
    assert (row.state, row.error_code) == outcome
    assert storefront.state.count(*CREATES) == (0 if create_sent else 1)
    assert row.create_sent_at is not None


def test_a_photo_genlook_no_longer_holds_is_uploaded_again(storefront, item):
    first_id = BatchPhoto.objects.get().genlook_image_id
    get_client().delete_customer(uploads.BATCH_USER_ID)  # Genlook forgets its uploads

    assert submission.submit_batch_item(item.pk, wait=True) == "done"

    row = BatchItem.objects.get()
    assert row.state == BatchItem.State.COMPLETED, row.error_message
    assert storefront.state.count("POST", "/images/upload") == 2
    assert storefront.state.count(*CREATES) == 2  # the refused one, then the one that worked
    assert BatchPhoto.objects.get().genlook_image_id != first_id
