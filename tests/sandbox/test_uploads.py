"""POST /images/upload: validation by content, normalisation, retention."""

import io

import pytest
import requests
from PIL import Image

from tests.sandbox.helpers import assert_error, person

DAY = 86_400


def image_bytes(fmt: str, size: tuple[int, int] = (300, 200)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (20, 120, 200)).save(out, fmt)
    return out.getvalue()


def test_upload_returns_an_opaque_id_and_a_fetchable_url(api, person_photo):
    body = api.upload(person_photo, externalUserId="shopper-1", keepForDays="3")

    assert set(body) == {"imageId", "imageUrl"}
    assert "/" in body["imageId"]  # storage-path-like, opaque
    assert body["imageId"].startswith("retention-3d/")
    assert body["imageUrl"].startswith(api.base_url + "/_files/")
    fetched = requests.get(body["imageUrl"], timeout=5)
    assert fetched.status_code == 200
    assert fetched.headers["Content-Type"] == "image/jpeg"
    assert Image.open(io.BytesIO(fetched.content)).format == "JPEG"


def test_crop_defaults_to_a_4_5_portrait(api, person_photo):
    body = api.upload(person_photo)
    width, height = Image.open(io.BytesIO(requests.get(body["imageUrl"], timeout=5).content)).size
    assert abs(width / height - 4 / 5) < 0.01


def test_crop_false_keeps_the_original_framing(api, person_photo):
    body = api.upload(person_photo, crop="false")
    image = Image.open(io.BytesIO(requests.get(body["imageUrl"], timeout=5).content))
    assert image.size == (512, 512)


def test_exif_orientation_is_applied(api):
    # A 300x200 landscape picture whose EXIF says "rotate 90°" is really a portrait.
    exif = Image.Exif()
    exif[0x0112] = 6
    out = io.BytesIO()
    Image.new("RGB", (300, 200), "white").save(out, "JPEG", exif=exif)
    body = api.upload(out.getvalue(), crop="false")
    image = Image.open(io.BytesIO(requests.get(body["imageUrl"], timeout=5).content))
    assert image.size == (200, 300)


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_documented_formats_are_accepted(api, fmt):
    assert api.upload(image_bytes(fmt))["imageId"]


def test_the_deprecated_field_names_are_accepted(api, person_photo):
    body = api.upload(person_photo, customerId="shopper-9", retentionDays="1")
    assert body["imageId"].startswith("retention-1d/")


def test_missing_file_part(api):
    response = api.post("/images/upload", data={"crop": "true"}, files={"other": ("x", b"x")})
    assert_error(response, 400, "FILE_REQUIRED")


def test_json_instead_of_multipart_is_a_missing_file(api):
    assert_error(api.post("/images/upload", json={"file": "x"}), 400, "FILE_REQUIRED")


@pytest.mark.parametrize(
    "content",
    [b"not an image at all, just some text bytes", b"\x89PNG\r\n\x1a\n" + b"\0" * 64, b"x"],
    ids=["text", "truncated-png", "tiny"],
)
def test_bytes_that_are_not_an_image(api, content):
    response = api.post("/images/upload", files={"file": ("me.jpg", content, "image/jpeg")})
    assert_error(response, 400, "INVALID_IMAGE")


def test_undocumented_formats_are_rejected_by_content(api):
    response = api.post("/images/upload", files={"file": ("me.jpg", image_bytes("GIF"))})
    body = assert_error(response, 400, "INVALID_IMAGE")
    assert "GIF" in body["message"]


def test_files_over_10_mb_are_rejected(api):
    too_big = image_bytes("PNG") + b"\0" * (10 * 1024 * 1024)
    response = api.post("/images/upload", files={"file": ("me.png", too_big, "image/png")})
    assert_error(response, 400, "FILE_TOO_LARGE")


@pytest.mark.parametrize(
    ("field", "value"), [("keepForDays", "5"), ("retentionDays", "30"), ("crop", "maybe")]
)
def test_bad_form_fields_are_validation_errors(api, person_photo, field, value):
    response = api.post(
        "/images/upload", files={"file": ("me.png", person_photo)}, data={field: value}
    )
    assert_error(response, 400, "VALIDATION_FAILED", detail_path=field)


def test_uploads_expire_after_keep_for_days(api, sandbox, person_photo, garment_url):
    body = api.upload(person_photo, keepForDays="1")
    sandbox.state.advance_clock(DAY - 60)
    assert requests.get(body["imageUrl"], timeout=5).status_code == 200

    sandbox.state.advance_clock(120)

    assert requests.get(body["imageUrl"], timeout=5).status_code == 404
    product = {"title": "Tee", "images": [{"source": {"url": garment_url}}]}
    response = api.try_on({"products": [product], "person": person(body["imageId"])})
    assert_error(response, 400, "VALIDATION_FAILED", detail_path="person.image.source.id")


def test_uploads_default_to_seven_days(api, sandbox, person_photo):
    body = api.upload(person_photo)
    assert body["imageId"].startswith("retention-7d/")
    sandbox.state.advance_clock(7 * DAY - 60)
    assert requests.get(body["imageUrl"], timeout=5).status_code == 200
    sandbox.state.advance_clock(120)
    assert requests.get(body["imageUrl"], timeout=5).status_code == 404


def test_another_accounts_image_id_is_unknown(api, sandbox, person_photo, garment_url):
    sandbox.state.add_account("gk_other", credits=5)
    image_id = api.upload(person_photo)["imageId"]
    product = {"title": "Tee", "images": [{"source": {"url": garment_url}}]}
    response = api.try_on({"products": [product], "person": person(image_id)}, api_key="gk_other")
    assert_error(response, 400, "VALIDATION_FAILED", detail_path="person.image.source.id")
