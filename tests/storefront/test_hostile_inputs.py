"""Regression tests of the defects R3's hostile uploads found
(tests/reliability/test_r3_hostile_uploads.py): each answered 500, an HTML page without a
code, or accepted a damaged photo."""

from __future__ import annotations

import logging
import struct
import zlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from genlook_django.models import ShopperPhoto, TryOn
from genlook_django.services.tryons import photos
from tests.support import images
from tests.support.storefront import ME, TRY_ONS, product_ref

API = pytest.mark.django_db(transaction=True)  # as the storefront's other API tests

LIMITS = photos.PhotoLimits(
    max_bytes=10 * 1024 * 1024, max_pixels=50_000_000, min_edge=256, long_edge=1024, quality=85
)


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _png(idat: bytes, *, after: bytes = b"", size: int = 300) -> bytes:
    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)  # 8-bit RGB
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", idat)
        + after
        + _chunk(b"IEND", b"")
    )


def _rows(size: int = 300) -> bytes:
    return b"".join(
        b"\x00" + bytes((x * 7 + y) % 256 for x in range(size * 3)) for y in range(size)
    )


@API
def test_a_content_length_of_non_ascii_digits_is_refused_not_a_500(
    storefront, product, person_photo, parsers_must_not_run
):
    # "²".isdigit() is true, yet int("²") raises: the length check answered 500. A WSGI
    # server decodes headers as latin-1, so the byte 0xB2 arrives as "²".
    for length in ("\u00b2", "\u00b9\u00b2\u00b3"):
        response = Client().post(
            TRY_ONS,
            {
                "product": product_ref(product),
                "consent": "true",
                "photo": SimpleUploadedFile("me.jpg", person_photo),
            },
            CONTENT_LENGTH=length,
        )
        assert response.status_code == 411, response.content
        assert response.json()["code"] == "LENGTH_REQUIRED"
    assert parsers_must_not_run == []


@API
def test_json_nested_too_deeply_is_a_malformed_request(storefront, shopper, product):
    # json.load raises RecursionError (not a ValueError) past Python's recursion limit.
    body = b'{"product": "' + product_ref(product).encode() + b'", "photo": '
    body += b"[" * 100_000 + b"]" * 100_000 + b"}"
    response = shopper.post(TRY_ONS, body, content_type="application/json")

    assert response.status_code == 400, response.content
    assert response.json()["code"] == "INVALID_REQUEST"
    assert not TryOn.objects.exists()


@API
@pytest.mark.parametrize(
    ("data", "logger"),
    [
        (
            {"photo": [SimpleUploadedFile(f"{i}.jpg", b"x") for i in range(101)]},
            "django.security.TooManyFilesSent",
        ),
        ({f"field{i}": "x" for i in range(1001)}, "django.security.TooManyFieldsSent"),
        ({"photo": "x" * (2_621_440 + 1)}, "django.security.RequestDataTooBig"),
    ],
    ids=["101-files", "1001-fields", "photo-as-a-3MB-text-field"],
)
def test_djangos_form_limits_are_answered_in_the_storefront_shape(
    storefront, product, caplog, data, logger
):
    # Django raises these while the CSRF check (or the view) parses the form; they were
    # answered with Django's HTML "Bad Request (400)" page, without a code.
    browser = Client(enforce_csrf_checks=True)
    browser.get(ME)
    form = {"product": product_ref(product), "consent": "true", **data}
    with caplog.at_level(logging.ERROR, logger=logger):
        response = browser.post(
            TRY_ONS, form, headers={"X-CSRFToken": browser.cookies["csrftoken"].value}
        )

    assert response.status_code == 400, response.content[:200]
    body = response.json()
    assert (body["code"], body["status"]) == ("INVALID_REQUEST", 400)
    assert body["message"] and body["details"]
    assert any(record.name == logger for record in caplog.records)  # still logged as Django does
    assert not TryOn.objects.exists() and not ShopperPhoto.objects.exists()


def test_a_png_with_a_corrupt_pixel_stream_is_refused_not_half_decoded():
    # Garbage in the middle of a valid deflate stream (with a correct CRC): the decoder
    # fails part-way. getexif() decoded the PNG inside _orientation, which took the error
    # for a broken EXIF block, and the half-decoded pixels were accepted as the photo.
    stream = bytearray(zlib.compress(_rows()))
    stream[len(stream) // 2 : len(stream) // 2 + 16] = b"\xff" * 16
    damaged = _png(bytes(stream))

    with pytest.raises(photos.PhotoError) as caught:
        photos.normalise(damaged, LIMITS)
    assert caught.value.code == "PHOTO_INVALID"


def test_a_png_whose_text_after_the_pixels_is_a_zlib_bomb_is_refused():
    # 64 MB of text in 64 kB, after IDAT: Pillow refuses it (MAX_TEXT_CHUNK) at the end
    # of the decode; that refusal was swallowed the same way.
    bomb = zlib.compress(b"\x00" * (64 * 1024 * 1024), 9)
    content = _png(zlib.compress(_rows()), after=_chunk(b"zTXt", b"Comment\x00\x00" + bomb))

    with pytest.raises(photos.PhotoError) as caught:
        photos.normalise(content, LIMITS)
    assert caught.value.code == "PHOTO_INVALID"


def test_valid_pngs_are_still_accepted():
    for content in (
        _png(zlib.compress(_rows())),
        images.png_rgba(),
        images.png_with_text((400, 300)),
    ):
        assert photos.normalise(content, LIMITS).source_format == "PNG"
