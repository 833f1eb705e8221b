"""The webhook receiver against the sandbox: try-ons submitted for real (their webhook URL
taken from what the sandbox was sent), deliveries posted as Genlook would post them. The
helpers (``token_of``, ``finished``, ``payload_of``) are in ``tests/support/webhooks.py``."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from genlook_django.models import TryOn
from tests.support.storefront import start
from tests.support.webhooks import token_of


@pytest.fixture
def hooks(storefront, settings):
    """Webhooks on; the status view does not poll through (a result arrives only by the
    receiver here), and the sandbox sends nothing itself: the tests post the deliveries."""
    settings.GENLOOK = {**settings.GENLOOK, "WEBHOOKS": True, "STATUS_POLL_THROUGH": False}
    storefront.state.set_faults(drop_webhooks=1.0)
    return storefront


@pytest.fixture
def submit(hooks, shopper, product, person_photo):
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
