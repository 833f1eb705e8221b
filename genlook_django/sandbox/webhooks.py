"""Completion webhooks in the classic payload, sent from the background with retries.

v1 documents no webhooks; the sandbox sends the older page's payload to a ``webhook_url``
given on ``/try-on`` so the project's webhook receiver can be exercised end to end.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Callable
from typing import Any

from genlook_django.sandbox.conf import SandboxConfig
from genlook_django.sandbox.faults import FaultInjector
from genlook_django.sandbox.outbound import FetchError, NotAllowed, check_allowed, post_json
from genlook_django.sandbox.records import Generation, Status, WebhookDelivery
from genlook_django.sandbox.scheduler import Scheduler, WorkerPool
from genlook_django.sandbox.timefmt import iso


def classic_payload(generation: Generation, result_url: str | None) -> dict[str, Any]:
    """The classic page's generation object (its status answer and webhook payload):
    ``processing`` until final, ``result_image`` once completed, ``error`` once failed."""
    status = generation.status  # read once: the timer thread may move it meanwhile
    payload: dict[str, Any] = {
        "id": generation.generation_id,
        "status": status.value.lower() if status.is_final else "processing",
        "result_image": result_url if status is Status.COMPLETED else None,
        "created_at": iso(generation.created_at),
        "completed_at": iso(generation.completed_at) if status.is_final else None,
    }
    if status is Status.FAILED:
        payload["error"] = {
            "code": generation.error_code or "GENERATION_FAILED",
            "message": generation.error_message or "The generation failed.",
            "details": {},
        }
    return payload


def v1_payload(generation: Generation, result_url: str | None) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "generationId": generation.generation_id,
        "status": generation.status.value,
        "productExternalId": generation.product_external_id,
        "createdAt": iso(generation.created_at),
        "updatedAt": iso(generation.updated_at),
    }
    if result_url:
        payload["resultImageUrl"] = result_url
    if generation.error_code:
        payload["errorCode"] = generation.error_code
    if generation.error_message:
        payload["errorMessage"] = generation.error_message
    return payload


def completion_payload(
    generation: Generation, result_url: str | None, shape: str
) -> dict[str, Any]:
    if shape == "v1":
        return v1_payload(generation, result_url)
    return classic_payload(generation, result_url)


def signature_header(body: bytes, secret: str, timestamp: int) -> str:
    """``t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>." + body>``."""
    signed = str(timestamp).encode() + b"." + body
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def backoff(attempt: int) -> float:
    return 0.2 * 3 ** (attempt - 1)  # 0.2 s, 0.6 s, 1.8 s...


class WebhookSender:
    def __init__(
        self,
        *,
        config: Callable[[], SandboxConfig],
        faults: FaultInjector,
        scheduler: Scheduler,
        workers: WorkerPool,
    ) -> None:
        self._config = config
        self._faults = faults
        self._scheduler = scheduler
        self._workers = workers
        self._lock = threading.Lock()
        self._deliveries: list[WebhookDelivery] = []
        self._epoch = 0

    @property
    def deliveries(self) -> list[WebhookDelivery]:
        with self._lock:
            return list(self._deliveries)

    def reset(self) -> None:
        with self._lock:
            self._deliveries = []
            self._epoch += 1  # retries of deliveries from before the reset stop quietly

    def send(self, api_key: str, url: str, payload: dict[str, Any]) -> WebhookDelivery:
        generation_id = str(payload.get("id") or payload.get("generationId"))
        delivery = WebhookDelivery(
            api_key=api_key, generation_id=generation_id, url=url, payload=payload
        )
        with self._lock:
            self._deliveries.append(delivery)
            epoch = self._epoch
        if self._faults.decide(api_key, "dropped_webhook"):
            delivery.outcome = "dropped"
        else:
            self._workers.submit(lambda: self._attempt(delivery, epoch))
        return delivery

    def _attempt(self, delivery: WebhookDelivery, epoch: int) -> None:
        if epoch != self._epoch:
            return
        config = self._config()
        delivery.attempts += 1
        try:
            target = check_allowed(delivery.url, config)
            body = json.dumps(delivery.payload).encode()
            headers = {}
            if config.webhook_signing_secret:
                headers["Genlook-Signature"] = signature_header(
                    body, config.webhook_signing_secret, int(time.time())
                )
            delivery.last_status = post_json(
                delivery.url, body, timeout=config.webhook_timeout, headers=headers, target=target
            )
        except NotAllowed:
            delivery.outcome = "blocked"  # never contacted: a public host (outbound.py)
            return
        except FetchError:
            delivery.last_status = None
        if delivery.last_status is not None and 200 <= delivery.last_status < 300:
            delivery.outcome = "delivered"
        elif delivery.attempts >= config.webhook_attempts:
            delivery.outcome = "failed"
        else:
            self._scheduler.call_later(
                backoff(delivery.attempts),
                lambda: self._workers.submit(lambda: self._attempt(delivery, epoch)),
            )
