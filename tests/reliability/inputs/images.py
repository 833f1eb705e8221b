"""The material of R3's hostile uploads: valid images of every format made from the seed
(``Bases``), the byte-level tools to damage, inflate or disguise them, and the reference
decode that decides what a corrupted image's oracle is."""

from __future__ import annotations

import io
import random
import struct
import warnings
import zlib

from PIL import Image, ImageCms

from tests.support import images
from tests.support.images import encode, png_chunk

MB = 1024 * 1024


def smooth(rng: random.Random, size: tuple[int, int], mode: str = "RGB") -> Image.Image:
    """A smooth picture (noise upscaled): compresses like a photo, not like noise."""
    small = (max(2, size[0] // 12), max(2, size[1] // 12))
    bands = len(mode) if mode in ("RGB", "RGBA", "CMYK", "LA") else 1
    noise = Image.frombytes(mode, small, rng.randbytes(small[0] * small[1] * bands))
    return noise.resize(size, Image.Resampling.BILINEAR)


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
