"""The webhook receiver against the sandbox: try-ons submitted for real (their webhook URL
taken from what the sandbox was sent), deliveries posted as Genlook would post them."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.test import Client
from django.urls import resolve

from genlook_django.models import TryOn
from genlook_django.sandbox.webhooks import completion_payload
from genlook_django.services.genlook import get_client
from tests.catalog.conftest import API_KEY
from tests.storefront.conftest import (  # noqa: F401  (fixtures)
    _media_server,
    adapter_for,
    genlook,
    make_product,
    product,
    shop_adapter,
    shopper,
    start,
    storefront,
)


@pytest.fixture
def hooks(storefront, settings):  # noqa: F811
    """Webhooks on; the status view does not poll through (a result arrives only by the
    receiver here), and the sandbox sends nothing itself: the tests post the deliveries."""
    settings.GENLOOK = {**settings.GENLOOK, "WEBHOOKS": True, "STATUS_POLL_THROUGH": False}
    storefront.state.set_faults(drop_webhooks=1.0)
    return storefront


def token_of(sandbox, try_on: TryOn) -> str:
    """The token of the webhook URL the app sent with this try-on."""
    url = sandbox.state.engine.get(API_KEY, try_on.generation_id).webhook_url
    assert url, "the submission sent no webhook_url"
    return resolve(urlsplit(url).path).kwargs["token"]


@pytest.fixture
def submit(hooks, shopper, product, person_photo):  # noqa: F811
    """Start a try-on through the storefront; it is pending at Genlook. Returns the row
    and its webhook token."""

    def run(**faults: Any) -> tuple[TryOn, str]:
        if faults:
            hooks.state.set_faults(drop_webhooks=1.0, **faults)
        response = start(shopper, product, person_photo)
        assert response.status_code == 202, response.content
        row = TryOn.objects.get(public_id=response.json()["id"])
        assert row.state == TryOn.State.PENDING and row.generation_id
        return row, token_of(hooks, row)

    return run


@pytest.fixture
def pending(submit) -> tuple[TryOn, str]:
    return submit()


def finished(generation_id: str):
    """Wait until the sandbox has finished the generation (about 0.3 s)."""
    return get_client().wait_for_generation(generation_id, timeout=10, interval=0.05)


def payload_of(sandbox, generation_id: str, shape: str = "classic") -> dict[str, Any]:
    """What the sandbox itself would POST for this generation now."""
    record = sandbox.state.engine.get(API_KEY, generation_id)
    return completion_payload(record, record.result_url, shape)


@pytest.fixture
def post() -> Callable[..., Any]:
    """POST a delivery as Genlook would (no cookie, no CSRF token)."""
    client = Client(enforce_csrf_checks=True)

    def send(token: str, body: Any, **headers: Any):
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        return client.post(
            f"/genlook/webhooks/{token}/",
            data=data,
            content_type="application/json",
            headers=headers,
        )

    send.client = client  # type: ignore[attr-defined]
    return send
