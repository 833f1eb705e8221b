"""What the API returns, as small immutable dataclasses that keep the raw JSON."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


def parse_timestamp(value: Any) -> datetime | None:
    """ISO-8601 (with ``Z``) to an aware datetime; anything else to None."""
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


class GenerationStatus:
    """The documented statuses. Others may appear: they are kept as they come."""

    PENDING = "PENDING"
    PROCESSING = "PROCESSING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    FINISHED = frozenset({COMPLETED, FAILED})


@dataclass(frozen=True)
class UploadedImage:
    image_id: str
    image_url: str
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> UploadedImage:
        return cls(image_id=data["imageId"], image_url=data.get("imageUrl", ""), raw=data)


@dataclass(frozen=True)
class Generation:
    id: str
    status: str
    product_external_id: str | None = None
    result_image_url: str | None = None
    error_code: str | None = None
    error_message: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, data: dict[str, Any], *, finished: bool = False) -> Generation:
        """``finished``: the answer itself says the generation is over (``/try-on/sync``'s
        200), which settles the status when the body does not carry one."""
        status = data.get("status")
        if not status:
            if not finished:
                status = GenerationStatus.PENDING
            elif data.get("errorCode") or data.get("errorMessage"):
                status = GenerationStatus.FAILED
            else:
                status = GenerationStatus.COMPLETED
        return cls(
            id=data["generationId"],
            status=str(status).upper(),
            product_external_id=data.get("productExternalId"),
            result_image_url=data.get("resultImageUrl"),
            error_code=data.get("errorCode"),
            error_message=data.get("errorMessage"),
            created_at=parse_timestamp(data.get("createdAt")),
            updated_at=parse_timestamp(data.get("updatedAt")),
            raw=data,
        )

    @property
    def is_finished(self) -> bool:
        return self.status in GenerationStatus.FINISHED

    @property
    def is_completed(self) -> bool:
        return self.status == GenerationStatus.COMPLETED

    @property
    def is_failed(self) -> bool:
        return self.status == GenerationStatus.FAILED


@dataclass(frozen=True)
class ProductImage:
    source_url: str | None
    role: str | None = None
    order: int | None = None


@dataclass(frozen=True)
class Product:
    external_id: str
    title: str | None = None
    description: str | None = None
    images: tuple[ProductImage, ...] = ()
    metadata: dict[str, Any] = field(default_factory=dict)
    valid_for_days: int | None = None
    expires_at: datetime | None = None
    last_used_at: datetime | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Product:
        images = tuple(
            ProductImage(
                source_url=image.get("sourceUrl") or image.get("url"),
                role=image.get("role"),
                order=image.get("order"),
            )
            for image in data.get("images") or ()
            if isinstance(image, dict)
        )
        return cls(
            external_id=data["externalId"],
            title=data.get("title"),
            description=data.get("description"),
            images=images,
            metadata=data.get("metadata") or {},
            valid_for_days=data.get("validForDays"),
            expires_at=parse_timestamp(data.get("expiresAt")),
            last_used_at=parse_timestamp(data.get("lastUsedAt")),
            created_at=parse_timestamp(data.get("createdAt")),
            updated_at=parse_timestamp(data.get("updatedAt")),
            raw=data,
        )


@dataclass(frozen=True)
class ProductPage:
    items: tuple[Product, ...]
    next_cursor: str | None
    has_more: bool
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ProductPage:
        return cls(
            items=tuple(Product.from_json(item) for item in data.get("items") or ()),
            next_cursor=data.get("nextCursor"),
            has_more=bool(data.get("hasMore")),
            raw=data,
        )
