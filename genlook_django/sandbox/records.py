"""What the sandbox remembers, as plain dataclasses (all state is in memory, no database)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

DAY = 86_400.0


@dataclass
class Account:
    api_key: str
    credits: int


@dataclass
class StoredFile:
    """A file served at a signed URL ``<api root>/_files/<token>.<extension>``."""

    token: str
    content: bytes
    content_type: str
    extension: str
    api_key: str
    customer_id: str | None
    expires_at: float | None

    @property
    def name(self) -> str:
        return f"{self.token}.{self.extension}"


@dataclass
class Upload:
    """A person photo from ``POST /images/upload``, reusable as ``person.image.source.id``."""

    image_id: str
    api_key: str
    file_token: str
    customer_id: str | None
    expires_at: float


class ProductKind(StrEnum):
    CATALOG = "catalog"  # POST /products: forever unless validForDays
    INLINE = "inline"  # created by /try-on with an externalId: 15 days from last use
    ONE_SHOT = "one-shot"  # created by /try-on without externalId: 7 days, never listed


@dataclass(frozen=True)
class ProductImage:
    source_url: str
    role: str | None
    order: int
    classifications: dict[str, Any] | None = None
    # Bytes sent as a multipart part: kept here so a generation never has to re-fetch them.
    content: bytes | None = field(default=None, repr=False)


@dataclass
class Product:
    api_key: str
    external_id: str
    kind: ProductKind
    title: str | None
    description: str | None
    metadata: dict[str, Any] | None
    auto_detect_image_roles: bool
    valid_for_days: int | None
    images: list[ProductImage]
    created_at: float
    updated_at: float
    last_used_at: float | None = None
    sequence: int = 0  # creation order, for stable pagination

    @property
    def expires_at(self) -> float | None:
        # The lifetime runs from the last write or use, whichever is later.
        if self.valid_for_days is None:
            return None
        anchor = max(self.updated_at, self.last_used_at or 0.0)
        return anchor + self.valid_for_days * DAY

    def is_live(self, now: float) -> bool:
        expires_at = self.expires_at
        return expires_at is None or now < expires_at


class Status(StrEnum):
    PENDING = "PENDING"
    PROCESSING = "PROCESSING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"

    @property
    def is_final(self) -> bool:
        return self in (Status.COMPLETED, Status.FAILED)


@dataclass(frozen=True)
class Rendered:
    content: bytes
    content_type: str
    extension: str


@dataclass(frozen=True)
class Failure:
    code: str | None  # None: an untyped failure, reported without errorCode
    message: str


@dataclass(frozen=True)
class PreparedJob:
    """A try-on whose images are already fetched and checked (the classic dialect's)."""

    person: bytes  # the person photo, as stored JPEG bytes
    garment: ProductImage
    category: str
    webhook_url: str | None


@dataclass
class Generation:
    generation_id: str
    api_key: str
    product_external_id: str | None  # None: a classic generation, which names no product
    customer_id: str | None
    created_at: float
    updated_at: float
    api_root: str  # absolute URL the request came in on, to build file URLs later
    watermark: bool
    keep_for_days: int
    webhook_url: str | None
    dialect: str = "v1"  # "v1" or "classic": the shape of its webhook
    category: str | None = None  # the classic dialect's garment category
    status: Status = Status.PENDING
    result_token: str | None = None
    result_url: str | None = None
    error_code: str | None = None
    error_message: str | None = None
    completed_at: float | None = None
    # Work in progress, dropped once the generation is final.
    person: bytes | None = field(default=None, repr=False)
    garment: ProductImage | None = field(default=None, repr=False)
    outcome: Rendered | Failure | None = field(default=None, repr=False)
    due: bool = False
    done: threading.Event = field(default_factory=threading.Event, repr=False)


@dataclass(frozen=True)
class RequestRecord:
    """One line of the request log. ``path`` is relative to the API root, ``route`` its pattern."""

    at: float
    method: str
    path: str
    status: int
    api_key: str | None
    generation_id: str | None
    route: str = ""


@dataclass
class WebhookDelivery:
    api_key: str
    generation_id: str
    url: str
    payload: dict[str, Any]
    outcome: str = "pending"  # pending | delivered | failed | dropped | blocked
    attempts: int = 0
    last_status: int | None = None
