"""PHOTO_NORMALISE: an uploaded JPEG decoded by the worker instead of the request
(services/tryons/intake.py), and everything that must hold either way."""

from __future__ import annotations

import io

import pytest
from django.urls import reverse
from PIL import Image

from genlook_django import jobs, tasks
from genlook_django.models import ShopperPhoto, TryOn
from genlook_django.services import files
from genlook_django.services.tryons import intake
from tests.support import images
from tests.support.storefront import ME, follow, hold_submissions, start

pytestmark = pytest.mark.django_db(transaction=True)

GPS_IFD = 0x8825


@pytest.fixture
def worker_decodes(settings, storefront):
    settings.GENLOOK = {**settings.GENLOOK, "PHOTO_NORMALISE": "worker"}


def _stored(photo: ShopperPhoto) -> bytes:
    with files.photos_storage().open(photo.file_name, "rb") as stored:
        return stored.read()


def _run_held(held: list[int]) -> None:
    """The worker picks the held submissions up."""
    for pk in held:
        tasks.submit_try_on.apply(args=[pk])


@pytest.mark.parametrize(
    ("mode", "inline", "expected"),
    [
        ("auto", True, False),  # no worker: the request decodes, as the task runs in it
        ("auto", False, True),
        ("request", False, False),
        ("worker", True, True),
    ],
)
def test_who_decodes_an_upload(settings, monkeypatch, mode, inline, expected):
    settings.GENLOOK = {**settings.GENLOOK, "PHOTO_NORMALISE": mode}
    monkeypatch.setattr(jobs, "runs_inline", lambda: inline)
    assert intake.deferred() is expected


def test_the_worker_normalises_a_jpeg_before_anything_is_sent(
    worker_decodes, storefront, product, shopper, monkeypatch
):
    held = hold_submissions(monkeypatch)
    upload = images.jpeg((1200, 1600), gps=True)
    response = start(shopper, product, upload)
    assert response.status_code == 202, response.content

    photo = ShopperPhoto.objects.get()
    assert photo.normalised_at is None
    assert photo.file_name.startswith("genlook/photos/incoming/")
    assert _stored(photo) == upload  # kept as it came, until the worker takes it
    assert storefront.state.count("POST", "/images/upload") == 0

    _run_held(held)

    photo.refresh_from_db()
    assert photo.normalised_at is not None
    assert not photo.file_name.startswith("genlook/photos/incoming/")
    normalised = Image.open(io.BytesIO(_stored(photo)))
    assert max(normalised.size) == 1024
    assert GPS_IFD not in normalised.getexif()
    assert not files.exists(
        files.photos_storage(), f"genlook/photos/incoming/{photo.public_id}.jpg"
    )
    assert follow(shopper, response.json())["status"] == "completed"
    assert storefront.state.count("POST", "/images/upload") == 1


def test_a_jpeg_that_does_not_decode_fails_its_try_on_with_the_photo_message(
    worker_decodes, storefront, product, shopper, monkeypatch
):
    held = hold_submissions(monkeypatch)
    whole = images.jpeg((1200, 1600))
    damaged = whole[: len(whole) // 3] + b"\x00" * 64  # the header passes; the scan does not
    response = start(shopper, product, damaged)
    assert response.status_code == 202, response.content

    _run_held(held)

    body = follow(shopper, response.json())
    assert body["status"] == "failed"
    assert body["error"]["code"] == "PHOTO_INVALID"
    assert body["error"]["message"].startswith("This photo could not be read")
    assert TryOn.objects.get().error_code == "PHOTO_INVALID"
    assert not ShopperPhoto.objects.exists()  # and its file is gone
    assert storefront.state.count("POST", "/images/upload") == 0  # nothing reached Genlook
    assert shopper.get(ME).json()["photo"] is None  # nothing offered for reuse


def test_what_the_header_tells_is_still_refused_at_once(
    worker_decodes, storefront, product, shopper
):
    response = start(shopper, product, b"GIF89a" + b"\x00" * 100)
    assert response.status_code == 415
    assert response.json()["code"] == "PHOTO_UNSUPPORTED_TYPE"
    response = start(shopper, product, images.jpeg((100, 120)))
    assert response.status_code == 400
    assert response.json()["code"] == "PHOTO_TOO_SMALL"
    assert not ShopperPhoto.objects.exists()


def test_other_formats_are_normalised_in_the_request(worker_decodes, storefront, product, shopper):
    response = start(shopper, product, images.png_rgba((600, 800)))
    assert response.status_code == 202, response.content
    photo = ShopperPhoto.objects.get()
    assert photo.normalised_at is not None
    assert _stored(photo).startswith(b"\xff\xd8\xff")


def test_a_photo_not_yet_normalised_is_never_shown_as_it_came(
    worker_decodes, storefront, product, shopper, monkeypatch
):
    hold_submissions(monkeypatch)
    upload = images.jpeg((1200, 1600), gps=True)
    assert start(shopper, product, upload).status_code == 202

    offered = shopper.get(ME).json()["photo"]  # the widget offers it for reuse
    shown = shopper.get(offered["url"])
    assert shown.status_code == 200
    content = b"".join(shown.streaming_content)
    assert content != upload
    assert GPS_IFD not in Image.open(io.BytesIO(content)).getexif()
    assert ShopperPhoto.objects.get().normalised_at is not None


def test_without_a_worker_the_request_normalises_as_before(storefront, product, shopper):
    response = start(shopper, product, images.jpeg((1200, 1600), gps=True))
    assert response.status_code == 202
    assert ShopperPhoto.objects.get().normalised_at is not None
    assert follow(shopper, response.json())["status"] == "completed"


def test_an_unknown_mode_is_a_check_error(settings):
    from genlook_django.checks import check_storefront

    settings.GENLOOK = {**settings.GENLOOK, "PHOTO_NORMALISE": "later"}
    assert "genlook.E006" in [message.id for message in check_storefront()]


def test_the_photo_url_of_a_try_on_serves_the_normalised_photo(
    worker_decodes, storefront, product, shopper, monkeypatch
):
    held = hold_submissions(monkeypatch)
    body = start(shopper, product, images.jpeg((1200, 1600))).json()
    _run_held(held)
    url = reverse(
        "genlook:photo-detail", kwargs={"public_id": ShopperPhoto.objects.get().public_id}
    )
    assert body["photo_url"].endswith(url)
    content = b"".join(shopper.get(url).streaming_content)
    assert max(Image.open(io.BytesIO(content)).size) == 1024
