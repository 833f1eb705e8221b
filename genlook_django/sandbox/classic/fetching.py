"""The classic dialect fetches both image URLs while the request waits, through the
sandbox's strict outbound rules, so an unusable URL is a 400 and nothing is charged."""

from __future__ import annotations

from genlook_django.sandbox.classic.errors import image_error
from genlook_django.sandbox.classic.parsing import TryOnRequest
from genlook_django.sandbox.errors import ApiError
from genlook_django.sandbox.images import (
    ImageRejected,
    encode_jpeg,
    normalise_person,
    open_image,
    placeholder_person,
)
from genlook_django.sandbox.outbound import FetchError, TooLarge
from genlook_django.sandbox.records import PreparedJob, ProductImage
from genlook_django.sandbox.state import SandboxState

FORMATS = frozenset({"JPEG", "PNG", "WEBP"})  # the page's JPG/JPEG, PNG, WebP

# url -> bytes (None: a public host the sandbox does not contact) or the refusal; shared by
# the entries of one batch, so an image used twice is fetched once.
Fetched = dict[str, bytes | ApiError | None]


def prepare(state: SandboxState, request: TryOnRequest, fetched: Fetched) -> PreparedJob:
    """The job of one try-on, or ApiError (400) naming the image that cannot be used."""
    person = _image(state, "model_image", request.model_image, fetched)
    garment = _image(state, "garment_image", request.garment_image, fetched)
    photo = placeholder_person(request.model_image) if person is None else open_image(person)
    return PreparedJob(
        person=encode_jpeg(normalise_person(photo, crop=False)),
        # No bytes (a public host): the engine draws a placeholder garment, as for v1.
        garment=ProductImage(request.garment_image, role=None, order=0, content=garment),
        category=request.category,
        webhook_url=request.webhook_url,
    )


def _image(state: SandboxState, field: str, url: str, fetched: Fetched) -> bytes | None:
    if url not in fetched:
        fetched[url] = _fetch(state, field, url)
    result = fetched[url]
    if isinstance(result, ApiError):
        # Name the field of this entry, even when another field first met the URL.
        raise image_error(
            result.code,
            result.message,
            field=field,
            url=url,
            reason=str(result.context.get("reason")),
        )
    return result


def _fetch(state: SandboxState, field: str, url: str) -> bytes | ApiError | None:
    limit = state.config.max_upload_bytes
    try:
        data = state.download(url, max_bytes=limit)
    except TooLarge:
        megabytes = limit / (1024 * 1024)
        return image_error(
            "IMAGE_TOO_LARGE",
            f"The image is larger than {megabytes:g} MB.",
            field=field,
            url=url,
            reason=f"larger than {limit} bytes",
        )
    except FetchError as exc:
        return image_error(
            "INVALID_IMAGE_URL",
            "The provided image URL is not accessible",
            field=field,
            url=url,
            reason=str(exc),
        )
    if data is None:
        return None
    try:
        image = open_image(data)
    except ImageRejected as exc:
        return _unsupported(field, url, str(exc))
    if image.format not in FORMATS:
        return _unsupported(field, url, f"{image.format} is not JPG, PNG or WebP")
    return data


def _unsupported(field: str, url: str, reason: str) -> ApiError:
    return image_error(
        "UNSUPPORTED_IMAGE_FORMAT",
        f"The image is not a usable JPG, PNG or WebP ({reason}).",
        field=field,
        url=url,
        reason=reason,
    )
