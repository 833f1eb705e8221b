"""The shopper photo pipeline: check an upload, and turn it into a small, clean JPEG.

1. **Bounded**: at most ``PHOTO_MAX_BYTES``, and the pixel count is read from the header
   and checked *before* anything is decoded (a 50 kB PNG can claim 400 megapixels: a
   decompression bomb): ``PHOTO_MAX_PIXELS`` for a baseline JPEG, which is decoded at a
   reduced scale, and the lower ``PHOTO_MAX_PIXELS_FULL_DECODE`` for what is decoded at
   full size whatever the target (PNG, WebP, HEIC, progressive JPEG: a 194 kB PNG of
   7070x7070 transparent pixels is 200 MB once decoded). At most
   ``PHOTO_PIPELINE_CONCURRENCY`` photos are decoded at once per process; an upload that
   finds no free slot within ``PHOTO_PIPELINE_WAIT`` seconds is refused (``UPLOADS_BUSY``)
   rather than queued without end.
2. **Typed by content**, never by name or declared type: JPEG, PNG, WebP, and HEIC/HEIF when
   ``pillow-heif`` is installed (``pip install genlook-django[heic]``). Each format is
   opened with its own decoder only.
3. **Fast and small**: a JPEG is decoded straight at the smallest DCT scale (1/2, 1/4,
   1/8) that still covers the target size (``Image.draft``), so a 12-megapixel phone photo
   is never decoded at full size; what remains is area-averaged down (``reduce`` by whole
   factors first when the ratio is large), a band of rows at a time; a band is converted
   (palette, 16-bit, transparency) only once cut out, so the decoded image is the only
   full-size copy ever held, and transparency is flattened onto white after the downscale.
4. **Upright and anonymous**: the EXIF orientation is applied to the pixels, and no
   metadata at all is written back: no EXIF (GPS position, camera, time, owner), no XMP, no
   comment, no PNG text. A photo with an ICC profile is converted to sRGB, so the colours
   stay right without carrying the uploader's profile along.
5. Re-encoded as a baseline JPEG (``PHOTO_QUALITY``) no longer than ``PHOTO_LONG_EDGE``:
   only its JFIF header precedes the pixels.

Every refusal is a ``PhotoError`` with a stable ``code``, a message fit for a shopper and
the HTTP status the storefront answers.
"""

from __future__ import annotations

import io
import logging
import math
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO, Any

from django.utils.translation import gettext_lazy as _
from PIL import Image, UnidentifiedImageError

from genlook_django.conf import genlook_settings

logger = logging.getLogger("genlook_django.photos")

JPEG, PNG, WEBP, HEIF = "JPEG", "PNG", "WEBP", "HEIF"
ORIENTATION = 0x0112
# EXIF orientation -> the transpose that makes the pixels upright (as ImageOps.exif_transpose).
_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
_HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1", b"avif"}


class PhotoError(Exception):
    """A photo the storefront refuses. ``message`` is safe to show to the shopper."""

    def __init__(
        self, code: str, message: Any, status: int = 400, *, retry_after: int | None = None
    ) -> None:
        super().__init__(str(message))
        self.code = code
        self.message = message
        self.status = status
        self.retry_after = retry_after


@dataclass(frozen=True)
class NormalisedPhoto:
    content: bytes
    width: int
    height: int
    source_format: str  # JPEG, PNG, WEBP or HEIF
    source_size: tuple[int, int]  # as stored in the file, before orientation


@dataclass(frozen=True)
class PhotoLimits:
    max_bytes: int
    max_pixels: int
    min_edge: int
    long_edge: int
    quality: int
    # For photos decoded at full size (PNG, WebP, HEIC, progressive JPEG); None: max_pixels.
    max_pixels_full_decode: int | None = None
    concurrency: int | None = None  # photos decoded at once per process; None: no cap
    wait: float = 3.0  # seconds to wait for a free slot

    @classmethod
    def from_settings(cls) -> PhotoLimits:
        full = genlook_settings.PHOTO_MAX_PIXELS_FULL_DECODE
        concurrency = genlook_settings.PHOTO_PIPELINE_CONCURRENCY
        return cls(
            max_bytes=int(genlook_settings.PHOTO_MAX_BYTES),
            max_pixels=int(genlook_settings.PHOTO_MAX_PIXELS),
            min_edge=int(genlook_settings.PHOTO_MIN_EDGE),
            long_edge=int(genlook_settings.PHOTO_LONG_EDGE),
            quality=int(genlook_settings.PHOTO_QUALITY),
            max_pixels_full_decode=None if full is None else int(full),
            concurrency=None if concurrency is None else int(concurrency),
            wait=float(genlook_settings.PHOTO_PIPELINE_WAIT),
        )

    def pixel_bound(self, full_decode: bool) -> int:
        """The largest pixel count accepted for a photo decoded at full size or not."""
        if full_decode and self.max_pixels_full_decode is not None:
            return min(self.max_pixels, self.max_pixels_full_decode)
        return self.max_pixels


def sniff_format(head: bytes) -> str | None:
    """The image format told by the first bytes, or None."""
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP
    if head[4:8] == b"ftyp" and head[8:12] in _HEIF_BRANDS:
        return HEIF
    return None


_heif_ready: bool | None = None


def heif_supported() -> bool:
    """Whether HEIC/HEIF photos can be decoded here (the optional ``pillow-heif``)."""
    global _heif_ready
    if _heif_ready is None:
        try:
            import pillow_heif  # type: ignore[import-not-found]

            pillow_heif.register_heif_opener()
            _heif_ready = True
        except ImportError:
            _heif_ready = False
    return _heif_ready


def too_large_error(limits: PhotoLimits) -> PhotoError:
    return PhotoError(
        "PHOTO_TOO_LARGE",
        _("This photo is too large. Please choose one under %(size)s MB.")
        % {"size": _megabytes(limits.max_bytes)},
        413,
    )


def _megabytes(value: int) -> str:
    return f"{value / 1_000_000:.0f}" if value >= 1_000_000 else f"{value / 1_000_000:.1f}"


def _read(file: bytes | IO[bytes], limits: PhotoLimits) -> bytes:
    size = getattr(file, "size", None)
    if isinstance(size, int) and size > limits.max_bytes:
        raise too_large_error(limits)
    if isinstance(file, bytes | bytearray | memoryview):
        data = bytes(file)
    else:
        if hasattr(file, "seek"):
            file.seek(0)
        data = file.read(limits.max_bytes + 1)
    if len(data) > limits.max_bytes:
        raise too_large_error(limits)
    if not data:
        raise PhotoError("PHOTO_INVALID", _("This file is empty. Please choose a photo."))
    return data


def target_size(width: int, height: int, long_edge: int) -> tuple[int, int]:
    """The size that fits ``long_edge`` (never larger than the original)."""
    scale = min(1.0, long_edge / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


def open_photo(data: bytes, limits: PhotoLimits) -> tuple[Image.Image, str]:
    """Open (not decode) the photo with the decoder of its real type, after the checks."""
    kind = sniff_format(data[:32])
    if kind is None:
        raise PhotoError(
            "PHOTO_UNSUPPORTED_TYPE",
            _("This file is not a photo we can use. Please choose a JPEG, PNG or WebP image."),
            415,
        )
    if kind == HEIF and not heif_supported():
        raise PhotoError(
            "PHOTO_HEIC_UNSUPPORTED",
            _(
                "HEIC photos are not supported here. Please choose a JPEG or PNG, or set your "
                "camera to save in the most compatible format."
            ),
            415,
        )
    try:
        with warnings.catch_warnings():
            # Our own pixel bound runs next; Pillow's warning would only duplicate it.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=None if kind == HEIF else [kind])
    except Image.DecompressionBombError:
        raise _too_many_pixels(limits.max_pixels) from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        raise _invalid(exc) from exc
    width, height = image.size
    bound = limits.pixel_bound(decoded_at_full_size(image, kind))
    if width * height > bound:
        image.close()
        raise _too_many_pixels(bound)
    if min(width, height) < limits.min_edge:
        image.close()
        raise PhotoError(
            "PHOTO_TOO_SMALL",
            _("This photo is too small. Please choose one at least %(px)s pixels wide.")
            % {"px": limits.min_edge},
        )
    return image, kind


def decoded_at_full_size(image: Image.Image, kind: str) -> bool:
    """Whether decoding this photo needs its whole pixel grid in memory: anything but a
    baseline JPEG (whose ``draft`` decodes at 1/2, 1/4 or 1/8 scale). A progressive JPEG
    keeps every DCT coefficient of the full image while it decodes, whatever the scale."""
    if kind != JPEG:
        return True
    return bool(image.info.get("progressive") or image.info.get("progression"))


def _too_many_pixels(bound: int) -> PhotoError:
    return PhotoError(
        "PHOTO_TOO_MANY_PIXELS",
        _("This photo has too many pixels (over %(mp)s megapixels). Please choose a smaller one.")
        % {"mp": bound // 1_000_000},
        413,
    )


# -- At most PHOTO_PIPELINE_CONCURRENCY decodes at once per process ---------------------------

_gates: dict[int, threading.BoundedSemaphore] = {}
_gates_lock = threading.Lock()


def _gate(concurrency: int) -> threading.BoundedSemaphore:
    with _gates_lock:
        gate = _gates.get(concurrency)
        if gate is None:
            gate = _gates[concurrency] = threading.BoundedSemaphore(concurrency)
        return gate


BUSY = "UPLOADS_BUSY"


def busy_error(limits: PhotoLimits) -> PhotoError:
    return PhotoError(
        BUSY,
        _("Lots of photos are being uploaded right now. Please try again in a moment."),
        503,
        retry_after=max(1, math.ceil(limits.wait)),
    )


@contextmanager
def pipeline_slot(limits: PhotoLimits) -> Iterator[None]:
    """One of the process's ``concurrency`` decoding slots, waited for at most
    ``limits.wait`` seconds; ``PhotoError("UPLOADS_BUSY", status=503)`` otherwise."""
    if limits.concurrency is None or limits.concurrency <= 0:
        yield
        return
    gate = _gate(limits.concurrency)
    if not gate.acquire(timeout=max(0.0, limits.wait)):
        logger.warning("Photo pipeline busy: %s photos already being decoded", limits.concurrency)
        raise busy_error(limits)
    try:
        yield
    finally:
        gate.release()


def _invalid(exc: BaseException) -> PhotoError:
    logger.info("Shopper photo rejected as unreadable: %s", exc)
    return PhotoError(
        "PHOTO_INVALID",
        _("This photo could not be read: the file may be damaged. Please choose another one."),
    )


def _orientation(image: Image.Image) -> int:
    try:
        value = image.getexif().get(ORIENTATION, 1)
    except Exception:  # a broken EXIF block is no reason to refuse the photo
        return 1
    return value if value in _TRANSPOSE else 1


_ALPHA_MODES = ("RGBA", "LA", "PA", "RGBa", "La")


def _work_mode(image: Image.Image) -> str:
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


def _convert(band: Image.Image, work_mode: str) -> Image.Image:
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


def _flatten(image: Image.Image) -> Image.Image:
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


def _downscale(image: Image.Image, size: tuple[int, int]) -> Image.Image:
    """Area-average ``image`` down to ``size``, a band of output rows at a time; the result
    is in ``_work_mode(image)``.

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
    work_mode = _work_mode(image)
    direct = image.mode == work_mode and work_mode != "RGBA"
    scale = height / size[1]
    margin = math.ceil(scale) + 2  # covers the filter's support and reduce()'s blocks
    rows = BAND_ROWS
    if not direct:  # each band is copied (and converted): keep it a few megabytes
        rows = max(8, min(BAND_ROWS, int(BAND_SOURCE_BYTES / (4 * width * scale))))
    out = Image.new(work_mode, size)
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
            source = _convert(image.crop((0, first, width, last)), work_mode)
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


def _to_srgb(image: Image.Image, icc_profile: bytes | None) -> Image.Image:
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


def _clean_jpeg(image: Image.Image, quality: int) -> bytes:
    """The JPEG of ``image`` with nothing but its JFIF header: ``image.info`` (a comment, PNG
    text, EXIF, XMP, an ICC profile read from the source) is emptied first, since Pillow
    writes some of it back by itself (the JPEG comment, for one)."""
    image.info.clear()
    if hasattr(image, "encoderinfo"):
        del image.encoderinfo
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality)
    return out.getvalue()


def normalise(file: bytes | IO[bytes], limits: PhotoLimits | None = None) -> NormalisedPhoto:
    """Check and normalise one shopper photo; raises ``PhotoError``."""
    limits = limits or PhotoLimits.from_settings()
    data = _read(file, limits)
    image, kind = open_photo(data, limits)
    source_size = image.size
    try:
        with pipeline_slot(limits):
            content, width, height = _normalise_image(image, kind, limits)
    except PhotoError:
        raise
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        raise _invalid(exc) from exc
    finally:
        image.close()
    return NormalisedPhoto(
        content=content,
        width=width,
        height=height,
        source_format=kind,
        source_size=source_size,
    )


def _normalise_image(image: Image.Image, kind: str, limits: PhotoLimits) -> tuple[bytes, int, int]:
    if kind != JPEG:
        # Decoded at full size anyway; decoded here, so that a damaged file fails here.
        # Otherwise a PNG's getexif() (its EXIF may follow the pixels) decodes it inside
        # _orientation, which takes any error for a broken EXIF block: the half-decoded
        # pixels would pass as the photo.
        image.load()
    orientation = _orientation(image)
    icc_profile = image.info.get("icc_profile")
    if getattr(image, "n_frames", 1) > 1:
        image.seek(0)  # an animated WebP/PNG: its first frame
    size = target_size(*image.size, limits.long_edge)
    if kind == JPEG:
        # Decode at the smallest DCT scale that still covers the target (1/2, 1/4,
        # 1/8): a 12 MP photo aimed at 1024 px is decoded at 2016x1512, a quarter of
        # the pixels.
        image.draft(None, size)
    if image.size != size:
        image = _downscale(image, size)  # the only full-size copy is the decoded one
    image = _flatten(_convert(image, _work_mode(image)))  # small by now
    if orientation != 1:
        upright = image.transpose(_TRANSPOSE[orientation])
        image.close()
        image = upright
    image = _to_srgb(image, icc_profile)
    try:
        return _clean_jpeg(image, limits.quality), image.width, image.height
    finally:
        image.close()


__all__ = [
    "NormalisedPhoto",
    "PhotoError",
    "PhotoLimits",
    "heif_supported",
    "normalise",
    "sniff_format",
    "target_size",
]
