"""Multipart file parts: the size limit and content-based image validation."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from django.core.files.uploadedfile import UploadedFile
from PIL import Image

from genlook_django.sandbox.catalog import ImageSource
from genlook_django.sandbox.errors import ApiError, bad_request
from genlook_django.sandbox.images import ImageRejected, open_image
from genlook_django.sandbox.parsing import ImageInput

MIME_TYPES = {
    "JPEG": ("image/jpeg", "jpeg"),
    "PNG": ("image/png", "png"),
    "WEBP": ("image/webp", "webp"),
    "HEIF": ("image/heic", "heic"),
}


def read_part(part: UploadedFile, max_bytes: int) -> bytes:
    if part.size is not None and part.size > max_bytes:
        raise file_too_large(part.name or "file", max_bytes)
    data = part.read()
    if len(data) > max_bytes:
        raise file_too_large(part.name or "file", max_bytes)
    return data


def file_too_large(name: str, max_bytes: int) -> ApiError:
    return bad_request(
        "FILE_TOO_LARGE", f"'{name}' is larger than {max_bytes // (1024 * 1024)} MB."
    )


def decode(data: bytes) -> Image.Image:
    """The decoded image, or 400 ``INVALID_IMAGE``."""
    try:
        return open_image(data)
    except ImageRejected as exc:
        raise bad_request("INVALID_IMAGE", str(exc)) from exc


def prepare_images(
    specs: Sequence[ImageInput] | None, files: Mapping[str, UploadedFile], max_bytes: int
) -> list[ImageSource] | None:
    """Product images with the bytes of their file parts read and checked (URLs untouched)."""
    if specs is None:
        return None
    sources = []
    for spec in specs:
        if spec.file_key is None:
            sources.append(ImageSource(spec=spec, content=None))
            continue
        data = read_part(files[spec.file_key], max_bytes)
        image_format = decode(data).format or "JPEG"
        content_type, extension = MIME_TYPES.get(image_format, ("application/octet-stream", "bin"))
        sources.append(
            ImageSource(spec=spec, content=data, content_type=content_type, extension=extension)
        )
    return sources
