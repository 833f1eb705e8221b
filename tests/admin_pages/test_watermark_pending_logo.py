"""The watermark form after an error: the logo just chosen is kept (and previewed) so the
merchant only corrects the error and saves; the preview says what is wrong."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.signing import dumps
from django.urls import reverse
from PIL import Image, ImageStat

from genlook_django.models import WatermarkSettings
from genlook_django.services import logo_stash
from tests.support.images import png_logo

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:genlook_watermarksettings_changelist")
PREVIEW = reverse("admin:genlook_watermarksettings_preview")
SAMPLE = (
    Path(__file__).resolve().parents[2] / "genlook_django/static/genlook/admin/sample-result.jpg"
)


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def change_url() -> str:
    return reverse("admin:genlook_watermarksettings_change", args=[WatermarkSettings.load().pk])


def form_data(**overrides):
    data = {"position": "center", "scale": "0.3", "opacity": "1", "margin": "0.03"}
    data.update(overrides)
    return data


def corner_colour(content: bytes) -> list[float]:
    """The mean colour where a logo goes with the default settings (bottom right)."""
    with Image.open(io.BytesIO(content)) as image:
        box = (
            int(image.width * 0.8),
            int(image.height * 0.9),
            int(image.width * 0.95),
            int(image.height * 0.95),
        )
        return ImageStat.Stat(image.convert("RGB").crop(box)).mean


def blue_logo() -> SimpleUploadedFile:
    return SimpleUploadedFile(
        "brand.png", png_logo(color=(0, 0, 200, 255)), content_type="image/png"
    )


def test_a_form_error_keeps_the_chosen_logo_and_its_preview(admin_client, media):
    admin_client.get(CHANGELIST)
    response = admin_client.post(
        change_url(), form_data(overlay_enabled="on", scale="5", logo=blue_logo())
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["scale"]
    page = response.content.decode()
    token = re.search(r'name="pending_logo" value="([^"]+)"', page).group(1)
    assert "“brand.png” is kept" in page
    assert not WatermarkSettings.objects.get().logo  # nothing saved yet

    # The preview on the page shows that logo.
    src = re.search(r'<img src="([^"]+)" data-genlook-preview', page).group(1)
    preview = admin_client.get(src.replace("&amp;", "&"))
    assert preview["X-Genlook-Preview"] == "logo"
    # The saved settings place it (the form's values had the error): bottom right, blue.
    red, _green, blue = corner_colour(preview.content)
    plain_red, _plain_green, plain_blue = corner_colour(SAMPLE.read_bytes())
    assert blue > plain_blue + 100 and red < 60, (red, blue, plain_red, plain_blue)

    # Corrected and saved without choosing the file again: the logo is the one chosen.
    response = admin_client.post(
        change_url(), form_data(overlay_enabled="on", pending_logo=token), follow=True
    )
    assert "stored results are not changed" in response.content.decode()
    row = WatermarkSettings.objects.get()
    assert row.overlay_enabled and row.logo.name.startswith("genlook/watermark/brand")
    with row.logo.open("rb") as stored:
        assert stored.read() == png_logo(color=(0, 0, 200, 255))
    assert logo_stash.load(token) is None  # the stash is gone once saved


def test_a_forged_or_foreign_token_names_no_file(admin_client, media):
    admin_client.get(CHANGELIST)
    forged = dumps({"name": "../../settings.py", "original": "x.png"}, salt=logo_stash.SALT)
    assert logo_stash.load(forged) is None
    assert logo_stash.load("not-a-token") is None
    response = admin_client.post(change_url(), form_data(overlay_enabled="on", pending_logo=forged))
    assert "Upload a logo to apply it to results." in response.content.decode()


def test_the_preview_says_what_is_wrong(admin_client, media):
    admin_client.get(CHANGELIST)
    response = admin_client.get(PREVIEW, {"scale": "3"})
    assert response.status_code == 400
    assert response.content.decode().startswith("Width (share of the image):")

    tiny = SimpleUploadedFile("tiny.png", png_logo((8, 8)), content_type="image/png")
    response = admin_client.post(PREVIEW, {"logo": tiny})
    assert response.status_code == 400
    assert "between 16 and 4096 pixels" in response.content.decode()
