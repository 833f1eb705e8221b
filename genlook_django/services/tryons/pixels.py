"""The photo pipeline's pixel work: downscaling a band at a time, modes, colours, the JPEG.

Kept apart from the checks (``photos``): everything here takes a decoded ``Image`` the
pipeline has already bounded, and each step closes what it no longer needs, so the
decoded image stays the only full-size copy.
"""

from __future__ import annotations

import io
import logging
import math
from typing import Any

from PIL import Image

logger = logging.getLogger("genlook_django.photos")

_ALPHA_MODES = ("RGBA", "LA", "PA", "RGBa", "La")


def work_mode(image: Image.Image) -> str:
    """The mode the pixels are resized in: RGB, L, or RGBA when there is transparency
    (flattened onto white only once small)."""
    mode = image.mode
    if mode in ("RGB", "L", "RGBA"):
        return mode
    if mode in _ALPHA_MODES or (mode == "P" and "transparency" in image.info):
        return "RGBA"
    if mode == "1" or mode.startswith("I;16") or mode in ("I", "F"):
        return "L"
    return "RGB"  # P, CMYK, YCbCr, LAB...


def convert(band: Image.Image, work_mode: str) -> Image.Image:
    """A band of the source in ``work_mode`` (a copy, never the source itself)."""
    if band.mode == work_mode:
        return band
    if band.mode.startswith("I;16") or band.mode in ("I", "F"):
        converted = band.point(lambda v: v / 256).convert("L")  # 16-bit grey to 8-bit
    elif band.mode == "P" and work_mode == "RGBA":
        converted = band.convert("RGBA")
    else:
        converted = band.convert(work_mode)
    band.close()
    return converted


def flatten(image: Image.Image) -> Image.Image:
    """RGB, with transparency flattened onto white (a cut-out PNG, say)."""
    if image.mode == "RGB":
        return image
    if image.mode == "RGBA":
        background = Image.new("RGB", image.size, (255, 255, 255))
        background.paste(image, mask=image.getchannel("A"))
        image.close()
        return background
    converted = image.convert("RGB")
    image.close()
    return converted


BAND_ROWS = 192
BAND_SOURCE_BYTES = 4 * 1024 * 1024  # a converted band's source rows, at most (about)


def downscale(image: Image.Image, size: tuple[int, int]) -> Image.Image:
    """Area-average ``image`` down to ``size``, a band of output rows at a time; the result
    is in ``work_mode(image)``.

    After a JPEG's DCT-scaled decode the ratio left is under 2, where a box (area) filter
    is the cheapest true antialiasing filter; after the JPEG re-encode its output is
    within 0.1 dB PSNR of a triangle filter's. For larger ratios (PNG, WebP) ``reduce``
    first averages whole blocks (``reducing_gap``). Working in bands keeps the resize's
    intermediate image to one band. An RGB or L source is resized in place; any other is
    cut into bands of source rows first and each band converted on its own (Pillow's
    resize of RGBA premultiplies a copy of the *whole* image on every call), so the peak
    is the decoded image, one band and the output.
    """
    width, height = image.size
    mode = work_mode(image)
    direct = image.mode == mode and mode != "RGBA"
    scale = height / size[1]
    margin = math.ceil(scale) + 2  # covers the filter's support and reduce()'s blocks
    rows = BAND_ROWS
    if not direct:  # each band is copied (and converted): keep it a few megabytes
        rows = max(8, min(BAND_ROWS, int(BAND_SOURCE_BYTES / (4 * width * scale))))
    out = Image.new(mode, size)
    for top in range(0, size[1], rows):
        bottom = min(size[1], top + rows)
        y0, y1 = top * scale, bottom * scale
        if direct:
            band = image.resize(
                (size[0], bottom - top),
                Image.Resampling.BOX,
                box=(0, y0, width, y1),
                reducing_gap=2.0,
            )
        else:
            first = max(0, math.floor(y0) - margin)
            last = min(height, math.ceil(y1) + margin)
            source = convert(image.crop((0, first, width, last)), mode)
            band = source.resize(
                (size[0], bottom - top),
                Image.Resampling.BOX,
                box=(0, y0 - first, width, y1 - first),
                reducing_gap=2.0,
            )
            source.close()
        out.paste(band, (0, top))
        band.close()
    image.close()
    return out


_srgb: Any = None


def to_srgb(image: Image.Image, icc_profile: bytes | None) -> Image.Image:
    """The pixels in sRGB, so that no profile need be written: the uploader's ICC profile
    (arbitrary bytes, up to megabytes, naming devices and software) never leaves. A
    profile that cannot be used is dropped: the pixels are kept as they are."""
    global _srgb
    if not icc_profile:
        return image
    try:
        from PIL import ImageCms

        if _srgb is None:
            _srgb = ImageCms.createProfile("sRGB")
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc_profile))
        converted = ImageCms.profileToProfile(image, source, _srgb, outputMode="RGB")
    except Exception as exc:  # no littlecms, a broken or non-RGB profile
        logger.info("ICC profile of a shopper photo ignored: %s", exc)
        return image
    if converted is None or converted is image:
        return image
    image.close()
    return converted


def clean_jpeg(image: Image.Image, quality: int) -> bytes:
    """The JPEG of ``image`` with nothing but its JFIF header: ``image.info`` (a comment, PNG
    text, EXIF, XMP, an ICC profile read from the source) is emptied first, since Pillow
    writes some of it back by itself (the JPEG comment, for one)."""
    image.info.clear()
    if hasattr(image, "encoderinfo"):
        del image.encoderinfo
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality)
    return out.getvalue()
