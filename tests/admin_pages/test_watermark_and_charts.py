"""The local logo overlay and the admin's SVG charts."""

import io
import xml.etree.ElementTree as ET

import pytest
from PIL import Image

from genlook_django.admin.charts import Series, bar_chart, line_chart
from genlook_django.services.watermark import LogoOverlay, apply_logo


def image_bytes(fmt: str = "JPEG", size=(400, 500), color=(240, 240, 240)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, fmt)
    return out.getvalue()


def logo_bytes() -> bytes:
    out = io.BytesIO()
    logo = Image.new("RGBA", (100, 50), (0, 0, 0, 0))
    logo.paste((200, 0, 0, 255), (0, 0, 100, 50))
    logo.save(out, "PNG")
    return out.getvalue()


@pytest.mark.parametrize(
    ("position", "probe", "untouched"),
    [
        ("bottom-right", (360, 470), (40, 30)),
        ("top-left", (40, 30), (360, 470)),
        ("center", (200, 250), (40, 30)),
    ],
)
def test_logo_lands_where_asked_and_nowhere_else(position, probe, untouched):
    out = apply_logo(image_bytes(), LogoOverlay(logo_bytes(), position=position, opacity=1.0))
    result = Image.open(io.BytesIO(out)).convert("RGB")
    red, green, _ = result.getpixel(probe)
    assert red > 150 and green < 80
    assert result.getpixel(untouched)[1] > 200


def test_opacity_blends_and_format_is_kept():
    out = apply_logo(
        image_bytes("PNG"), LogoOverlay(logo_bytes(), position="center", opacity=0.5, scale=0.5)
    )
    result = Image.open(io.BytesIO(out))
    assert result.format == "PNG"
    red, green, _ = result.convert("RGB").getpixel((200, 250))
    assert 190 < red < 240 and 90 < green < 150  # halfway between grey-white and red


def test_scale_sets_the_logo_width():
    out = apply_logo(
        image_bytes(),
        LogoOverlay(logo_bytes(), position="top-left", scale=0.5, margin=0, opacity=1.0),
    )
    result = Image.open(io.BytesIO(out)).convert("RGB")
    assert result.getpixel((195, 10))[1] < 80  # still logo at 49% of the width
    assert result.getpixel((205, 10))[1] > 200  # past 50%: the photo


@pytest.mark.parametrize(
    "kwargs", [{"position": "middle"}, {"scale": 0}, {"opacity": 1.5}, {"margin": 0.6}]
)
def test_bad_overlay_settings_are_refused(kwargs):
    with pytest.raises(ValueError):
        LogoOverlay(b"", **kwargs)


def test_charts_are_valid_accessible_svg():
    labels = ["Mon", "Tue", "Wed"]
    for chart in (
        bar_chart("Try-ons per day", labels, [Series("completed", [3, 5, 0])]),
        line_chart("Balance", labels, [Series("credits", [100, 95, 90])]),
    ):
        root = ET.fromstring(str(chart))  # noqa: S314  (our own output)
        ns = "{http://www.w3.org/2000/svg}"
        assert root.get("role") == "img"
        assert root.find(f"{ns}title").text
        assert "Mon" in root.find(f"{ns}desc").text


def test_chart_text_is_escaped():
    chart = str(bar_chart("<script>", ["<b>"], [Series("x", [1])]))
    assert "<script>" not in chart and "<b>" not in chart
