"""The batch jobs' list shows each job's progress, counted in the list's own query, and
moves it along without a worker (the same ``poll_through`` as a job's page), live through
``progress/``."""

from __future__ import annotations

import time

import pytest
from django.contrib.auth.models import User
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from genlook_django.models import BatchItem, BatchJob, BatchPhoto
from genlook_django.services import batches

pytestmark = pytest.mark.django_db(transaction=True)

LIST = reverse("admin:genlook_batchjob_changelist")
PROGRESS = reverse("admin:genlook_batchjob_progress")


def make_jobs(count: int, product) -> list[BatchJob]:
    content_type = ContentType.objects.get_for_model(product)
    jobs = []
    for n in range(count):
        job = BatchJob.objects.create(name=f"Job {n}", state=BatchJob.State.DONE)
        photo = BatchPhoto.objects.create(job=job, file_name=f"p{n}.jpg")
        BatchItem.objects.bulk_create(
            BatchItem(
                job=job,
                photo=photo,
                content_type=content_type,
                object_id=f"{n}-{i}",
                state=BatchItem.State.COMPLETED if i < 2 else BatchItem.State.FAILED,
            )
            for i in range(3)
        )
        jobs.append(job)
    return jobs


def list_queries(client: Client) -> tuple[str, int]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(LIST)
    assert response.status_code == 200
    return response.content.decode(), len(queries.captured_queries)


def test_the_list_counts_progress_without_a_query_per_row(admin_client, products):
    make_jobs(2, products[0])
    page, few = list_queries(admin_client)
    make_jobs(6, products[0])
    page, many = list_queries(admin_client)

    assert many == few
    assert page.count('<progress max="3" value="3">') == 8
    assert page.count("3 / 3, 1 failed") == 8


def test_the_list_moves_running_jobs_along_without_a_worker(
    admin_client, products, person_photo, django_capture_on_commit_callbacks
):
    job = batches.create_job(photos_in=[("a.png", person_photo)], products=products[:2])
    with django_capture_on_commit_callbacks(execute=True):
        batches.start(job)
    page = admin_client.get(LIST).content.decode()
    assert f'data-genlook-job="{job.pk}"' in page
    assert "batch_progress.js" in page

    deadline = time.monotonic() + 20
    while True:
        body = admin_client.get(PROGRESS, {"ids": str(job.pk)}).json()["jobs"][str(job.pk)]
        if not body["open"]:
            break
        assert time.monotonic() < deadline, body
        time.sleep(0.1)

    assert body["state"] == BatchJob.State.DONE
    assert "2 / 2" in body["html"]
    job.refresh_from_db()
    assert batches.progress(job).completed == 2


def test_progress_needs_the_view_permission(products):
    user = User.objects.create_user("clerk", is_staff=True)
    client = Client()
    client.force_login(user)
    assert client.get(PROGRESS, {"ids": "1"}).status_code == 403
