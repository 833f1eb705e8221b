"""The app speaking either Genlook dialect to the sandbox, with the shop served by a live
server: the classic API fetches the shopper's photo (a signed link) and the product images
from the shop itself. Used by the tests parametrized over ``v1`` and ``classic``."""

from __future__ import annotations

import time
from typing import Any

from django.test import Client

from tests.conftest import LIVE_SERVER_LOCK

DIALECTS = ["v1", "classic"]


def speak(settings: Any, sandbox: Any, live_server: Any, api: str, **extra: Any) -> None:
    """Point the app at the sandbox in ``api``'s dialect; the shop at the live server."""
    settings.MEDIA_URL = "/media/"
    base = sandbox.classic_base_url if api == "classic" else sandbox.base_url
    settings.GENLOOK = {
        **settings.GENLOOK,
        "API": api,
        "BASE_URL": base,
        "PUBLIC_BASE_URL": live_server.url,
        **extra,
    }


class LockedClient(Client):
    """A test client whose requests wait for the live server's current one (and make it
    wait): both use the test's one in-memory SQLite connection."""

    def request(self, **request: Any):
        with LIVE_SERVER_LOCK:
            return super().request(**request)


def settle_webhooks(sandbox: Any, expected: int, timeout: float = 15.0) -> None:
    """Wait until the sandbox has made ``expected`` webhook deliveries and has none left
    to make (each one reaches the live server, which writes to the test's database: read
    it only after)."""
    deadline = time.monotonic() + timeout

    def busy() -> bool:
        deliveries = sandbox.state.webhook_deliveries
        return len(deliveries) < expected or any(d.outcome == "pending" for d in deliveries)

    while busy():
        assert time.monotonic() < deadline, sandbox.state.webhook_deliveries
        time.sleep(0.05)
