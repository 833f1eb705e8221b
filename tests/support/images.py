"""Images for the tests, made with Pillow (and a few hand-made headers): shoppers' photos,
product images, admin results and logos."""

from __future__ import annotations

import io
import struct
import zlib

from PIL import Image

GPS_IFD = 0x8825
ORIENTATION = 0x0112


def jpeg(
    size: tuple[int, int] = (800, 600), *, orientation: int | None = None, gps: bool = False
) -> bytes:
    """A JPEG whose left half is red and right half blue (to see rotations)."""
    image = Image.new("RGB", size, (200, 30, 30))
    image.paste((30, 30, 200), (size[0] // 2, 0, size[0], size[1]))
    exif = Image.Exif()
    exif[0x010F] = "ExamplePhone"
    if orientation is not None:
        exif[ORIENTATION] = orientation
    if gps:
        exif[GPS_IFD] = {1: "N", 2: (48.0, 51.0, 29.0), 3: "E", 4: (2.0, 17.0, 40.0)}
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90, exif=exif)
    return out.getvalue()


def encode(image: Image.Image, format: str, **options) -> bytes:
    out = io.BytesIO()
    image.save(out, format, **options)
    return out.getvalue()


def png_rgba(size: tuple[int, int] = (400, 500)) -> bytes:
    image = Image.new("RGBA", size, (0, 0, 0, 0))
    image.paste((20, 120, 60, 255), (100, 100, 300, 400))
    return encode(image, "PNG")


def webp(size: tuple[int, int] = (400, 500)) -> bytes:
    return encode(Image.new("RGB", size, (90, 140, 200)), "WEBP")


def gif(size: tuple[int, int] = (400, 500)) -> bytes:
    return encode(Image.new("P", size), "GIF")


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_bomb(width: int = 30_000, height: int = 30_000) -> bytes:
    """A 100-byte PNG that claims 900 megapixels: only its header is ever read."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", header)
        + png_chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + png_chunk(b"IEND", b"")
    )


def heic_header() -> bytes:
    """The start of an HEIC file (an ISO-BMFF ``ftyp`` box with the ``heic`` brand)."""
    return struct.pack(">I", 24) + b"ftypheic" + b"\x00\x00\x00\x00" + b"mif1heic" + b"\x00" * 64


def png_rgba_streamed(
    width: int, height: int, rgba: tuple[int, int, int, int] = (20, 120, 60, 128)
):
    """A real, valid RGBA PNG of any size, compressed row by row (never held decoded here):
    7070x7070 is about 200 kB on disk and 200 MB once decoded."""
    compressor = zlib.compressobj(9)
    row = b"\x00" + bytes(rgba) * width  # filter type 0, then the pixels
    body = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)  # 8-bit RGBA
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", header)
        + png_chunk(b"IDAT", body)
        + png_chunk(b"IEND", b"")
    )


XMP = (
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/'
    b'22-rdf-syntax-ns#"><rdf:Description dc:creator="Ada Lovelace" xmlns:dc="http://purl.org/'
    b'dc/elements/1.1/"/></rdf:RDF></x:xmpmeta>'
)


def jpeg_with_metadata(
    size: tuple[int, int], *, comment: bool = False, gps: bool = False, xmp: bool = False
) -> bytes:
    """A JPEG carrying a comment (COM), EXIF with a GPS position (APP1) and/or XMP (APP1)."""
    image = Image.new("RGB", size, (200, 30, 30))
    options: dict = {"quality": 90}
    if comment:
        options["comment"] = b"Shot at 12 Rue de Rivoli by Ada"
    if gps:
        exif = Image.Exif()
        exif[0x010F] = "ExamplePhone"
        exif[GPS_IFD] = {1: "N", 2: (48.0, 51.0, 29.0), 3: "E", 4: (2.0, 17.0, 40.0)}
        options["exif"] = exif
    if xmp:
        options["xmp"] = XMP
    return encode(image, "JPEG", **options)


def png_with_text(size: tuple[int, int]) -> bytes:
    """A PNG with tEXt chunks, one of them named "comment" (Pillow reads it into
    ``info["comment"]``, which its JPEG writer would turn into a COM segment)."""
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("comment", "Ada's flat, 12 Rue de Rivoli")
    info.add_text("Author", "Ada Lovelace")
    return encode(Image.new("RGB", size, (30, 30, 200)), "PNG", pnginfo=info)


def jpeg_segments(content: bytes) -> list[int]:
    """The markers of a JPEG's segments before its scan (0xE0 APP0, 0xE1 APP1, 0xFE COM...)."""
    assert content[:2] == b"\xff\xd8"
    markers, at = [], 2
    while at < len(content):
        assert content[at] == 0xFF, f"not a marker at {at}"
        marker = content[at + 1]
        if marker == 0xDA:  # start of scan: the pixels follow
            break
        markers.append(marker)
        at += 2 + struct.unpack(">H", content[at + 2 : at + 4])[0]
    return markers


def image_bytes(size: tuple[int, int] = (400, 500), fmt: str = "PNG", colour: str = "tan") -> bytes:
    """A plain product image (PNG unless told)."""
    return encode(Image.new("RGB", size, colour), fmt)


def grey_jpeg(size: tuple[int, int] = (300, 400), color=(235, 235, 235)) -> bytes:
    """A plain JPEG, as a stored result or photo."""
    return encode(Image.new("RGB", size, color), "JPEG", quality=90)


def png_logo(size: tuple[int, int] = (100, 50), color=(200, 0, 0, 255)) -> bytes:
    """A plain RGBA PNG, as a watermark logo."""
    return encode(Image.new("RGBA", size, color), "PNG")
