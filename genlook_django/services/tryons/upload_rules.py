"""What the photo pipeline refuses without decoding, and the words it uses: one source for
the server's ``PhotoError`` messages and the widget's checks in the browser
(``browser_checks``), so the two cannot drift apart."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from genlook_django.conf import genlook_settings

# The brands of an ISO media file (bytes 8-12, after "ftyp") that mean HEIC/HEIF.
HEIF_BRANDS = frozenset(
    {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1", b"avif"}
)
EMPTY_MESSAGE = _("This file is empty. Please choose a photo.")
UNSUPPORTED_MESSAGE = _(
    "This file is not a photo we can use. Please choose a JPEG, PNG or WebP image."
)
HEIC_MESSAGE = _(
    "HEIC photos are not supported here. Please choose a JPEG or PNG, or set your "
    "camera to save in the most compatible format."
)


def megabytes(value: int) -> str:
    return f"{value / 1_000_000:.0f}" if value >= 1_000_000 else f"{value / 1_000_000:.1f}"


def too_large_message(max_bytes: int) -> str:
    return gettext("This photo is too large. Please choose one under %(size)s MB.") % {
        "size": megabytes(max_bytes)
    }


def browser_checks(*, heif: bool) -> dict[str, Any]:
    """The checks the widget makes before any upload (a file's size, its first bytes'
    format: the server sniffs the same signatures), each with the server's own code and
    message, in the current language. ``heif``: whether HEIC can be decoded here."""
    max_bytes = int(genlook_settings.PHOTO_MAX_BYTES)
    return {
        "max_bytes": max_bytes,
        "formats": ["jpeg", "png", "webp", *(["heif"] if heif else [])],
        "heif_brands": sorted(brand.decode() for brand in HEIF_BRANDS),
        "messages": {
            "empty": {"code": "PHOTO_INVALID", "message": str(EMPTY_MESSAGE)},
            "type": {"code": "PHOTO_UNSUPPORTED_TYPE", "message": str(UNSUPPORTED_MESSAGE)},
            "heif": {"code": "PHOTO_HEIC_UNSUPPORTED", "message": str(HEIC_MESSAGE)},
            "size": {"code": "PHOTO_TOO_LARGE", "message": too_large_message(max_bytes)},
        },
    }
