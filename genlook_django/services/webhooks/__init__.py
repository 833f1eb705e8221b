"""Webhooks: receiving Genlook's notices, authenticating them, and acting on them.

- ``setup``: whether webhooks are on, the signing secrets, each try-on's own URL.
- ``receiver``: ``receive`` (authenticate, parse, store, deduplicate, enqueue).
- ``signatures``, ``payloads``: the ``Genlook-Signature`` check; both payload shapes.
- ``processing``: ``process`` (confirm with ``GET /generations/{id}``, then ingest).
- ``dispatch``: handing deliveries to the task queue (``jobs``), several per message.
- ``deliveries``: the delivery log's shared reasons, and putting deliveries back in the queue.
"""

from genlook_django.services.webhooks.deliveries import mark_for_reprocessing, reprocess
from genlook_django.services.webhooks.dispatch import enqueue
from genlook_django.services.webhooks.payloads import PayloadError, WebhookHint, parse_payload
from genlook_django.services.webhooks.processing import (
    NotReady,
    connect_signals,
    is_retryable,
    process,
)
from genlook_django.services.webhooks.receiver import Receipt, clean_headers, receive
from genlook_django.services.webhooks.setup import (
    enabled,
    endpoint_accepts_webhook_url,
    hash_token,
    signing_secrets,
    url_for_submission,
)
from genlook_django.services.webhooks.signatures import (
    SIGNATURE_HEADER,
    SignatureError,
    signature_header,
    verify_signature,
)

__all__ = [
    "SIGNATURE_HEADER",
    "NotReady",
    "PayloadError",
    "Receipt",
    "SignatureError",
    "WebhookHint",
    "clean_headers",
    "connect_signals",
    "enabled",
    "endpoint_accepts_webhook_url",
    "enqueue",
    "hash_token",
    "is_retryable",
    "mark_for_reprocessing",
    "parse_payload",
    "process",
    "receive",
    "reprocess",
    "signature_header",
    "signing_secrets",
    "url_for_submission",
    "verify_signature",
]
