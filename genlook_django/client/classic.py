"""Genlook's classic API: the same client methods, spoken as the classic page describes.

Base ``https://api.genlook.app`` (sandbox ``https://api-sandbox.genlook.app``),
``Authorization: Bearer``; ``POST /v1/try-on`` takes two image URLs and a category,
``GET /v1/try-on/{id}`` reads a generation, ``POST /v1/try-on/batch`` creates up to 100 at
once. Errors are nested (``{"error": {code, message, details}}``): ``errors.py`` reads both
shapes into the same typed exceptions.

The classic API has no upload, no products catalog, no customer erasure and no credits
endpoint: those methods raise ``UnsupportedFeatureError`` before anything is sent.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from . import inputs
from .errors import GenlookAPIError, UnsupportedFeatureError, error_class_for
from .transport import Transport
from .types import Generation, parse_timestamp

CLASSIC_BASE_URL = "https://api.genlook.app"
CLASSIC_SANDBOX_BASE_URL = "https://api-sandbox.genlook.app"
CATEGORIES = ("tops", "bottoms", "dresses", "outerwear", "eyewear", "caps")
BATCH_LIMIT = 100  # requests in one POST /v1/try-on/batch

# What each dialect can do; the classic API lacks the rest (see UNSUPPORTED).
FEATURES = {
    "v1": frozenset({"uploads", "products", "customers", "credits", "sync"}),
    "classic": frozenset({"batch", "webhook_url"}),
}
UNSUPPORTED = {
    "uploads": "The classic API takes no upload: the person photo is sent as a URL.",
    "products": "The classic API has no products catalog: each try-on names its garment image.",
    "customers": "The classic API has no customer erasure (DELETE /customers/{id}).",
    "credits": "The classic API has no credits endpoint.",
    "sync": "The classic API has no /try-on/sync: generations are polled or announced.",
    "batch": "Genlook's v1 API has no batch endpoint: create the try-ons one by one.",
}

# The classic statuses, in v1's words.
_STATUSES = {"processing": "PROCESSING", "completed": "COMPLETED", "failed": "FAILED"}


def unsupported(feature: str) -> UnsupportedFeatureError:
    return UnsupportedFeatureError(feature, UNSUPPORTED[feature])


def generation_from_json(data: dict[str, Any]) -> Generation:
    """A classic generation (``{id, status, result_image, ..., error?}``) as v1's type."""
    error = data.get("error") if isinstance(data.get("error"), dict) else {}
    status = str(data.get("status") or "processing")
    return Generation(
        id=data["id"],
        status=_STATUSES.get(status.lower(), status.upper()),
        result_image_url=data.get("result_image") or None,
        error_code=error.get("code"),
        error_message=error.get("message"),
        created_at=parse_timestamp(data.get("created_at")),
        updated_at=parse_timestamp(data.get("completed_at")),
        raw=data,
    )


def try_on_request(product: inputs.ProductInput, person: inputs.PersonInput) -> dict[str, Any]:
    """``{model_image, garment_image, category}``: the person and the garment as URLs."""
    person = inputs.coerce_person(person)
    if person.url is None:
        raise unsupported("uploads")
    product = inputs.coerce_product(product)
    if isinstance(product, inputs.ProductReference):
        raise unsupported("products")
    garment = next((image for image in product.images if isinstance(image, str)), None)
    if garment is None:
        raise ValueError("The classic API needs the garment image as a URL (product.images).")
    if product.category not in CATEGORIES:
        raise ValueError(
            f"The classic API needs a category among {', '.join(CATEGORIES)}; "
            f"got {product.category!r}."
        )
    return {"model_image": person.url, "garment_image": garment, "category": product.category}


@dataclass(frozen=True)
class BatchEntry:
    """One request of a batch: its ``generation``, or the ``error`` that rejected it."""

    index: int
    generation: Generation | None
    error: GenlookAPIError | None = None


class ClassicCalls:
    """The classic endpoints over a ``Transport`` that authenticates with Bearer."""

    def __init__(self, transport: Transport) -> None:
        self._transport = transport

    def create(
        self, product: inputs.ProductInput, person: inputs.PersonInput, webhook_url: str | None
    ) -> Generation:
        body = try_on_request(product, person)
        if webhook_url is not None:
            body["webhook_url"] = webhook_url
        # Like v1's create: never re-sent once it may have reached Genlook.
        reply = self._transport.request("POST", "v1/try-on", json_body=body, resend_safe=False)
        return generation_from_json(reply.body)

    def get(self, generation_id: str) -> Generation:
        reply = self._transport.request("GET", f"v1/try-on/{quote(generation_id, safe='')}")
        return generation_from_json(reply.body)

    def batch(
        self,
        requests: Sequence[tuple[inputs.ProductInput, inputs.PersonInput]],
        webhook_url: str | None,
    ) -> list[BatchEntry]:
        if not 1 <= len(requests) <= BATCH_LIMIT:
            raise ValueError(f"A batch holds 1 to {BATCH_LIMIT} requests, not {len(requests)}.")
        body: dict[str, Any] = {
            "requests": [try_on_request(product, person) for product, person in requests]
        }
        if webhook_url is not None:
            body["webhook_url"] = webhook_url
        reply = self._transport.request(
            "POST", "v1/try-on/batch", json_body=body, resend_safe=False
        )
        return batch_entries(reply.body.get("generations"))


def batch_entries(generations: Any) -> list[BatchEntry]:
    """A batch answer's ``generations`` list (201, or a 400 ``INVALID_REQUEST`` without a
    valid entry, in its ``details``) as one ``BatchEntry`` per request."""
    if not isinstance(generations, list):
        return []
    return [_batch_entry(entry) for entry in generations if isinstance(entry, dict)]


def _batch_entry(entry: dict[str, Any]) -> BatchEntry:
    index = int(entry.get("index", 0))
    if entry.get("id"):
        return BatchEntry(index, generation_from_json(entry))
    error = entry.get("error") if isinstance(entry.get("error"), dict) else {}
    code = error.get("code") if isinstance(error.get("code"), str) else None
    details = error.get("details") if isinstance(error.get("details"), dict) else {}
    field = details.get("field")
    return BatchEntry(
        index,
        None,
        error_class_for(400, code)(
            error.get("message") or "Genlook rejected this request of the batch.",
            code=code,
            status=400,
            details=[{**details, "path": field}] if isinstance(field, str) else [],
            body=entry,
        ),
    )
