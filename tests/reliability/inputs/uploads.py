"""R3's requests: a ``Case`` (what is sent and the answers it may get), the multipart
bodies, the codes each family may be refused with, and the ``Kit`` the families' generators
share."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from genlook_django.services.tryons import photos
from tests.support.storefront import TRY_ONS

from .images import MB, Bases, reference_decodes, zeros_compressed

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
