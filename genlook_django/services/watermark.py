"""The merchant's logo laid over stored try-on results (a local watermark, with Pillow).

Genlook can watermark results itself (``output.watermark``, with the logo set in its
dashboard); this overlay is the shop's own, applied when a result is copied into storage.

Both are set in the admin's *Watermark settings* (one ``WatermarkSettings`` row):

- ``genlook_watermark()``: the ``output.watermark`` sent with each try-on. The setting
  ``GENLOOK["WATERMARK"]``, when ``True`` or ``False``, wins over the admin (the admin then
  shows the field read-only); ``None`` (the default) lets the admin decide.
- ``apply_to_result(content)``: the logo overlay, when "apply my logo" is on and a logo is
  uploaded; ``results.ingest`` calls it before storing a new result (stored results are
  never rewritten). A broken logo is logged and the result stored as Genlook made it.
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PIL import Image, ImageOps

if TYPE_CHECKING:
    from genlook_django.models import WatermarkSettings

logger = logging.getLogger("genlook_django.watermark")

POSITIONS = ("top-left", "top-right", "bottom-left", "bottom-right", "center")


@dataclass(frozen=True)
class LogoOverlay:
    logo: bytes
    position: str = "bottom-right"
    scale: float = 0.2  # the logo's width, as a share of the image's width
    opacity: float = 0.8  # 0 transparent .. 1 as drawn
    margin: float = 0.03  # the gap to the edges, as a share of the image's width

    def __post_init__(self) -> None:
        if self.position not in POSITIONS:
            raise ValueError(f"position must be one of {', '.join(POSITIONS)}")
        if not 0 < self.scale <= 1 or not 0 <= self.opacity <= 1 or not 0 <= self.margin < 0.5:
            raise ValueError("scale must be in (0, 1], opacity in [0, 1], margin in [0, 0.5)")


def _place(position: str, canvas: tuple[int, int], logo: tuple[int, int], gap: int):
    (width, height), (logo_width, logo_height) = canvas, logo
    left, right = gap, width - logo_width - gap
    top, bottom = gap, height - logo_height - gap
    return {
        "top-left": (left, top),
        "top-right": (right, top),
        "bottom-left": (left, bottom),
        "bottom-right": (right, bottom),
        "center": ((width - logo_width) // 2, (height - logo_height) // 2),
    }[position]


def apply_logo(image_bytes: bytes, overlay: LogoOverlay, *, quality: int = 90) -> bytes:
    """``image_bytes`` with the logo composited on it, re-encoded in the same format."""
    with Image.open(io.BytesIO(image_bytes)) as source:
        out_format = source.format or "JPEG"
        image = ImageOps.exif_transpose(source).convert("RGBA")
    with Image.open(io.BytesIO(overlay.logo)) as logo_source:
        logo = logo_source.convert("RGBA")

    target_width = max(1, round(image.width * overlay.scale))
    target_height = max(1, round(logo.height * target_width / logo.width))
    logo = logo.resize((target_width, target_height), Image.Resampling.LANCZOS)
    if overlay.opacity < 1:
        alpha = logo.getchannel("A").point(lambda value: round(value * overlay.opacity))
        logo.putalpha(alpha)

    gap = round(image.width * overlay.margin)
    layer = Image.new("RGBA", image.size, (0, 0, 0, 0))
    layer.paste(logo, _place(overlay.position, image.size, logo.size, gap))
    composed = Image.alpha_composite(image, layer)

    out = io.BytesIO()
    if out_format == "PNG":
        composed.save(out, "PNG", optimize=True)
    elif out_format == "WEBP":
        composed.save(out, "WEBP", quality=quality)
    else:
        composed.convert("RGB").save(out, "JPEG", quality=quality, optimize=True)
    return out.getvalue()


# -- The admin's settings --------------------------------------------------------------------


def current_settings() -> WatermarkSettings:
    """The settings row, or the defaults (unsaved) while the merchant has not saved any:
    reading them never writes."""
    from genlook_django.models import WatermarkSettings

    return WatermarkSettings.objects.filter(pk=1).first() or WatermarkSettings(pk=1)


def genlook_watermark() -> bool:
    """``output.watermark`` for a new try-on: ``GENLOOK["WATERMARK"]`` if set (True or
    False), else the admin's "Genlook watermark" (on by default, as at Genlook)."""
    from genlook_django.conf import genlook_settings

    forced = genlook_settings.WATERMARK
    if forced is not None:
        return bool(forced)
    return bool(current_settings().genlook_watermark)


def overlay_from(row: WatermarkSettings, logo: bytes) -> LogoOverlay:
    return LogoOverlay(
        logo,
        position=row.position,
        scale=float(row.scale),
        opacity=float(row.opacity),
        margin=float(row.margin),
    )


def configured_overlay() -> LogoOverlay | None:
    """The overlay to apply to new results, or None (off, or no logo)."""
    row = current_settings()
    if not row.overlay_enabled or not row.logo:
        return None
    with row.logo.open("rb") as stored:
        return overlay_from(row, stored.read())


def apply_to_result(content: bytes) -> bytes:
    """``content`` with the merchant's logo if the overlay is on; unchanged otherwise, or
    if the logo cannot be applied (logged: a shopper still gets their result)."""
    try:
        overlay = configured_overlay()
        if overlay is None:
            return content
        return apply_logo(content, overlay)
    except Exception:
        logger.exception("The watermark logo could not be applied; result stored without it")
        return content
