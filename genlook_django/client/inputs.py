"""The shapes a caller can pass for a product and a person, and the request bodies built
from them (the 1.4.0 canonical shape)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import IO, Any, Union

from .types import UploadedImage


@dataclass(frozen=True)
class ImageFile:
    """Image bytes sent inline as a multipart part."""

    content: bytes = field(repr=False)
    filename: str | None = None
    content_type: str | None = None

    def part(self) -> tuple[str, bytes, str]:
        content_type = self.content_type or sniff_content_type(self.content)
        extension = content_type.split("/")[-1].replace("jpeg", "jpg")
        return (self.filename or f"image.{extension}", self.content, content_type)


ProductImageInput = Union[str, ImageFile]  # noqa: UP007  (a URL, or bytes)


@dataclass(frozen=True)
class ProductReference:
    """The cheapest call: a product Genlook already knows, by its external id."""

    external_id: str


@dataclass(frozen=True)
class InlineProduct:
    """Create or refresh the product in the same call (lives 15 days after its last use)."""

    external_id: str
    title: str | None = None
    description: str | None = None
    images: Sequence[ProductImageInput] = ()
    category: str | None = None  # the classic API's garment category (v1 infers it)


@dataclass(frozen=True)
class OneShotProduct:
    """No external id: Genlook makes one up and returns it (lives 7 days after last use)."""

    title: str | None = None
    description: str | None = None
    images: Sequence[ProductImageInput] = ()
    category: str | None = None  # the classic API's garment category (v1 infers it)


ProductInput = Union[str, ProductReference, InlineProduct, OneShotProduct]  # noqa: UP007


@dataclass(frozen=True)
class PersonImage:
    """Exactly one of an uploaded ``image_id``, a public ``url`` or inline ``file`` bytes."""

    image_id: str | None = None
    url: str | None = None
    file: ImageFile | None = None

    def __post_init__(self) -> None:
        if sum(value is not None for value in (self.image_id, self.url, self.file)) != 1:
            raise ValueError("PersonImage takes exactly one of image_id, url or file.")


PersonInput = Union[str, bytes, UploadedImage, ImageFile, PersonImage, IO[bytes]]  # noqa: UP007


def sniff_content_type(content: bytes) -> str:
    """The image type told by the first bytes; Genlook validates it again anyway."""
    if content.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if content.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if content[:4] == b"RIFF" and content[8:12] == b"WEBP":
        return "image/webp"
    if content[4:12] in (b"ftypheic", b"ftypheix", b"ftypmif1", b"ftyphevc"):
        return "image/heic"
    return "application/octet-stream"


def read_image_file(value: bytes | ImageFile | IO[bytes]) -> ImageFile:
    if isinstance(value, ImageFile):
        return value
    if isinstance(value, bytes | bytearray | memoryview):
        return ImageFile(bytes(value))
    if hasattr(value, "read"):
        name = getattr(value, "name", None)
        filename = name.rsplit("/", 1)[-1] if isinstance(name, str) else None
        return ImageFile(value.read(), filename=filename)
    raise TypeError(f"Expected image bytes or a binary file, got {type(value).__name__}.")


def coerce_product(value: ProductInput) -> ProductReference | InlineProduct | OneShotProduct:
    if isinstance(value, str):
        return ProductReference(value)
    if isinstance(value, ProductReference | InlineProduct | OneShotProduct):
        return value
    raise TypeError(
        "product must be an external id, ProductReference, InlineProduct or OneShotProduct."
    )


def coerce_person(value: PersonInput) -> PersonImage:
    """An upload result or id, a URL, or bytes/a file become a PersonImage."""
    if isinstance(value, PersonImage):
        return value
    if isinstance(value, UploadedImage):
        return PersonImage(image_id=value.image_id)
    if isinstance(value, str):
        if value.startswith(("http://", "https://")):
            return PersonImage(url=value)
        return PersonImage(image_id=value)
    return PersonImage(file=read_image_file(value))


class Parts:
    """Collects the file parts of a multipart request, each under a unique field name."""

    def __init__(self) -> None:
        self.files: dict[str, tuple[str, bytes, str]] = {}

    def add(self, image: ImageFile, stem: str) -> str:
        key = stem if stem not in self.files else f"{stem}-{len(self.files)}"
        self.files[key] = image.part()
        return key


def image_entries(images: Sequence[ProductImageInput], parts: Parts) -> list[dict[str, Any]]:
    entries = []
    for index, image in enumerate(images):
        if isinstance(image, ImageFile):
            entries.append({"source": {"fileKey": parts.add(image, f"product-image-{index}")}})
        else:
            entries.append({"source": {"url": image}})
    return entries


def product_body(
    product: ProductReference | InlineProduct | OneShotProduct, parts: Parts
) -> dict[str, Any]:
    if isinstance(product, ProductReference):
        return {"externalId": product.external_id}
    body: dict[str, Any] = {}
    if isinstance(product, InlineProduct):
        body["externalId"] = product.external_id
    if product.title is not None:
        body["title"] = product.title
    if product.description is not None:
        body["description"] = product.description
    if product.images:
        # Left out, an existing product keeps its images (a title-only refresh is fine).
        body["images"] = image_entries(product.images, parts)
    return body


def person_body(person: PersonImage, parts: Parts) -> dict[str, Any]:
    if person.image_id is not None:
        source: dict[str, str] = {"id": person.image_id}
    elif person.url is not None:
        source = {"url": person.url}
    else:
        assert person.file is not None
        source = {"fileKey": parts.add(person.file, "person")}
    return {"image": {"source": source}}


def try_on_body(
    product: ProductInput,
    person: PersonInput,
    *,
    external_user_id: str | None,
    watermark: bool | None,
    keep_for_days: int | None,
    webhook_url: str | None,
) -> tuple[dict[str, Any], Parts]:
    parts = Parts()
    body: dict[str, Any] = {
        "products": [product_body(coerce_product(product), parts)],
        "person": person_body(coerce_person(person), parts),
    }
    if external_user_id is not None:
        body["externalUserId"] = external_user_id
    output: dict[str, Any] = {}
    if watermark is not None:
        output["watermark"] = watermark
    if keep_for_days is not None:
        output["keepForDays"] = keep_for_days
    if output:
        body["output"] = output
    if webhook_url is not None:
        # Not part of v1: the classic API's completion callback. Services send it only to an
        # endpoint that declares it accepts it (GenlookClient.extensions: the sandbox).
        body["webhook_url"] = webhook_url
    return body, parts
