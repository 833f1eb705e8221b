"""The batch jobs' admin: start a batch, follow it, the gallery, catalog images, rights."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import Permission, User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from genlook_django.models import BatchItem, BatchJob

pytestmark = pytest.mark.django_db(transaction=True)


def url(name: str, *args) -> str:
    return reverse(f"admin:genlook_batchjob_{name}", args=args)


def staff(*perms: str) -> Client:
    user = User.objects.create_user(f"staff{User.objects.count()}", password="x", is_staff=True)
    for perm in perms:
        app_label, codename = perm.split(".")
        user.user_permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def superuser_client(db) -> Client:
    user = User.objects.create_superuser("boss", "boss@example.com", "x")
    client = Client()
    client.force_login(user)
    return client


def start_batch(client, products, photo, django_capture_on_commit_callbacks) -> BatchJob:
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            url("add"),
            {
                "name": "Spring lookbook",
                "photos": [
                    SimpleUploadedFile("front.png", photo, content_type="image/png"),
                    SimpleUploadedFile("side.png", photo, content_type="image/png"),
                ],
                "products": [f"shop.product:{p.pk}" for p in products[:2]],
            },
        )
    assert response.status_code == 302, response.content.decode()[-2000:]
    job = BatchJob.objects.get()
    assert response["Location"] == url("change", job.pk)
    return job


def follow(client, job, timeout: float = 20.0) -> str:
    """GET the progress page (which polls through without a worker) until it is done."""
    import time

    deadline = time.monotonic() + timeout
    while True:
        page = client.get(url("change", job.pk)).content.decode()
        if 'http-equiv="refresh"' not in page:
            return page
        assert time.monotonic() < deadline, "the batch never finished"
        time.sleep(0.1)


def test_start_follow_and_browse_a_batch(
    superuser_client, products, person_photo, django_capture_on_commit_callbacks
):
    form = superuser_client.get(url("add") + f"?products=shop.product:{products[0].pk}")
    assert form.status_code == 200
    html = form.content.decode()
    assert "Batch Shirt 1" in html and 'type="file"' in html and "multiple" in html
    assert re.search(rf'value="shop.product:{products[0].pk}"\s+selected', html)

    job = start_batch(superuser_client, products, person_photo, django_capture_on_commit_callbacks)
    running = superuser_client.get(url("change", job.pk)).content.decode()
    assert 'data-total="4"' in running
    page = follow(superuser_client, job)
    assert 'data-total="4" data-completed="4" data-failed="0"' in page
    assert "4 of 4 done (100%)" in page
    assert "Use as" not in page  # the example shop's adapter names no catalog image field

    item = BatchItem.objects.filter(job=job).first()
    thumb = superuser_client.get(url("image", job.pk, item.pk) + "?thumb=1")
    assert thumb.status_code == 200 and thumb.content.startswith(b"\xff\xd8")
    download = superuser_client.get(url("image", job.pk, item.pk) + "?download=1")
    assert "attachment" in download["Content-Disposition"]
    gallery = superuser_client.get(url("gallery", item.content_type_id, item.object_id))
    assert gallery.status_code == 200 and gallery.content.decode().count("<figure") == 2
    changelist = superuser_client.get(url("changelist")).content.decode()
    assert "Spring lookbook" in changelist and "4 / 4" in changelist


def test_use_as_catalog_image_from_the_admin(
    superuser_client, adapter_for, products, person_photo, django_capture_on_commit_callbacks
):
    from example_shop.shop.models import Product

    adapter_for(Product, catalog_image_field="image")
    job = start_batch(superuser_client, products, person_photo, django_capture_on_commit_callbacks)
    page = follow(superuser_client, job)
    assert "Use as image" in page
    item = BatchItem.objects.filter(job=job).first()
    with django_capture_on_commit_callbacks(execute=True):
        response = superuser_client.post(
            url("use", job.pk, item.pk), {"next": "https://elsewhere.example/phish"}
        )
    assert response.status_code == 302
    assert response["Location"] == url("change", job.pk)  # never off-site
    product = Product.objects.get(pk=item.object_id)
    assert product.image.name.endswith(".jpg") and f"tryon-{job.pk}-{item.pk}" in product.image.name


def test_rights(superuser_client, products, person_photo, django_capture_on_commit_callbacks):
    job = start_batch(superuser_client, products, person_photo, django_capture_on_commit_callbacks)
    follow(superuser_client, job)
    item = BatchItem.objects.filter(job=job).first()

    nobody = staff()
    for target in (url("add"), url("change", job.pk), url("image", job.pk, item.pk)):
        assert nobody.get(target).status_code == 403
    assert nobody.post(url("use", job.pk, item.pk)).status_code == 403
    # Refused alike whether the batch exists or not: no oracle for what exists.
    assert nobody.post(url("use", job.pk + 99, 12345)).status_code == 403
    assert nobody.post(url("cancel", job.pk + 99)).status_code == 403

    viewer = staff("genlook.view_batchjob")
    assert viewer.get(url("change", job.pk)).status_code == 200
    assert viewer.get(url("image", job.pk, item.pk)).status_code == 200
    assert viewer.get(url("add")).status_code == 403
    assert viewer.post(url("use", job.pk, item.pk)).status_code == 403
    assert viewer.post(url("cancel", job.pk)).status_code == 403

    # Changing a batch is not enough to change a product.
    editor = staff("genlook.view_batchjob", "genlook.change_batchjob")
    assert editor.post(url("use", job.pk, item.pk)).status_code == 403


def test_bad_input_is_shown_on_the_form(superuser_client, products):
    response = superuser_client.post(
        url("add"),
        {
            "photos": [SimpleUploadedFile("x.png", b"not an image", content_type="image/png")],
            "products": [f"shop.product:{products[0].pk}"],
        },
    )
    assert response.status_code == 200
    assert BatchJob.objects.count() == 0
    assert "errorlist" in response.content.decode()
