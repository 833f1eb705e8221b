"""Products per account: upserts, the three try-on shapes, lifetimes and pagination."""

from __future__ import annotations

import base64
import binascii
import itertools
import secrets
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from genlook_django.sandbox.errors import images_required, invalid_field, product_not_found
from genlook_django.sandbox.files import FileStore, file_url, token_from_url
from genlook_django.sandbox.parsing import (
    ANON_PREFIX,
    ImageInput,
    ProductInput,
    ProductUpsertInput,
)
from genlook_django.sandbox.records import Product, ProductImage, ProductKind
from genlook_django.sandbox.timefmt import iso
from genlook_django.sandbox.validation import UNSET

INLINE_DAYS = 15
ONE_SHOT_DAYS = 7


@dataclass(frozen=True)
class ImageSource:
    """A product image as sent, with the bytes of its multipart part when it had one."""

    spec: ImageInput
    content: bytes | None
    content_type: str | None = None
    extension: str | None = None


class Catalog:
    def __init__(self, lock: threading.RLock, now: Callable[[], float], files: FileStore) -> None:
        self._lock = lock
        self._now = now
        self._files = files
        self._products: dict[tuple[str, str], Product] = {}
        self._sequence = itertools.count(1)

    # -- lookups ------------------------------------------------------------------------------

    def live(self, api_key: str, external_id: str) -> Product | None:
        """The product if it exists and has not expired (expired ones are forgotten)."""
        with self._lock:
            product = self._products.get((api_key, external_id))
            if product is not None and not product.is_live(self._now()):
                self._forget(product)
                return None
            return product

    def page(
        self, api_key: str, limit: int, cursor: str | None
    ) -> tuple[list[Product], str | None]:
        """Listed products (one-shots excluded), newest first, and the next cursor position."""
        before = _decode_cursor(cursor) if cursor else None
        now = self._now()
        with self._lock:
            listed = sorted(
                (
                    p
                    for p in self._products.values()
                    if p.api_key == api_key
                    and p.kind is not ProductKind.ONE_SHOT
                    and p.is_live(now)
                ),
                key=lambda p: p.sequence,
                reverse=True,
            )
        if before is not None:
            listed = [p for p in listed if p.sequence < before]
        items = listed[:limit]
        has_more = len(listed) > limit
        return items, (encode_cursor(items[-1].sequence) if has_more else None)

    def delete(self, api_key: str, external_id: str) -> None:
        with self._lock:
            product = self.live(api_key, external_id)
            if product is None:
                raise product_not_found(external_id)
            self._forget(product)

    def purge_expired(self) -> None:
        now = self._now()
        with self._lock:
            for product in [p for p in self._products.values() if not p.is_live(now)]:
                self._forget(product)

    def __len__(self) -> int:
        with self._lock:
            return len(self._products)

    # -- writes -------------------------------------------------------------------------------

    def upsert(
        self,
        api_key: str,
        data: ProductUpsertInput,
        images: Sequence[ImageSource] | None,
        api_root: str,
    ) -> Product:
        """``POST /products``: create (kept forever by default) or partially update."""
        with self._lock:
            now = self._now()
            product = self.live(api_key, data.external_id)
            if product is None:
                if not images:
                    raise images_required()
                product = self._create(api_key, data.external_id, ProductKind.CATALOG, None, now)
            _set_text(product, data.title, data.description)
            if images is not None:
                self._replace_images(product, images, api_root)
            if data.metadata is not UNSET:
                product.metadata = data.metadata
            if data.valid_for_days is not UNSET:
                product.valid_for_days = data.valid_for_days
            if data.auto_detect_image_roles is not UNSET:
                product.auto_detect_image_roles = data.auto_detect_image_roles
            product.updated_at = now
            return product

    def precheck(
        self, api_key: str, spec: ProductInput, images: Sequence[ImageSource] | None
    ) -> None:
        """Fail fast, before any expensive work, on a product ``for_try_on`` would refuse."""
        if spec.external_id is not None and self.live(api_key, spec.external_id) is None:
            _check_creatable(spec, images)

    def for_try_on(
        self, api_key: str, spec: ProductInput, images: Sequence[ImageSource] | None, api_root: str
    ) -> Product:
        """Resolve ``products[0]`` of a try-on: reference, inline upsert or one-shot."""
        with self._lock:
            now = self._now()
            if spec.external_id is None:
                product = self._create(
                    api_key,
                    ANON_PREFIX + secrets.token_hex(12),
                    ProductKind.ONE_SHOT,
                    ONE_SHOT_DAYS,
                    now,
                )
            else:
                product = self.live(api_key, spec.external_id)
                if product is None:
                    _check_creatable(spec, images)
                    product = self._create(
                        api_key, spec.external_id, ProductKind.INLINE, INLINE_DAYS, now
                    )
                elif spec.is_reference:
                    return product
            _set_text(product, spec.title, spec.description)
            if images is not None:
                self._replace_images(product, images, api_root)
            product.updated_at = now
            return product

    def touch(self, product: Product) -> None:
        """A generation used the product: its lifetime starts again."""
        with self._lock:
            product.last_used_at = self._now()

    # -- internals ----------------------------------------------------------------------------

    def _create(
        self, api_key: str, external_id: str, kind: ProductKind, days: int | None, now: float
    ) -> Product:
        product = Product(
            api_key=api_key,
            external_id=external_id,
            kind=kind,
            title=None,
            description=None,
            metadata=None,
            auto_detect_image_roles=True,
            valid_for_days=days,
            images=[],
            created_at=now,
            updated_at=now,
            sequence=next(self._sequence),
        )
        self._products[(api_key, external_id)] = product
        return product

    def _replace_images(
        self, product: Product, images: Sequence[ImageSource], api_root: str
    ) -> None:
        self._discard_files(product)
        product.images = [
            self._store_image(product.api_key, source, order, api_root)
            for order, source in enumerate(images)
        ]
        if any(image.role for image in product.images):
            product.auto_detect_image_roles = False

    def _store_image(
        self, api_key: str, source: ImageSource, order: int, api_root: str
    ) -> ProductImage:
        url = source.spec.url
        if source.content is not None:  # a multipart part: the sandbox hosts it
            stored = self._files.put(
                source.content,
                content_type=source.content_type or "application/octet-stream",
                extension=source.extension or "bin",
                api_key=api_key,
                customer_id=None,
                expires_at=None,
            )
            url = file_url(api_root, stored)
        assert url is not None
        return ProductImage(
            source_url=url,
            role=source.spec.role,
            order=order,
            classifications=source.spec.classifications,
            content=source.content,
        )

    def _discard_files(self, product: Product) -> None:
        for image in product.images:
            if image.content is not None:
                self._files.discard(token_from_url(image.source_url))

    def _forget(self, product: Product) -> None:
        self._discard_files(product)
        self._products.pop((product.api_key, product.external_id), None)


def _check_creatable(spec: ProductInput, images: Sequence[ImageSource] | None) -> None:
    """A missing product: a reference cannot create it, an inline one only with images."""
    if spec.is_reference:
        raise product_not_found(spec.external_id or "")
    if not images:
        raise images_required()


def _set_text(product: Product, title: Any, description: Any) -> None:
    if title is not UNSET:
        product.title = title
    if description is not UNSET:
        product.description = description


def encode_cursor(sequence: int) -> str:
    return base64.urlsafe_b64encode(f"p:{sequence}".encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> int:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        prefix, _, number = text.partition(":")
        if prefix != "p" or not number.isdigit():
            raise ValueError(text)
        return int(number)
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise invalid_field("cursor", "Invalid cursor") from exc


def serialise_product(product: Product) -> dict[str, Any]:
    expires_at = product.expires_at
    return {
        "externalId": product.external_id,
        "title": product.title,
        "description": product.description,
        "metadata": product.metadata,
        "autoDetectImageRoles": product.auto_detect_image_roles,
        "validForDays": product.valid_for_days,
        "expiresAt": iso(expires_at) if expires_at is not None else None,
        "lastUsedAt": iso(product.last_used_at) if product.last_used_at is not None else None,
        "createdAt": iso(product.created_at),
        "updatedAt": iso(product.updated_at),
        "images": [
            {"sourceUrl": image.source_url, "role": image.role, "order": image.order}
            for image in product.images
        ],
    }
