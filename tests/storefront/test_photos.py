"""The photo pipeline: each bad input refused with its code, good ones made small and clean."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from genlook_django.services.tryons import photos
from genlook_django.services.tryons.photos import PhotoError, PhotoLimits
from tests.support import images

LIMITS = PhotoLimits(
    max_bytes=10 * 1024 * 1024, max_pixels=50_000_000, min_edge=256, long_edge=1024, quality=85
)


def open_result(result: photos.NormalisedPhoto) -> Image.Image:
    image = Image.open(io.BytesIO(result.content))
    assert image.format == "JPEG"
    return image


def test_a_phone_photo_is_turned_upright_downscaled_and_stripped():
    # Stored landscape with orientation 6 ("rotate 90"), as phones do; GPS in the EXIF.
    source = images.jpeg((4032, 3024), orientation=6, gps=True)

    result = photos.normalise(source, LIMITS)

    image = open_result(result)
    # Portrait now, at the decoder's 1/4 scale (1008 px: within 3% of the 1024 px aimed at).
    assert (result.width, result.height) == image.size == (756, 1008)
    assert result.source_size == (4032, 3024)
    assert result.source_format == "JPEG"
    assert not image.getexif()  # no orientation, camera or GPS left
    assert b"Exif" not in result.content[:2048]
    # Rotated 90° clockwise: the red left half is now the top half.
    top = image.getpixel((378, 100))
    bottom = image.getpixel((378, 900))
    assert top[0] > 150 and top[2] < 100
    assert bottom[2] > 150 and bottom[0] < 100


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ((4032, 3024), (1008, 756)),  # 1/4 scale, 1.6% short: kept as decoded
        ((4000, 3000), (1000, 750)),  # 1/4 scale, 2.3% short: kept as decoded
        ((3900, 2925), (1024, 768)),  # 1/4 would be 4.8% short: 1/2 scale, then downscaled
        ((4096, 3072), (1024, 768)),  # 1/4 scale exactly
        ((6000, 4000), (1024, 683)),  # 1/4 scale covers (1500 px), then downscaled
    ],
)
def test_a_large_jpeg_keeps_its_reduced_scale_decode_when_it_is_nearly_the_target(source, expected):
    result = photos.normalise(images.jpeg(source), LIMITS)
    assert (result.width, result.height) == open_result(result).size == expected


def test_a_small_photo_is_not_enlarged():
    result = photos.normalise(images.jpeg((640, 480)), LIMITS)
    assert (result.width, result.height) == (640, 480)


def test_transparency_is_flattened_onto_white():
    result = photos.normalise(images.png_rgba(), LIMITS)

    image = open_result(result)
    assert image.mode == "RGB"
    assert image.getpixel((5, 5)) == pytest.approx((255, 255, 255), abs=3)
    assert result.source_format == "PNG"


def test_webp_is_accepted():
    result = photos.normalise(images.webp(), LIMITS)
    assert result.source_format == "WEBP"
    assert open_result(result).size == (400, 500)


def test_the_output_is_bounded():
    result = photos.normalise(images.jpeg((6000, 4000)), LIMITS)
    assert max(result.width, result.height) == 1024
    assert len(result.content) < 1_200_000


@pytest.mark.parametrize(
    ("content", "code", "status"),
    [
        (b"", "PHOTO_INVALID", 400),
        (b"%PDF-1.7 not a photo at all", "PHOTO_UNSUPPORTED_TYPE", 415),
        (images.gif(), "PHOTO_UNSUPPORTED_TYPE", 415),
        (images.jpeg()[:600], "PHOTO_INVALID", 400),  # truncated
        (images.png_bomb(), "PHOTO_TOO_MANY_PIXELS", 413),
        (images.jpeg((200, 150)), "PHOTO_TOO_SMALL", 400),
    ],
    ids=["empty", "pdf", "gif", "truncated", "bomb", "small"],
)
def test_bad_photos_are_refused_with_a_code(content, code, status):
    with pytest.raises(PhotoError) as caught:
        photos.normalise(content, LIMITS)
    assert (caught.value.code, caught.value.status) == (code, status)
    assert str(caught.value.message)  # something to tell the shopper


def test_a_file_over_the_byte_limit_is_refused_before_it_is_read():
    class Upload(io.BytesIO):
        size = 11 * 1024 * 1024

    with pytest.raises(PhotoError) as caught:
        photos.normalise(Upload(b"\xff\xd8\xff"), LIMITS)
    assert (caught.value.code, caught.value.status) == ("PHOTO_TOO_LARGE", 413)

    with pytest.raises(PhotoError) as caught:
        photos.normalise(b"\xff\xd8\xff" + b"\x00" * 2000, PhotoLimits(1000, 10**7, 1, 1024, 85))
    assert caught.value.code == "PHOTO_TOO_LARGE"


def test_the_pixel_bound_is_checked_before_decoding():
    # 30000 x 30000 would take 3.6 GB decoded; it is refused from its header alone.
    with pytest.raises(PhotoError) as caught:
        photos.normalise(images.png_bomb(), LIMITS)
    assert caught.value.code == "PHOTO_TOO_MANY_PIXELS"


def test_heic_without_the_extra_is_refused_clearly(monkeypatch):
    # pillow-heif is installed here: only this stands for a shop without the extra.
    monkeypatch.setattr(photos, "heif_supported", lambda: False)
    with pytest.raises(PhotoError) as caught:
        photos.normalise(images.heic_header(), LIMITS)
    assert (caught.value.code, caught.value.status) == ("PHOTO_HEIC_UNSUPPORTED", 415)


def test_content_decides_the_type_not_the_name():
    assert photos.sniff_format(images.webp()) == "WEBP"
    assert photos.sniff_format(images.png_rgba()) == "PNG"
    assert photos.sniff_format(images.jpeg()) == "JPEG"
    assert photos.sniff_format(images.heic_header()) == "HEIF"
    assert photos.sniff_format(b"GIF89a...") is None


def test_limits_come_from_the_settings(settings):
    settings.GENLOOK = {**settings.GENLOOK, "PHOTO_LONG_EDGE": 512, "PHOTO_MIN_EDGE": 100}
    result = photos.normalise(images.jpeg((1800, 900)))
    assert (result.width, result.height) == (512, 256)


# -- No metadata survives the re-encode ------------------------------------------------------

APP0, APP1, APP2, COM = 0xE0, 0xE1, 0xE2, 0xFE


@pytest.mark.parametrize("size", [(640, 480), (2000, 1500)], ids=["as-is", "downscaled"])
@pytest.mark.parametrize(
    "source",
    [
        lambda size: images.jpeg_with_metadata(size, comment=True),
        lambda size: images.jpeg_with_metadata(size, gps=True),
        lambda size: images.jpeg_with_metadata(size, xmp=True),
        lambda size: images.jpeg_with_metadata(size, comment=True, gps=True, xmp=True),
        images.png_with_text,
    ],
    ids=["jpeg-comment", "jpeg-exif-gps", "jpeg-xmp", "jpeg-all", "png-text"],
)
def test_no_metadata_survives_the_re_encode(source, size):
    content = source(size)
    if content.startswith(b"\xff\xd8"):  # the source does carry metadata
        assert set(images.jpeg_segments(content)) & {APP1, COM}
    else:
        assert b"tEXt" in content

    result = photos.normalise(content, LIMITS)

    segments = images.jpeg_segments(result.content)
    appn_and_comments = [m for m in segments if 0xE0 <= m <= 0xEF or m == COM]
    assert appn_and_comments == [APP0], [hex(m) for m in segments]  # JFIF, and nothing else
    assert result.content[6:11] == b"JFIF\x00"
    for secret in (b"Rivoli", b"Ada", b"ExamplePhone", b"xmpmeta", b"Exif"):
        assert secret not in result.content
    assert open_result(result).info.get("comment") is None


def test_an_icc_profile_is_applied_not_carried_along():
    from PIL import ImageCms

    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("LAB")).tobytes()  # not sRGB
    rgb_profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    for icc in (rgb_profile, profile, b"not a profile at all"):
        content = images.encode(
            Image.new("RGB", (640, 480), (10, 200, 30)), "JPEG", icc_profile=icc
        )
        assert APP2 in images.jpeg_segments(content)

        result = photos.normalise(content, LIMITS)

        assert images.jpeg_segments(result.content).count(APP2) == 0
        assert open_result(result).info.get("icc_profile") is None
        assert open_result(result).getpixel((5, 5)) == pytest.approx((10, 200, 30), abs=8)


# -- What is decoded at full size gets a lower pixel bound ------------------------------------

FULL_DECODE_LIMITS = PhotoLimits(
    max_bytes=10 * 1024 * 1024,
    max_pixels=50_000_000,
    min_edge=256,
    long_edge=1024,
    quality=85,
    max_pixels_full_decode=16_000_000,
)


def test_a_small_file_of_50_megapixels_rgba_is_refused_from_its_header():
    # 209 kB on disk, 200 MB decoded (and ~430 MB on the way to RGB without the bound).
    content = images.png_rgba_streamed(7070, 7070)
    assert len(content) < 250_000

    with pytest.raises(PhotoError) as caught:
        photos.normalise(content, FULL_DECODE_LIMITS)

    assert (caught.value.code, caught.value.status) == ("PHOTO_TOO_MANY_PIXELS", 413)
    assert "16 megapixels" in str(caught.value.message)


def test_the_lower_bound_is_for_what_cannot_be_decoded_at_a_reduced_scale():
    limits = PhotoLimits(10**7, 10**6, 100, 256, 85, max_pixels_full_decode=100_000)
    small_enough = (400, 300)  # 120 000 pixels: over 100 000, under 1 000 000
    baseline = images.encode(Image.new("RGB", small_enough), "JPEG")
    progressive = images.encode(Image.new("RGB", small_enough), "JPEG", progressive=True)

    assert photos.normalise(baseline, limits).source_size == small_enough  # draft() helps
    for content in (progressive, images.webp(small_enough), images.png_rgba(small_enough)):
        with pytest.raises(PhotoError) as caught:
            photos.normalise(content, limits)
        assert caught.value.code == "PHOTO_TOO_MANY_PIXELS"


def test_the_bounds_come_from_the_settings(settings):
    assert PhotoLimits.from_settings().max_pixels_full_decode == 16_000_000
    settings.GENLOOK = {**settings.GENLOOK, "PHOTO_MAX_PIXELS_FULL_DECODE": None}
    assert PhotoLimits.from_settings().pixel_bound(full_decode=True) == 50_000_000


PEAK_SCRIPT = r"""
import io, json, sys
sys.path.insert(0, sys.argv[1])
import django
from django.conf import settings
settings.configure(GENLOOK={}, USE_I18N=False)
django.setup()
from PIL import Image
from genlook_django.services.tryons import photos
from tests.support import images

def high_water_kib():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])

content = images.png_rgba_streamed(4000, 4000)  # 16 MP: at the bound, accepted
Image.new("RGBA", (64, 64)).resize((8, 8)).convert("RGB").save(io.BytesIO(), "JPEG")
before = high_water_kib()
result = photos.normalise(content)
print(json.dumps({"delta_kib": high_water_kib() - before, "size": [result.width, result.height]}))
"""


def test_a_16_megapixel_rgba_png_costs_its_decoded_size_and_little_more():
    """The peak RSS normalise() adds, in a fresh process: the decoded image (64 MB for 16 MP
    RGBA) is the only full-size copy; flattening alpha, converting and resizing happen on
    bands and on the small image. (It was ~200 MB: a copy per conversion.)"""
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    if not os.path.exists("/proc/self/status"):
        pytest.skip("needs Linux's /proc to read the peak RSS")
    root = str(Path(__file__).resolve().parents[2])
    output = subprocess.run(
        [sys.executable, "-c", PEAK_SCRIPT, root],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout
    measured = json.loads(output.strip().splitlines()[-1])
    decoded_mib = 4000 * 4000 * 4 / 2**20  # 61 MiB
    assert measured["size"] == [1024, 1024]
    assert measured["delta_kib"] / 1024 < 1.5 * decoded_mib, measured


# -- At most PHOTO_PIPELINE_CONCURRENCY decodes at once --------------------------------------


def test_a_busy_pipeline_refuses_rather_than_queues():
    import threading
    import time

    limits = PhotoLimits(10**7, 10**7, 100, 512, 85, concurrency=1, wait=0.2)
    holding, release = threading.Event(), threading.Event()

    def occupy() -> None:
        with photos.pipeline_slot(limits):
            holding.set()
            release.wait(10)

    thread = threading.Thread(target=occupy)
    thread.start()
    try:
        assert holding.wait(5)
        started = time.monotonic()
        with pytest.raises(PhotoError) as caught:
            photos.normalise(images.jpeg((640, 480)), limits)
        assert 0.15 < time.monotonic() - started < 2  # waited PHOTO_PIPELINE_WAIT, no more
        assert (caught.value.code, caught.value.status) == ("UPLOADS_BUSY", 503)
        assert caught.value.retry_after == 1
    finally:
        release.set()
        thread.join(5)
    assert photos.normalise(images.jpeg((640, 480)), limits).width == 512  # free again
