"""Generations: accept a try-on, move it PENDING -> PROCESSING -> COMPLETED/FAILED on time.

Timeline of one generation of ``generation_seconds`` T (real time, not the injectable clock):
PROCESSING at 0.2 T, final at T. The image is rendered on a worker meanwhile; if rendering
takes longer than T the generation finishes as soon as it is ready. A credit is reserved
when the generation is accepted and given back if it fails.
"""

from __future__ import annotations

import io
import logging
import secrets
import string
import time
from collections import Counter
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from django.core.files.uploadedfile import UploadedFile
from PIL import Image

from genlook_django.sandbox.errors import ApiError, bad_request, invalid_field
from genlook_django.sandbox.files import file_url
from genlook_django.sandbox.images import (
    JPEG,
    ImageRejected,
    encode_jpeg,
    normalise_person,
    open_image,
    placeholder_garment,
    placeholder_person,
    render_try_on,
)
from genlook_django.sandbox.outbound import FetchError
from genlook_django.sandbox.parsing import PersonInput, TryOnInput
from genlook_django.sandbox.parts import decode, prepare_images, read_part
from genlook_django.sandbox.records import (
    DAY,
    Failure,
    Generation,
    PreparedJob,
    Product,
    ProductImage,
    Rendered,
    Status,
)
from genlook_django.sandbox.timefmt import iso
from genlook_django.sandbox.webhooks import completion_payload

if TYPE_CHECKING:
    from genlook_django.sandbox.state import SandboxState

logger = logging.getLogger(__name__)

PROCESSING_AT = 0.2  # fraction of generation_seconds after which a generation is PROCESSING
MOCK_TITLE = "mock"  # Genlook's mock engine: the person photo comes back unchanged, at once
PRODUCT_IMAGE_FETCH_FAILED = "PRODUCT_IMAGE_FETCH_FAILED"
_ID_ALPHABET = string.ascii_lowercase + string.digits


def new_generation_id() -> str:
    return "cm" + "".join(secrets.choice(_ID_ALPHABET) for _ in range(23))


class Engine:
    def __init__(self, state: SandboxState) -> None:
        self._state = state
        self._generations: dict[str, Generation] = {}
        self._created: Counter[str] = Counter()

    # -- reading ------------------------------------------------------------------------------

    def get(self, api_key: str, generation_id: str) -> Generation:
        with self._state.lock:
            generation = self._generations.get(generation_id)
        if generation is None:
            raise ApiError(404, "GENERATION_NOT_FOUND", f"Generation '{generation_id}' not found.")
        if generation.api_key != api_key:
            raise ApiError(403, "FORBIDDEN", "This generation belongs to another account.")
        return generation

    def created(self, api_key: str | None = None) -> int:
        with self._state.lock:
            return self._created[api_key] if api_key else sum(self._created.values())

    def all(self, api_key: str) -> list[Generation]:
        """Every generation of one account, oldest first (for ``_sandbox/generations``)."""
        with self._state.lock:
            mine = [g for g in self._generations.values() if g.api_key == api_key]
        return sorted(mine, key=lambda g: g.created_at)

    def by_status(self, api_key: str) -> dict[str, int]:
        with self._state.lock:
            counts = Counter(
                g.status.value for g in self._generations.values() if g.api_key == api_key
            )
        return dict(counts)

    # -- accepting ----------------------------------------------------------------------------

    def submit(
        self,
        *,
        api_key: str,
        api_root: str,
        data: TryOnInput,
        files: Mapping[str, UploadedFile],
    ) -> tuple[Generation, Product]:
        """Validate what is left, charge, create and schedule; raises ApiError on refusal."""
        state = self._state
        config = state.config
        images = prepare_images(data.product.images, files, config.max_upload_bytes)
        state.catalog.precheck(api_key, data.product, images)
        person = self._person(api_key, data.person, files)
        with state.lock:
            state.reserve_credit(api_key)
            try:
                product = state.catalog.for_try_on(api_key, data.product, images, api_root)
            except ApiError:
                state.refund_credit(api_key)
                raise
            state.catalog.touch(product)
            mock = product.title == MOCK_TITLE
            generation = self._create(
                Generation(
                    generation_id=new_generation_id(),
                    api_key=api_key,
                    product_external_id=product.external_id,
                    customer_id=data.external_user_id,
                    created_at=state.now(),
                    updated_at=state.now(),
                    api_root=api_root,
                    watermark=True if data.watermark is None else data.watermark,
                    keep_for_days=data.keep_for_days or config.default_keep_for_days,
                    webhook_url=data.webhook_url,
                    person=person,
                    garment=product.images[0] if product.images else None,
                ),
                mock=mock,
            )
        self._schedule(generation, mock=mock, seconds=config.generation_seconds)
        return generation, product

    def submit_prepared(
        self, *, api_key: str, api_root: str, jobs: list[PreparedJob]
    ) -> list[Generation]:
        """Charge one credit per job (all or none: 402 otherwise), create and schedule them,
        in order. The classic dialect's try-ons, single or batched."""
        state = self._state
        config = state.config
        with state.lock:
            state.reserve_credit(api_key, len(jobs))
            now = state.now()
            generations = [
                self._create(
                    Generation(
                        generation_id=new_generation_id(),
                        api_key=api_key,
                        product_external_id=None,
                        customer_id=None,
                        created_at=now,
                        updated_at=now,
                        api_root=api_root,
                        watermark=True,
                        keep_for_days=config.default_keep_for_days,
                        webhook_url=job.webhook_url,
                        dialect="classic",
                        category=job.category,
                        person=job.person,
                        garment=job.garment,
                    ),
                    mock=False,
                )
                for job in jobs
            ]
        for generation in generations:
            self._schedule(generation, mock=False, seconds=config.generation_seconds)
        return generations

    def _create(self, generation: Generation, *, mock: bool) -> Generation:
        """Register a new generation, deciding now whether fault injection fails it."""
        state = self._state
        api_key = generation.api_key
        faults = state.faults.for_key(api_key)
        if state.faults.decide(api_key, "failed_generation"):
            generation.outcome = Failure(
                faults.fail_error_code, "Generation failed (injected fault)."
            )
        elif mock and generation.person is not None:
            generation.outcome = Rendered(generation.person, *JPEG)
        self._generations[generation.generation_id] = generation
        self._created[api_key] += 1
        return generation

    def _schedule(self, generation: Generation, *, mock: bool, seconds: float) -> None:
        state = self._state
        generation_id = generation.generation_id
        start = time.monotonic()
        duration = 0.0 if mock else max(0.0, seconds)
        if not mock:
            state.scheduler.call_at(
                start + duration * PROCESSING_AT, lambda: self._start_processing(generation_id)
            )
        state.scheduler.call_at(start + duration, lambda: self._mark_due(generation_id))
        if generation.outcome is None:
            state.workers.submit(lambda: self._render(generation_id))

    def _person(
        self, api_key: str, person: PersonInput, files: Mapping[str, UploadedFile]
    ) -> bytes:
        """The person photo as stored JPEG bytes; inline photos get the 4:5 crop."""
        state = self._state
        if person.kind == "id":
            content = state.uploads.content(api_key, person.value)
            if content is None:
                raise invalid_field(person.path, "Unknown or expired imageId")
            return content
        if person.kind == "fileKey":
            image = decode(read_part(files[person.value], state.config.max_upload_bytes))
        else:
            image = self._fetch_person(person.value)
        return encode_jpeg(normalise_person(image, crop=True))

    def _fetch_person(self, url: str) -> Image.Image:
        try:
            data = self._state.download(url)
        except FetchError as exc:
            raise bad_request(
                "CUSTOMER_IMAGE_FETCH_FAILED", f"Could not download {url}: {exc}"
            ) from exc
        if data is None:  # a host the sandbox may not contact: pretend with a drawn person
            return placeholder_person(url)
        try:
            return open_image(data)
        except ImageRejected as exc:
            raise bad_request(
                "CUSTOMER_IMAGE_FETCH_FAILED", f"{url} is not a usable image: {exc}"
            ) from exc

    # -- progressing --------------------------------------------------------------------------

    def _find(self, generation_id: str) -> Generation | None:
        """A generation of the current world (None once ``reset`` has retired this engine)."""
        with self._state.lock:
            if self._state.engine is not self:
                return None
            return self._generations.get(generation_id)

    def _start_processing(self, generation_id: str) -> None:
        with self._state.lock:
            generation = self._find(generation_id)
            if generation is not None and generation.status is Status.PENDING:
                generation.status = Status.PROCESSING
                generation.updated_at = self._state.now()

    def _render(self, generation_id: str) -> None:
        generation = self._find(generation_id)
        if generation is None or generation.person is None:
            return
        try:
            garment = self._garment(generation.garment)
            person = Image.open(io.BytesIO(generation.person))
            outcome: Rendered | Failure = Rendered(
                render_try_on(person, garment, watermark=generation.watermark), *JPEG
            )
        except _GarmentFailure as exc:
            outcome = Failure(PRODUCT_IMAGE_FETCH_FAILED, str(exc))
        except Exception:  # an untyped failure, as the API reports internal errors
            logger.exception("Genlook sandbox could not render %s", generation_id)
            outcome = Failure(None, "The generation failed unexpectedly.")
        with self._state.lock:
            if generation.outcome is None:
                generation.outcome = outcome
        self._finish_if_ready(generation_id)

    def _garment(self, image: ProductImage | None) -> Image.Image:
        if image is None:
            return placeholder_garment("no image")
        data = image.content
        if data is None:
            try:
                data = self._state.download(image.source_url)
            except FetchError as exc:
                raise _GarmentFailure(f"Could not fetch product image: {exc}") from exc
            if data is None:  # a host the sandbox may not contact: a drawn swatch instead
                return placeholder_garment(image.source_url)
        try:
            return open_image(data)
        except ImageRejected as exc:
            raise _GarmentFailure(f"Product image {image.source_url} is unusable: {exc}") from exc

    def _mark_due(self, generation_id: str) -> None:
        with self._state.lock:
            generation = self._find(generation_id)
            if generation is None:
                return
            generation.due = True
        self._finish_if_ready(generation_id)

    def _finish_if_ready(self, generation_id: str) -> None:
        state = self._state
        with state.lock:
            generation = self._find(generation_id)
            if generation is None or generation.status.is_final:
                return
            outcome = generation.outcome
            if not generation.due or outcome is None:
                return
            now = state.now()
            if isinstance(outcome, Rendered):
                stored = state.files.put(
                    outcome.content,
                    content_type=outcome.content_type,
                    extension=outcome.extension,
                    api_key=generation.api_key,
                    customer_id=generation.customer_id,
                    expires_at=now + generation.keep_for_days * DAY,
                )
                generation.result_token = stored.token
                generation.result_url = file_url(generation.api_root, stored)
                status = Status.COMPLETED
            else:
                generation.error_code = outcome.code
                generation.error_message = outcome.message
                state.refund_credit(generation.api_key)
                status = Status.FAILED
            generation.updated_at = generation.completed_at = now
            generation.person = generation.garment = generation.outcome = None
            generation.status = status  # last, so that a final status comes with its details
        generation.done.set()
        if generation.webhook_url:
            # A classic generation always speaks classic; WEBHOOK_PAYLOAD shapes v1 ones.
            shape = "classic" if generation.dialect == "classic" else state.config.webhook_payload
            state.webhooks.send(
                generation.api_key,
                generation.webhook_url,
                completion_payload(generation, generation.result_url, shape),
            )

    # -- erasure --------------------------------------------------------------------------------

    def anonymise(self, api_key: str, customer_id: str) -> None:
        """GDPR: the rows stay (for billing) but lose the customer id and their images.

        A generation still running finishes normally (its photo is dropped when it does).
        """
        with self._state.lock:
            for generation in self._generations.values():
                if generation.api_key == api_key and generation.customer_id == customer_id:
                    generation.customer_id = None
                    self._state.files.discard(generation.result_token)


class _GarmentFailure(Exception):
    """The product image could not be fetched or decoded: the generation fails, typed."""


def serialise_generation(generation: Generation) -> dict[str, Any]:
    status = generation.status  # read once: the timer thread may move it meanwhile
    body: dict[str, Any] = {"generationId": generation.generation_id, "status": status}
    if status is Status.COMPLETED:
        body["resultImageUrl"] = generation.result_url
    if status is Status.FAILED:
        if generation.error_code:
            body["errorCode"] = generation.error_code
        body["errorMessage"] = generation.error_message
    body["createdAt"] = iso(generation.created_at)
    body["updatedAt"] = iso(generation.updated_at)
    return body
