"""Request bodies (canonical 1.4.0 and the deprecated 1.0-1.3 shapes) to normalised inputs.

Schema problems become ``VALIDATION_FAILED`` with ``details[]``; the documented semantic
codes (``CUSTOMER_IMAGE_REQUIRED``, ``PRODUCT_IMAGES_REQUIRED``, ...) are raised once the
schema is valid. When a canonical field and its deprecated alias are both sent, the
canonical one wins.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from django.core.files.uploadedfile import UploadedFile
from django.http import HttpRequest

from genlook_django.sandbox.errors import bad_request, images_required, invalid_field
from genlook_django.sandbox.validation import UNSET, Problems, Reader, join, json_type

ANON_PREFIX = "_anon_"
KEEP_FOR_DAYS = (1, 3, 7)
PersonKind = Literal["id", "url", "fileKey"]


@dataclass(frozen=True)
class ImageInput:
    """One product image: a URL or the name of a multipart file part."""

    url: str | None
    file_key: str | None
    role: str | None
    classifications: dict[str, Any] | None


@dataclass(frozen=True)
class ProductInput:
    """``products[0]`` of /try-on. ``title``/``description`` may be UNSET, ``images`` None."""

    external_id: str | None
    title: Any
    description: Any
    images: tuple[ImageInput, ...] | None

    @property
    def is_reference(self) -> bool:
        return (
            self.external_id is not None
            and self.title is UNSET
            and self.description is UNSET
            and self.images is None
        )


@dataclass(frozen=True)
class PersonInput:
    kind: PersonKind
    value: str
    path: str  # where it was in the body, for details[]


@dataclass(frozen=True)
class TryOnInput:
    product: ProductInput
    person: PersonInput
    external_user_id: str | None
    watermark: bool | None  # None: the account default
    keep_for_days: int | None  # None: the account default
    webhook_url: str | None


@dataclass(frozen=True)
class ProductUpsertInput:
    """``POST /products``. UNSET fields keep their current value on update."""

    external_id: str
    title: Any
    description: Any
    images: tuple[ImageInput, ...] | None
    metadata: Any
    valid_for_days: Any
    auto_detect_image_roles: Any


@dataclass(frozen=True)
class UploadInput:
    crop: bool
    external_user_id: str | None
    keep_for_days: int | None


# -- bodies ------------------------------------------------------------------------------


def read_body(request: HttpRequest) -> tuple[dict[str, Any], Mapping[str, UploadedFile]]:
    """The JSON body and file parts: plain JSON, or multipart with the JSON in ``data``."""
    if request.content_type == "multipart/form-data":
        files, form = request.FILES, request.POST
        if "data" in form:
            text = form["data"]
        elif "data" in files:  # some clients send the JSON as a blob part
            text = files["data"].read().decode("utf-8", "replace")
        else:
            raise invalid_field("data", "Required (the JSON body of a multipart request)")
        parts = {name: files[name] for name in files if name != "data"}
        return _parse_json(text, "data"), parts
    return _parse_json(request.body.decode("utf-8", "replace") or "{}", ""), {}


def _parse_json(text: str, path: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise invalid_field(path, f"Invalid JSON ({exc.args[0]})") from exc
    if not isinstance(value, dict):
        raise invalid_field(path, f"Expected object, received {json_type(value)}")
    return value


# -- /try-on -------------------------------------------------------------------------------


def parse_try_on(body: Mapping[str, Any]) -> TryOnInput:
    problems = Problems()
    root = Reader(body, "", problems)
    product = _try_on_product(root)
    person = _person(root)
    external_user_id = _first(root.identifier("externalUserId"), root.identifier("customerId"))
    output = root.obj("output")
    watermark = output.boolean("watermark") if output else UNSET
    keep = output.integer("keepForDays", choices=KEEP_FOR_DAYS) if output else UNSET
    watermark = _first(watermark, root.boolean("useWatermark"))
    keep = _first(keep, root.integer("retentionDays", choices=KEEP_FOR_DAYS))
    webhook_url = root.string("webhook_url", url=True)
    problems.raise_if_any()

    assert product is not None  # a missing product was recorded as a problem above
    _require_images(product.images, creating=product.external_id is None)
    if person is None:
        raise bad_request(
            "CUSTOMER_IMAGE_REQUIRED",
            "A person image is required: person.image.source.{id|url|fileKey}.",
        )
    return TryOnInput(
        product=product,
        person=person,
        external_user_id=external_user_id or None,
        watermark=None if watermark is UNSET else watermark,
        keep_for_days=keep or None,
        webhook_url=webhook_url or None,
    )


def _first(canonical: Any, deprecated: Any) -> Any:
    return deprecated if canonical is UNSET else canonical


def _try_on_product(root: Reader) -> ProductInput | None:
    if root.has("products"):
        items = root.objects("products")
        if items is UNSET:
            return None
        if len(root.data["products"]) != 1:
            root.problems.add("products", "Array must contain exactly 1 element(s)")
            return None
        return _product(items[0]) if items else None
    if root.has("product"):  # deprecated 1.0-1.3 single object
        legacy = root.obj("product")
        return _product(legacy) if legacy else None
    root.problems.add("products", "Required")
    return None


def _product(item: Reader) -> ProductInput:
    external_id = item.identifier("externalId")
    title = item.string("title")
    description = item.string("description")
    images = _images(item)
    product = ProductInput(
        external_id=external_id or None,
        title=title,
        description=description,
        images=images,
    )
    # A generated id can be referenced, never (re)defined.
    if (product.external_id or "").startswith(ANON_PREFIX) and not product.is_reference:
        item.problems.add(
            f"{item.path}.externalId",
            f"externalId must not start with {ANON_PREFIX} (reserved for generated ids)",
        )
    return product


def _images(item: Reader) -> tuple[ImageInput, ...] | None:
    entries = item.objects("images")
    if entries is UNSET:
        return None
    images = [_image(entry) for entry in entries]
    if any(image is None for image in images):
        item.problems.defer(
            bad_request(
                "INVALID_IMAGE_INPUT", "Each product image needs a source with a url or a fileKey."
            )
        )
    return tuple(image for image in images if image is not None)


def _image(entry: Reader) -> ImageInput | None:
    """One canonical ``{source: {url|fileKey}, classifications?}`` or flat ``{url|fileKey}``."""
    source = entry.obj("source") if entry.sent("source") else entry
    if not source:
        return None
    url = source.string("url", url=True)
    file_key = source.identifier("fileKey")
    role = entry.string("role", max_length=100)
    classifications = entry.raw_object("classifications")
    if url and file_key:
        entry.problems.add(source.path, "Provide exactly one of url or fileKey")
    if not url and not file_key:
        return None
    return ImageInput(
        url=url or None,
        file_key=file_key or None,
        role=role or None,
        classifications=classifications or None,
    )


def _require_images(images: tuple[ImageInput, ...] | None, *, creating: bool) -> None:
    """An images list, when sent, must not be empty; a one-shot product must send one."""
    if (images is None and creating) or images == ():
        raise images_required()


def _person(root: Reader) -> PersonInput | None:
    if root.has("person"):
        person = root.obj("person")
        image = person.obj("image") if person else UNSET
        source = image.obj("source") if image else UNSET
    else:
        customer = root.obj("customer")
        source = customer.obj("source") if customer and customer.sent("source") else customer
    if not source:
        return None
    found: list[PersonInput] = []
    for kind in ("id", "url", "fileKey"):
        value = source.string(kind, url=kind == "url", max_length=2048)
        if value:
            found.append(PersonInput(kind, value, join(source.path, kind)))  # type: ignore[arg-type]
    if len(found) > 1:
        root.problems.add(source.path, "Provide exactly one of id, url or fileKey")
    return found[0] if found else None


def check_file_parts(data: TryOnInput | ProductUpsertInput, files: Mapping[str, Any]) -> None:
    keys: list[str] = []
    if isinstance(data, TryOnInput):
        if data.person.kind == "fileKey":
            keys.append(data.person.value)
        images = data.product.images
    else:
        images = data.images
    keys.extend(image.file_key for image in images or () if image.file_key)
    for key in keys:
        if key not in files:
            raise bad_request(
                "MULTIPART_FILE_NOT_FOUND", f"No multipart file part named '{key}' (fileKey)."
            )


# -- /products -----------------------------------------------------------------------------


def parse_product_upsert(body: Mapping[str, Any]) -> ProductUpsertInput:
    problems = Problems()
    root = Reader(body, "", problems)
    raw_id = body.get("externalId")
    if raw_id is None or (isinstance(raw_id, str) and not raw_id.strip()):
        raise bad_request("EXTERNAL_ID_REQUIRED", "externalId is required.")
    external_id = root.identifier("externalId")
    if isinstance(external_id, str) and external_id.startswith(ANON_PREFIX):
        problems.add(
            "externalId",
            f"externalId must not start with {ANON_PREFIX} (reserved for generated ids)",
        )
    title = root.string("title", nullable=True)
    description = root.string("description", nullable=True)
    images = _images(root)
    if images is None and root.sent("imageUrls"):  # deprecated alpha alias
        images = _image_urls(root)
    metadata = root.raw_object("metadata", nullable=True)
    valid_for_days = root.integer("validForDays", minimum=1, maximum=365, nullable=True)
    auto_detect = root.boolean("autoDetectImageRoles")
    problems.raise_if_any()
    _require_images(images, creating=False)
    return ProductUpsertInput(
        external_id=external_id,
        title=title,
        description=description,
        images=images,
        metadata=metadata,
        valid_for_days=valid_for_days,
        auto_detect_image_roles=auto_detect,
    )


def _image_urls(root: Reader) -> tuple[ImageInput, ...] | None:
    urls = root.array("imageUrls")
    if urls is UNSET:
        return None
    images = []
    for index, url in enumerate(urls):
        if not isinstance(url, str) or not url.strip():
            root.problems.add(f"imageUrls.{index}", "Expected a URL string")
            continue
        images.append(ImageInput(url=url, file_key=None, role=None, classifications=None))
    return tuple(images)


# -- /images/upload and GET /products --------------------------------------------------------


def parse_upload(form: Mapping[str, str]) -> UploadInput:
    problems = Problems()
    crop = _form_bool(form, "crop", default=True, problems=problems)
    user = form.get("externalUserId") or form.get("customerId") or None
    if user is not None and len(user) > 255:
        problems.add("externalUserId", "String must contain at most 255 character(s)")
    keep_name = "keepForDays" if form.get("keepForDays") else "retentionDays"
    keep = _form_choice(form, keep_name, KEEP_FOR_DAYS, problems)
    problems.raise_if_any()
    return UploadInput(crop=crop, external_user_id=user, keep_for_days=keep)


def _form_bool(form: Mapping[str, str], name: str, *, default: bool, problems: Problems) -> bool:
    raw = (form.get(name) or "").strip().lower()
    if not raw:
        return default
    if raw in ("true", "false"):
        return raw == "true"
    problems.add(name, 'Expected boolean ("true" or "false")')
    return default


def _form_choice(
    form: Mapping[str, str], name: str, choices: tuple[int, ...], problems: Problems
) -> int | None:
    raw = (form.get(name) or "").strip()
    if not raw:
        return None
    if raw.isdigit() and int(raw) in choices:
        return int(raw)
    expected = " | ".join(str(choice) for choice in choices)
    problems.add(name, f"Invalid value. Expected {expected}, received {raw!r}")
    return None


def parse_listing(query: Mapping[str, str]) -> tuple[int, str | None]:
    """``limit`` (1-200, default 50) and ``cursor`` of ``GET /products``."""
    raw = query.get("limit", "").strip() or "50"
    if not raw.isdigit() or not 1 <= int(raw) <= 200:
        raise invalid_field("limit", "Expected an integer between 1 and 200")
    return int(raw), query.get("cursor") or None
