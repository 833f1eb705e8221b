"""Pillow work: validate and normalise photos, draw placeholders, render a fake try-on."""

from __future__ import annotations

import hashlib
import io

from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageFont, ImageOps

try:  # HEIC is accepted only when pillow-heif is installed (it registers the HEIF opener).
    from pillow_heif import register_heif_opener  # type: ignore[import-not-found]
except ImportError:  # pragma: no cover - depends on the environment
    HEIF_FORMATS: frozenset[str] = frozenset()
else:  # pragma: no cover - depends on the environment
    register_heif_opener()
    HEIF_FORMATS = frozenset({"HEIF", "HEIC"})

SUPPORTED_FORMATS = frozenset({"JPEG", "PNG", "WEBP"}) | HEIF_FORMATS
MAX_SIDE = 1024  # results and stored photos are capped: the sandbox keeps them all in memory
MIN_SIDE = 16
MAX_PIXELS = 40_000_000  # refuse before decoding: a small file can hold a huge canvas
JPEG = ("image/jpeg", "jpeg")
SANDBOX_BAND = (214, 0, 110)


class ImageRejected(Exception):
    """Bytes that are not a supported, decodable image."""


def open_image(data: bytes) -> Image.Image:
    """Decode ``data`` completely, accepting only the documented formats."""
    if len(data) < 32:
        raise ImageRejected("The file is too small to be an image.")
    try:
        image = Image.open(io.BytesIO(data))
        image_format = image.format or "unknown"
        if image.width * image.height > MAX_PIXELS:
            raise ImageRejected(f"The image is too large ({image.width}x{image.height}).")
        image.load()
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError, Warning) as exc:
        # Warning: DecompressionBombWarning, when warnings are errors (as in the test suite).
        raise ImageRejected(f"The file is not a readable image ({exc}).") from exc
    if image_format not in SUPPORTED_FORMATS:
        raise ImageRejected(
            f"Unsupported image format {image_format}; send JPEG, PNG, WebP"
            + (" or HEIC." if HEIF_FORMATS else ".")
        )
    if min(image.size) < MIN_SIDE:
        raise ImageRejected(f"The image is too small ({image.width}x{image.height}).")
    return image


def to_rgb(image: Image.Image) -> Image.Image:
    """RGB, with any transparency flattened onto white."""
    if image.mode in ("RGBA", "LA") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return image.convert("RGB")


def crop_4_5(image: Image.Image) -> Image.Image:
    """Centre crop to a 4:5 portrait, slightly high so a standing person keeps their head."""
    width, height = image.size
    if width * 5 > height * 4:  # too wide
        new_width = height * 4 // 5
        left = (width - new_width) // 2
        return image.crop((left, 0, left + new_width, height))
    new_height = width * 5 // 4
    top = (height - new_height) // 3
    return image.crop((0, top, width, top + new_height))


def normalise_person(image: Image.Image, *, crop: bool) -> Image.Image:
    """What an upload becomes: upright (EXIF), RGB, optionally 4:5, at most MAX_SIDE."""
    image = to_rgb(ImageOps.exif_transpose(image))
    if crop:
        image = crop_4_5(image)
    image.thumbnail((MAX_SIDE, MAX_SIDE))
    return image


def encode_jpeg(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, format="JPEG", quality=88)
    return buffer.getvalue()


def _colour(seed: str) -> tuple[int, int, int]:
    digest = hashlib.sha256(seed.encode()).digest()
    return (60 + digest[0] % 160, 60 + digest[1] % 160, 60 + digest[2] % 160)


def placeholder_garment(seed: str, size: int = 480) -> Image.Image:
    """A drawn T-shirt swatch standing in for a product image the sandbox may not fetch."""
    image = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    s = size / 100
    shirt = [(30, 8), (42, 14), (58, 14), (70, 8), (96, 28), (82, 42), (76, 36), (76, 94),
             (24, 94), (24, 36), (18, 42), (4, 28)]  # fmt: skip
    draw.polygon([(x * s, y * s) for x, y in shirt], fill=(*_colour(seed), 255), outline="black")
    for y in range(30, 92, 12):  # stripes make the overlay obvious on any photo
        draw.line([(26 * s, y * s), (74 * s, y * s)], fill=(255, 255, 255, 140), width=int(2 * s))
    _text(draw, (50 * s, 60 * s), "SANDBOX", int(9 * s), fill=(255, 255, 255, 255))
    return image


def placeholder_person(seed: str) -> Image.Image:
    """A drawn silhouette standing in for a person photo on a host the sandbox may not reach."""
    image = Image.new("RGB", (640, 800), _colour("bg" + seed))
    draw = ImageDraw.Draw(image)
    draw.ellipse((250, 90, 390, 240), fill=(235, 200, 170))
    draw.rounded_rectangle((190, 250, 450, 640), radius=60, fill=(90, 90, 110))
    draw.rectangle((220, 620, 300, 800), fill=(60, 60, 80))
    draw.rectangle((340, 620, 420, 800), fill=(60, 60, 80))
    return image


def cut_out(garment: Image.Image) -> Image.Image:
    """The garment as RGBA with its (roughly uniform) background made transparent."""
    garment = ImageOps.exif_transpose(garment)
    rgba = garment.convert("RGBA")
    if rgba.getextrema()[3][0] < 250:  # already has real transparency
        return rgba
    rgb = rgba.convert("RGB")
    corners = [rgb.getpixel(xy) for xy in _corners(rgb.size)]
    background = tuple(sorted(channel)[len(channel) // 2] for channel in zip(*corners, strict=True))
    difference = ImageChops.difference(rgb, Image.new("RGB", rgb.size, background)).convert("L")
    mask = difference.point(lambda value: 255 if value > 28 else 0)
    mask = mask.filter(ImageFilter.MinFilter(3)).filter(ImageFilter.GaussianBlur(1))
    covered = sum(mask.histogram()[128:]) / (mask.width * mask.height)
    if not 0.05 <= covered <= 0.97:  # no usable background: show it as a framed patch instead
        return ImageOps.expand(rgb, border=max(4, rgb.width // 40), fill="white").convert("RGBA")
    rgba.putalpha(mask)
    return rgba


def _corners(size: tuple[int, int]) -> list[tuple[int, int]]:
    width, height = size
    return [(0, 0), (width - 1, 0), (0, height - 1), (width - 1, height - 1)]


def render_try_on(person: Image.Image, garment: Image.Image, *, watermark: bool) -> bytes:
    """Paste the cut-out garment over the torso of the person and label it as a sandbox result."""
    canvas = to_rgb(person).convert("RGBA")
    canvas.thumbnail((MAX_SIDE, MAX_SIDE))
    width, height = canvas.size
    piece = cut_out(garment)
    piece.thumbnail((int(width * 0.56), int(height * 0.42)))
    left = (width - piece.width) // 2
    top = int(height * 0.30)
    shadow = Image.new("RGBA", piece.size, (0, 0, 0, 90))
    canvas.paste(shadow, (left + 4, top + 4), piece)
    canvas.alpha_composite(piece, (left, top))

    overlay = Image.new("RGBA", canvas.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(overlay)
    band = max(22, height // 14)
    draw.rectangle((0, height - band, width, height), fill=(*SANDBOX_BAND, 215))
    _text(draw, (width / 2, height - band / 2), "SANDBOX - simulated try-on", int(band * 0.55))
    if watermark:
        size = max(12, width // 28)
        box = (width - size * 6, size // 2, width - size // 2, size * 2)
        draw.rounded_rectangle(box, radius=size // 3, fill=(0, 0, 0, 120))
        _text(draw, ((box[0] + box[2]) / 2, (box[1] + box[3]) / 2), "genlook", size)
    canvas = Image.alpha_composite(canvas, overlay)
    return encode_jpeg(canvas)


def _text(
    draw: ImageDraw.ImageDraw,
    centre: tuple[float, float],
    text: str,
    size: int,
    *,
    fill: tuple[int, int, int, int] = (255, 255, 255, 255),
) -> None:
    try:
        font: ImageFont.FreeTypeFont | ImageFont.ImageFont = ImageFont.load_default(size=size)
    except (ImportError, OSError):  # pragma: no cover - Pillow built without FreeType
        font = ImageFont.load_default()
    draw.text(centre, text, fill=fill, font=font, anchor="mm")
