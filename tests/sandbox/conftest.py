"""Fixtures for the sandbox contract tests (the sandbox server itself comes from the plugin)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import ThreadingHTTPServer

import pytest

from genlook_django.sandbox.testing import SandboxServer
from tests.sandbox.classic import ClassicApi
from tests.sandbox.helpers import Api, MediaServer, draw_garment, media_handler

GENERATION_SECONDS = 0.3


@pytest.fixture(scope="session")
def _media_http() -> Iterator[tuple[ThreadingHTTPServer, MediaServer]]:
    media = MediaServer()
    server = ThreadingHTTPServer(("127.0.0.1", 0), media_handler(media))
    server.daemon_threads = True
    media.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server, media
    server.shutdown()
    server.server_close()


@pytest.fixture
def media(_media_http: tuple[ThreadingHTTPServer, MediaServer]) -> MediaServer:
    media = _media_http[1]
    media.files.clear()
    media.received.clear()
    media.webhook_statuses.clear()
    return media


@pytest.fixture
def sandbox(genlook_sandbox: SandboxServer) -> SandboxServer:
    """The session's sandbox, reset, with fast generations."""
    genlook_sandbox.state.configure(generation_seconds=GENERATION_SECONDS, sync_wait_seconds=5)
    return genlook_sandbox


@pytest.fixture
def api(sandbox: SandboxServer) -> Iterator[Api]:
    client = Api(sandbox.base_url, sandbox.api_key, sandbox.control_token)
    yield client
    client.session.close()


@pytest.fixture
def garment() -> bytes:
    return draw_garment()


@pytest.fixture
def garment_url(media: MediaServer, garment: bytes) -> str:
    return media.serve("/products/red-tee.png", garment)


@pytest.fixture
def photo_id(api: Api, person_photo: bytes) -> str:
    """An uploaded person photo (``imageId``) of ``shopper-1``."""
    return api.upload(person_photo, externalUserId="shopper-1")["imageId"]


@pytest.fixture
def classic(sandbox: SandboxServer) -> Iterator[ClassicApi]:
    """The classic dialect of the same sandbox (same accounts and credits)."""
    client = ClassicApi(sandbox.classic_base_url, sandbox.api_key)
    yield client
    client.session.close()


@pytest.fixture
def model_url(media: MediaServer, person_photo: bytes) -> str:
    return media.serve("/photos/me.png", person_photo)
