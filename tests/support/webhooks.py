"""Webhook deliveries as Genlook would post them, for try-ons submitted to the sandbox."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django.urls import resolve

from genlook_django.models import TryOn
from genlook_django.sandbox.webhooks import completion_payload
from genlook_django.services.genlook import get_client
from tests.support.catalog import API_KEY


def token_of(sandbox, try_on: TryOn) -> str:
    """The token of the webhook URL the app sent with this try-on."""
    url = sandbox.state.engine.get(API_KEY, try_on.generation_id).webhook_url
    assert url, "the submission sent no webhook_url"
    return resolve(urlsplit(url).path).kwargs["token"]


def finished(generation_id: str):
    """Wait until the sandbox has finished the generation (about 0.3 s)."""
    return get_client().wait_for_generation(generation_id, timeout=10, interval=0.05)


def payload_of(sandbox, generation_id: str, shape: str = "classic") -> dict[str, Any]:
    """What the sandbox itself would POST for this generation now."""
    record = sandbox.state.engine.get(API_KEY, generation_id)
    return completion_payload(record, record.result_url, shape)
