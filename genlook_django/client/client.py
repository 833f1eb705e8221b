"""``GenlookClient``: every endpoint of the Genlook Try-On API v1, or the same methods
spoken in the classic API's dialect (``api="classic"``, ``classic.py``)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import IO, Any
from urllib.parse import quote

from genlook_django import __version__

from . import classic, inputs
from .errors import (
    GenerationFailedError,
    GenerationWaitTimeout,
    GenlookAPIError,
    RateLimitedError,
    ServerError,
)
from .ratelimit import LocalRateLimiter, RateLimiter, budget_key
from .transport import RetryPolicy, Transport, download
from .types import Generation, Product, ProductPage, UploadedImage

DEFAULT_BASE_URL = "https://api.genlook.app/tryon/v1"
DIALECTS = ("v1", "classic")


class _Keep:
    """Marks an argument left out on purpose ("keep the current value at Genlook")."""

    def __repr__(self) -> str:
        return "KEEP"


KEEP: Any = _Keep()

# One in-process budget per API key, whichever client instance spends it.
_local_budgets: dict[str, LocalRateLimiter] = {}
_local_budgets_lock = threading.Lock()


def local_budget(api_key: str, limit: int, period: float) -> LocalRateLimiter:
    """This process's budget for ``api_key`` (the first caller's limit and period stand)."""
    with _local_budgets_lock:
        key = budget_key(api_key)
        if key not in _local_budgets:
            _local_budgets[key] = LocalRateLimiter(limit, period)
        return _local_budgets[key]


class GenlookClient:
    """A thread-safe client for ``https://api.genlook.app/tryon/v1``.

    >>> client = GenlookClient(api_key="gk_...")
    >>> photo = client.upload_image(open("me.jpg", "rb"), external_user_id="shopper-1")
    >>> generation = client.create_try_on(product="shirt-42", person=photo)
    >>> client.wait_for_generation(generation.id).result_image_url

    ``api="classic"`` speaks the classic API (``https://api.genlook.app``, Bearer): the
    person and the garment go as URLs (``InlineProduct(..., images=[url], category=...)``),
    and what that API lacks raises ``UnsupportedFeatureError``.
    """

    def __init__(
        self,
        api_key: str,
        *,
        api: str = "v1",
        base_url: str | None = None,
        connect_timeout: float = 5.0,
        read_timeout: float = 30.0,
        sync_timeout: float = 100.0,
        max_retries: int = 4,
        backoff_initial: float = 0.5,
        backoff_max: float = 30.0,
        rate_limiter: RateLimiter | None = None,
        rate_limit: int = 100,
        rate_period: float = 60.0,
        rate_wait_timeout: float | None = None,
        download_timeout: float | None = None,
        user_agent: str | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not api_key:
            raise ValueError("GenlookClient needs an api_key.")
        if api not in DIALECTS:
            raise ValueError(f"GenlookClient api must be one of {DIALECTS}, not {api!r}.")
        self.api = api
        if base_url is None:
            base_url = classic.CLASSIC_BASE_URL if api == "classic" else DEFAULT_BASE_URL
        self.sync_timeout = sync_timeout
        self.download_timeout = download_timeout  # seconds for a whole download; None: no cap
        self._sleep = sleep
        self._transport = Transport(
            api_key=api_key,
            base_url=base_url,
            user_agent=user_agent or f"genlook-django/{__version__}",
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            retry=RetryPolicy(max_retries, backoff_initial, backoff_max),
            rate_limiter=rate_limiter or local_budget(api_key, rate_limit, rate_period),
            rate_wait_timeout=rate_wait_timeout,
            sleep=sleep,
            bearer=api == "classic",
        )
        self._classic = classic.ClassicCalls(self._transport) if api == "classic" else None

    @property
    def base_url(self) -> str:
        return self._transport.base_url

    def __repr__(self) -> str:  # never shows the key
        return f"<GenlookClient {self.api} {self.base_url}>"

    def supports(self, feature: str) -> bool:
        """Whether this dialect has ``feature``: ``uploads``, ``products``, ``customers``,
        ``credits``, ``sync`` (v1 only), ``batch``, ``webhook_url`` (classic only)."""
        return feature in classic.FEATURES[self.api]

    def _require(self, feature: str) -> None:
        if not self.supports(feature):
            raise classic.unsupported(feature)

    # Images ---------------------------------------------------------------------------

    def upload_image(
        self,
        file: bytes | IO[bytes] | inputs.ImageFile,
        *,
        crop: bool = True,
        external_user_id: str | None = None,
        keep_for_days: int | None = None,
    ) -> UploadedImage:
        """Upload a person photo once; its ``image_id`` serves any number of try-ons."""
        self._require("uploads")
        image = inputs.read_image_file(file)
        form = {"crop": "true" if crop else "false"}
        if external_user_id is not None:
            form["externalUserId"] = external_user_id
        if keep_for_days is not None:
            form["keepForDays"] = str(keep_for_days)
        reply = self._transport.request(
            "POST", "images/upload", form=form, files={"file": image.part()}
        )
        return UploadedImage.from_json(reply.body)

    # Try-ons ---------------------------------------------------------------------------

    def create_try_on(
        self,
        *,
        product: inputs.ProductInput,
        person: inputs.PersonInput,
        external_user_id: str | None = None,
        watermark: bool | None = None,
        keep_for_days: int | None = None,
        webhook_url: str | None = None,
    ) -> Generation:
        """Start a generation (1 credit on success); it runs asynchronously.

        Never re-sent after a read timeout or a lost connection: it may have been accepted
        and charged. Such a failure raises ``TransportError`` with ``request_sent=True``.
        In the classic dialect only the product, the person and ``webhook_url`` are sent
        (it has no user id, watermark or retention fields).
        """
        if self._classic is not None:
            return self._classic.create(product, person, webhook_url)
        body = inputs.try_on_body(
            product,
            person,
            external_user_id=external_user_id,
            watermark=watermark,
            keep_for_days=keep_for_days,
            webhook_url=webhook_url,
        )
        return self._create("try-on", body, read_timeout=None)

    def create_try_on_sync(
        self,
        *,
        product: inputs.ProductInput,
        person: inputs.PersonInput,
        external_user_id: str | None = None,
        watermark: bool | None = None,
        keep_for_days: int | None = None,
        webhook_url: str | None = None,
        timeout: float | None = None,
    ) -> Generation:
        """Start a generation and let Genlook hold the request until it finishes.

        Genlook answers 200 with the finished generation, or 202 when it is still running
        (the returned generation is then ``PENDING``/``PROCESSING``: poll it). The classic
        API cannot hold a request: there the generation comes back ``PROCESSING``.
        """
        if self._classic is not None:
            return self._classic.create(product, person, webhook_url)
        body = inputs.try_on_body(
            product,
            person,
            external_user_id=external_user_id,
            watermark=watermark,
            keep_for_days=keep_for_days,
            webhook_url=webhook_url,
        )
        return self._create("try-on/sync", body, read_timeout=timeout or self.sync_timeout)

    def _create(
        self,
        path: str,
        body_and_parts: tuple[dict[str, Any], inputs.Parts],
        read_timeout: float | None,
    ) -> Generation:
        body, parts = body_and_parts
        reply = self._send_json_or_multipart(
            path, body, parts, read_timeout=read_timeout, resend_safe=False
        )
        # /try-on/sync answers 200 once finished and 202 while still running.
        return Generation.from_json(
            reply.body, finished=path.endswith("sync") and reply.status == 200
        )

    def get_generation(self, generation_id: str) -> Generation:
        if self._classic is not None:
            return self._classic.get(generation_id)
        reply = self._transport.request("GET", f"generations/{quote(generation_id, safe='')}")
        return Generation.from_json(reply.body)

    def wait_for_generation(
        self,
        generation_id: str,
        *,
        timeout: float = 120.0,
        interval: float = 2.0,
        raise_on_failure: bool = False,
    ) -> Generation:
        """Poll until COMPLETED or FAILED (every ``interval`` seconds, as Genlook advises)."""
        deadline = time.monotonic() + timeout
        while True:
            generation = self.get_generation(generation_id)
            if generation.is_finished:
                if raise_on_failure and generation.is_failed:
                    raise GenerationFailedError(generation)
                return generation
            if time.monotonic() + interval > deadline:
                raise GenerationWaitTimeout(
                    f"Generation {generation_id} still {generation.status} after {timeout:g}s.",
                    generation=generation,
                )
            self._sleep(interval)

    def download(
        self, url: str, *, max_bytes: int = 25 * 1024 * 1024, timeout: float | None = None
    ) -> bytes:
        """Fetch a result image (a temporary signed URL: copy it into your own storage).
        ``timeout`` bounds the whole transfer (default: the client's ``download_timeout``,
        None: only each read is bounded, by ``read_timeout``)."""
        return download(
            self._transport,
            url,
            max_bytes=max_bytes,
            total_timeout=timeout if timeout is not None else self.download_timeout,
        )

    # Products --------------------------------------------------------------------------

    def upsert_product(
        self,
        external_id: str,
        *,
        title: str | None = None,
        description: str | None = None,
        images: Sequence[inputs.ProductImageInput] | None = None,
        valid_for_days: int | None = KEEP,
        metadata: Mapping[str, Any] | None = None,
    ) -> Product:
        """Create or partially update a catalog product (kept forever unless
        ``valid_for_days``; ``None`` restores "forever"; left out keeps the current value).
        ``images`` replaces the whole list when given."""
        self._require("products")
        parts = inputs.Parts()
        body: dict[str, Any] = {"externalId": external_id}
        if title is not None:
            body["title"] = title
        if description is not None:
            body["description"] = description
        if images is not None:
            body["images"] = inputs.image_entries(images, parts)
        if valid_for_days is not KEEP:
            body["validForDays"] = valid_for_days
        if metadata is not None:
            body["metadata"] = dict(metadata)
        reply = self._send_json_or_multipart("products", body, parts, resend_safe=True)
        return Product.from_json(reply.body)

    def get_product(self, external_id: str) -> Product:
        self._require("products")
        reply = self._transport.request("GET", f"products/{quote(external_id, safe='')}")
        return Product.from_json(reply.body)

    def list_products_page(self, *, cursor: str | None = None, limit: int = 50) -> ProductPage:
        self._require("products")
        params: dict[str, Any] = {"limit": limit}
        if cursor:
            params["cursor"] = cursor
        return ProductPage.from_json(self._transport.request("GET", "products", params=params).body)

    def list_products(self, *, limit: int = 50) -> Iterator[Product]:
        """Every listed product, following ``nextCursor`` page after page."""
        cursor = None
        while True:
            page = self.list_products_page(cursor=cursor, limit=limit)
            yield from page.items
            if not page.has_more or not page.next_cursor:
                return
            cursor = page.next_cursor

    def delete_product(self, external_id: str) -> None:
        self._require("products")
        self._transport.request("DELETE", f"products/{quote(external_id, safe='')}")

    # Account and customers -------------------------------------------------------------

    def get_credits(self) -> int:
        self._require("credits")
        return int(self._transport.request("GET", "account/credits").body["creditBalance"])

    def delete_customer(self, customer_id: str) -> None:
        """GDPR erasure of everything stored for an ``external_user_id`` (idempotent)."""
        self._require("customers")
        self._transport.request("DELETE", f"customers/{quote(customer_id, safe='')}")

    def extensions(self) -> frozenset[str]:
        """Request fields beyond the v1 contract that this endpoint declares it accepts:
        ``GET`` on the API root answering ``{"extensions": [...]}``. The sandbox declares
        ``webhook_url``; an endpoint that declares nothing (or fails to answer) accepts
        nothing beyond the contract. A failure to reach it (network, 5xx, 429) is raised.
        In the classic dialect ``webhook_url`` is part of the contract: nothing is asked."""
        if self._classic is not None:
            return frozenset({"webhook_url"})
        try:
            body = self._transport.request("GET", "").body
        except GenlookAPIError as exc:
            if isinstance(exc, RateLimitedError | ServerError):
                raise
            return frozenset()
        declared = body.get("extensions") if isinstance(body, dict) else None
        if not isinstance(declared, list):
            return frozenset()
        return frozenset(name for name in declared if isinstance(name, str))

    def create_batch(
        self,
        requests: Sequence[tuple[inputs.ProductInput, inputs.PersonInput]],
        *,
        webhook_url: str | None = None,
    ) -> list[classic.BatchEntry]:
        """Classic only: ``POST /v1/try-on/batch``, up to 100 ``(product, person)`` pairs in
        one request (one credit per accepted entry, one request of the rate limit). One
        ``BatchEntry`` per pair, in order: its generation, or the error that rejected it.
        Never re-sent once it may have reached Genlook."""
        if self._classic is None:
            raise classic.unsupported("batch")
        return self._classic.batch(requests, webhook_url)

    # Plumbing --------------------------------------------------------------------------

    def _send_json_or_multipart(
        self,
        path: str,
        body: dict[str, Any],
        parts: inputs.Parts,
        *,
        read_timeout: float | None = None,
        resend_safe: bool,
    ):
        if parts.files:
            # Bytes travel as named file parts; the JSON rides in the "data" field.
            return self._transport.request(
                "POST",
                path,
                form={"data": json.dumps(body)},
                files=parts.files,
                read_timeout=read_timeout,
                resend_safe=resend_safe,
            )
        return self._transport.request(
            "POST", path, json_body=body, read_timeout=read_timeout, resend_safe=resend_safe
        )
