"""Shared test set-up. The sandbox fixtures (``genlook_sandbox_server``, ``genlook_sandbox``)
come from the plugin that host projects use too; the fixtures several folders share come
from ``tests/support`` (see its ``__init__``)."""

import os
import threading
from pathlib import Path

import pytest
from django.core.servers.basehttp import ThreadedWSGIServer
from django.test.testcases import LiveServerThread

from tests.reliability.figures import print_summary

pytest_plugins = [
    "genlook_django.sandbox.pytest_plugin",
    "tests.skip_policy",
    "tests.support.catalog",
    "tests.support.storefront",
    "tests.support.browser",
    "tests.support.concurrency",
]

MEDIA = Path(__file__).resolve().parent / "media"
OSCAR_TESTS = Path(__file__).resolve().parent / "oscar"
OSCAR_SETTINGS = "tests.oscar.settings"


@pytest.fixture(scope="session")
def person_photo() -> bytes:
    """A real photo of a person (PNG, 512x512)."""
    return (MEDIA / "person-astronaut.png").read_bytes()


def pytest_ignore_collect(collection_path: Path, config) -> bool | None:
    """tests/oscar runs in its own Oscar project (``--ds=tests.oscar.settings``, a run of
    its own in ``make test``); every other folder runs in tests.settings."""
    inside = collection_path == OSCAR_TESTS or OSCAR_TESTS in collection_path.parents
    if os.environ.get("DJANGO_SETTINGS_MODULE") == OSCAR_SETTINGS:
        return None if inside or collection_path in OSCAR_TESTS.parents else True
    return True if inside else None


# Held by the live server around each request that may use the database; a test that
# makes its own requests meanwhile (with the test client) takes it too.
LIVE_SERVER_LOCK = threading.Lock()
# Files served without the database: Genlook (the sandbox) fetches them while a request
# that holds the lock waits for its answer (a classic create fetches the photo link).
_NO_DATABASE_PATHS = ("/media/", "/genlook/photos/")


class _OneRequestAtATimeServer(ThreadedWSGIServer):
    """The live server shares the test's in-memory SQLite connection with its request
    threads; a browser loading several images at once would use that one connection from
    several threads together (``sqlite3.InterfaceError``). Requests still get their own
    threads, so keep-alive connections never block each other, but run the app one at a time.
    """

    def set_app(self, wsgi_app):
        def one_at_a_time(environ, start_response):
            if environ.get("PATH_INFO", "").startswith(_NO_DATABASE_PATHS):
                return wsgi_app(environ, start_response)
            with LIVE_SERVER_LOCK:
                return wsgi_app(environ, start_response)

        super().set_app(one_at_a_time)


LiveServerThread.server_class = _OneRequestAtATimeServer


def pytest_terminal_summary(terminalreporter) -> None:
    print_summary(terminalreporter)  # the figures of the reliability tests that ran
