"""Watermark settings: the one row, its validation, the live preview, the local overlay on
new results only, and Genlook's own watermark flag (admin vs. the WATERMARK setting)."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from genlook_django.models import WatermarkSettings
from genlook_django.services import files, watermark
from tests.support.catalog import API_KEY
from tests.support.images import png_logo

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:genlook_watermarksettings_changelist")
PREVIEW = reverse("admin:genlook_watermarksettings_preview")


def change_url(pk: int = 1) -> str:
    return reverse("admin:genlook_watermarksettings_change", args=[pk])


def form_data(**overrides):
    data = {
        "genlook_watermark": "on",
        "position": "bottom-right",
        "scale": "0.3",
        "opacity": "1",
        "margin": "0.03",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def pixel(content: bytes, xy: tuple[int, int]) -> tuple[int, int, int]:
    with Image.open(io.BytesIO(content)) as image:
        return image.convert("RGB").getpixel(xy)


def save_logo(**fields) -> WatermarkSettings:
    row = WatermarkSettings.load()
    row.logo.save("logo.png", SimpleUploadedFile("logo.png", png_logo()), save=False)
    for name, value in fields.items():
        setattr(row, name, value)
    row.save()
    return row


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


# -- The one row -------------------------------------------------------------------------------


def test_the_list_goes_to_the_one_row(admin_client):
    response = admin_client.get(CHANGELIST)
    assert response.status_code == 302
    assert response["Location"] == change_url(WatermarkSettings.objects.get().pk)
    assert admin_client.get(CHANGELIST).status_code == 302
    assert WatermarkSettings.objects.count() == 1

    page = admin_client.get(change_url()).content.decode()
    assert "Genlook watermark" in page and "Apply my logo" in page
    assert "data-genlook-preview" in page and "genlook/admin/watermark.js" in page
    assert 'name="_addanother"' not in page and "deletelink" not in page
    assert admin_client.get(reverse("admin:genlook_watermarksettings_add")).status_code == 403


@pytest.mark.parametrize(
    ("field", "value"),
    [("scale", "0"), ("scale", "1.5"), ("opacity", "-0.1"), ("opacity", "2"), ("margin", "0.4")],
)
def test_values_out_of_range_are_refused(admin_client, media, field, value):
    admin_client.get(CHANGELIST)
    response = admin_client.post(change_url(), form_data(**{field: value}))
    assert response.status_code == 200  # the form again, with the error
    assert response.context["adminform"].form.errors[field]
    assert getattr(WatermarkSettings.objects.get(), field) != float(value)


def test_the_overlay_needs_a_logo(admin_client, media):
    admin_client.get(CHANGELIST)
    response = admin_client.post(change_url(), form_data(overlay_enabled="on"))
    assert "Upload a logo to apply it to results." in response.content.decode()


def test_a_logo_that_is_not_an_image_is_refused(admin_client, media):
    admin_client.get(CHANGELIST)
    fake = SimpleUploadedFile("logo.png", b"not an image", content_type="image/png")
    response = admin_client.post(change_url(), form_data(overlay_enabled="on", logo=fake))
    assert response.context["adminform"].form.errors["logo"]


def test_saving_the_settings(admin_client, media):
    admin_client.get(CHANGELIST)
    logo = SimpleUploadedFile("logo.png", png_logo(), content_type="image/png")
    response = admin_client.post(
        change_url(),
        form_data(genlook_watermark=None, overlay_enabled="on", logo=logo, position="top-left"),
        follow=True,
    )
    assert "stored results are not changed" in response.content.decode()
    row = WatermarkSettings.objects.get()
    assert (row.genlook_watermark, row.overlay_enabled, row.position) == (False, True, "top-left")
    assert row.logo.name.startswith("genlook/watermark/")


# -- The preview -------------------------------------------------------------------------------


def test_the_preview_follows_the_parameters(admin_client, media):
    save_logo()
    plain = admin_client.get(PREVIEW, {"position": "top-left", "opacity": "1"})
    assert plain.status_code == 200 and plain["Content-Type"] == "image/jpeg"
    assert plain["X-Genlook-Preview"] == "logo"
    moved = admin_client.get(PREVIEW, {"position": "bottom-right", "opacity": "1"})
    faint = admin_client.get(PREVIEW, {"position": "top-left", "opacity": "0.2"})

    assert len({plain.content, moved.content, faint.content}) == 3
    top_left = (30, 20)
    assert pixel(plain.content, top_left)[0] > 150 > pixel(plain.content, top_left)[1]  # red logo
    assert pixel(moved.content, top_left) != pixel(plain.content, top_left)


def test_the_preview_of_a_logo_not_saved_yet(admin_client, media):
    admin_client.get(CHANGELIST)
    without = admin_client.get(PREVIEW)
    assert without["X-Genlook-Preview"] == "no-logo"

    logo = SimpleUploadedFile(
        "logo.png", png_logo(color=(0, 0, 200, 255)), content_type="image/png"
    )
    response = admin_client.post(PREVIEW, {"position": "center", "opacity": "1", "logo": logo})
    assert response["X-Genlook-Preview"] == "logo"
    with Image.open(io.BytesIO(response.content)) as image:
        centre = image.convert("RGB").getpixel((image.width // 2, image.height // 2))
    assert centre[2] > 150 > centre[0]  # the blue logo, in the middle
    assert not WatermarkSettings.objects.get().logo  # nothing saved


@pytest.mark.parametrize("query", [{"scale": "3"}, {"opacity": "x"}, {"position": "middle"}])
def test_the_preview_refuses_bad_values(admin_client, media, query):
    save_logo()
    assert admin_client.get(PREVIEW, query).status_code == 400


def test_the_preview_needs_the_view_permission(staff, media):
    assert staff("auth.view_user").get(PREVIEW).status_code == 403
    assert staff("view_watermarksettings").get(PREVIEW).status_code == 200


def test_view_only_staff_cannot_change_the_settings(staff, media):
    client = staff("view_watermarksettings")
    client.get(CHANGELIST)
    page = client.get(change_url())
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()
    assert client.post(change_url(), form_data(opacity="0.1")).status_code == 403


# -- The overlay on results, and Genlook's flag ------------------------------------------------


def test_the_logo_is_applied_to_new_results_only(storefront, real_try_on, media):
    before = real_try_on()
    stored_before = files.results_storage().open(before.result_file).read()

    save_logo(overlay_enabled=True, position="top-left", scale=0.4, opacity=1.0, margin=0.0)
    after = real_try_on()

    stored_after = files.results_storage().open(after.result_file).read()
    assert pixel(stored_after, (10, 10))[0] > 150 > pixel(stored_after, (10, 10))[1]
    assert pixel(stored_before, (10, 10)) != pixel(stored_after, (10, 10))
    # The first result was not rewritten.
    assert files.results_storage().open(before.result_file).read() == stored_before


def test_a_broken_logo_never_costs_the_shopper_their_result(storefront, real_try_on, media):
    row = save_logo(overlay_enabled=True)
    row.logo.storage.delete(row.logo.name)  # gone from storage
    done = real_try_on()
    assert done.state == "completed" and done.result_file


def test_the_admin_decides_genlooks_watermark(storefront, real_try_on, settings, media):
    save_logo(genlook_watermark=False)
    done = real_try_on()
    assert storefront.state.engine.get(API_KEY, done.generation_id).watermark is False


def test_the_setting_wins_over_the_admin(storefront, settings, admin_client, media):
    WatermarkSettings.objects.create(pk=1, genlook_watermark=False)
    settings.GENLOOK = {**settings.GENLOOK, "WATERMARK": True}
    assert watermark.genlook_watermark() is True

    page = admin_client.get(change_url()).content.decode()
    assert "wins over this page" in page
    assert 'name="genlook_watermark"' not in page  # read-only here

    settings.GENLOOK = {**settings.GENLOOK, "WATERMARK": None}
    assert watermark.genlook_watermark() is False


def test_reading_the_settings_writes_nothing(db):
    assert watermark.genlook_watermark() is True
    assert watermark.configured_overlay() is None
    assert WatermarkSettings.objects.count() == 0
