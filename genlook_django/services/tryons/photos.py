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
   1/8) that still covers the target size, or falls at most 3% short of it
   (``DCT_SCALE_SLACK``; ``Image.draft``), so a 12-megapixel phone photo is never decoded
   at full size, and one of 4032x3024 comes out of the decoder at 1008x756; what remains
   is area-averaged down (``reduce`` by whole factors first when the ratio is large), a
   band of rows at a time; a band is converted (palette, 16-bit, transparency) only once
   cut out, so the decoded image is the only full-size copy ever held, and transparency is
   flattened onto white after the downscale.
4. **Upright and anonymous**: the EXIF orientation is applied to the pixels, and no
   metadata at all is written back: no EXIF (GPS position, camera, time, owner), no XMP, no
   comment, no PNG text. A photo with an ICC profile is converted to sRGB, so the colours
   stay right without carrying the uploader's profile along.
5. Re-encoded as a baseline JPEG (``PHOTO_QUALITY``) no longer than ``PHOTO_LONG_EDGE``
   (a large JPEG's up to 3% shorter): only its JFIF header precedes the pixels.

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
from genlook_django.services.tryons import pixels, upload_rules

logger = logging.getLogger("genlook_django.photos")

JPEG, PNG, WEBP, HEIF = "JPEG", "PNG", "WEBP", "HEIF"
INVALID_MESSAGE = _(
    "This photo could not be read: the file may be damaged. Please choose another one."
)
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
_HEIF_BRANDS = upload_rules.HEIF_BRANDS


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
class Received:
    """An upload that passed every check made without decoding it (``inspect``)."""

    content: bytes
    source_format: str
    width: int
    height: int


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
    return PhotoError("PHOTO_TOO_LARGE", upload_rules.too_large_message(limits.max_bytes), 413)


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
        raise PhotoError("PHOTO_INVALID", upload_rules.EMPTY_MESSAGE)
    return data


def target_size(width: int, height: int, long_edge: int) -> tuple[int, int]:
    """The size that fits ``long_edge`` (never larger than the original)."""
    scale = min(1.0, long_edge / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


# How far short of the target a JPEG's reduced-scale decode may fall and still be kept as
# the decoder made it. A 12 MP phone photo (4032x3024) aimed at 1024 px then comes out of
# the decoder at 1/4 scale, 1008x756, with nothing left to resample; covering 1024 px would
# mean decoding at 1/2 (2016x1512, four times the pixels) and area-averaging that down,
# a fifth of the pipeline's time for 1.6% more pixels a side. The scaled IDCT is also the
# finer downsampler: nearer to a full-size Lanczos resize than the box filter.
DCT_SCALE_SLACK = 0.03


def dct_request(size: tuple[int, int]) -> tuple[int, int]:
    """The size to ask a JPEG's ``draft`` for: the smallest DCT scale (1/2, 1/4, 1/8)
    whose decode covers ``size``, or falls short of it by at most ``DCT_SCALE_SLACK``."""
    width, height = size
    kept = 1 - DCT_SCALE_SLACK
    return max(1, math.ceil(width * kept)), max(1, math.ceil(height * kept))


def open_photo(data: bytes, limits: PhotoLimits) -> tuple[Image.Image, str]:
    """Open (not decode) the photo with the decoder of its real type, after the checks."""
    kind = sniff_format(data[:32])
    if kind is None:
        raise PhotoError("PHOTO_UNSUPPORTED_TYPE", upload_rules.UNSUPPORTED_MESSAGE, 415)
    if kind == HEIF and not heif_supported():
        raise PhotoError("PHOTO_HEIC_UNSUPPORTED", upload_rules.HEIC_MESSAGE, 415)
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
    return PhotoError("PHOTO_INVALID", INVALID_MESSAGE)


def _orientation(image: Image.Image) -> int:
    try:
        value = image.getexif().get(ORIENTATION, 1)
    except Exception:  # a broken EXIF block is no reason to refuse the photo
        return 1
    return value if value in _TRANSPOSE else 1


def inspect(file: bytes | IO[bytes], limits: PhotoLimits | None = None) -> Received:
    """The checks of ``normalise`` that need no decoding (size, type, pixel count, smallest
    edge): the header alone is read. Raises ``PhotoError``."""
    limits = limits or PhotoLimits.from_settings()
    data = _read(file, limits)
    image, kind = open_photo(data, limits)
    width, height = image.size
    image.close()
    return Received(content=data, source_format=kind, width=width, height=height)


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
        image.draft(None, dct_request(size))
        if max(image.size) < max(size):  # short by DCT_SCALE_SLACK at most: kept as decoded
            size = image.size
    if image.size != size:
        image = pixels.downscale(image, size)  # the only full-size copy is the decoded one
    image = pixels.flatten(pixels.convert(image, pixels.work_mode(image)))  # small by now
    if orientation != 1:
        upright = image.transpose(_TRANSPOSE[orientation])
        image.close()
        image = upright
    image = pixels.to_srgb(image, icc_profile)
    try:
        return pixels.clean_jpeg(image, limits.quality), image.width, image.height
    finally:
        image.close()


__all__ = [
    "NormalisedPhoto",
    "PhotoError",
    "PhotoLimits",
    "Received",
    "heif_supported",
    "inspect",
    "normalise",
    "sniff_format",
    "target_size",
]
