"""Pytest fixtures for host projects: ``pytest_plugins = ["genlook_django.sandbox.pytest_plugin"]``.

- ``genlook_sandbox_server``: one SandboxServer for the whole session.
- ``genlook_sandbox``: that server with a freshly reset state, for one test.

The control endpoints (``_sandbox/``) want ``genlook_sandbox.control_headers`` (the
control token, and ``x-api-key`` naming the account), never the API key alone.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from genlook_django.sandbox.testing import SandboxServer


@pytest.fixture(scope="session")
def genlook_sandbox_server() -> Iterator[SandboxServer]:
    with SandboxServer() as server:
        yield server


@pytest.fixture
def genlook_sandbox(genlook_sandbox_server: SandboxServer) -> Iterator[SandboxServer]:
    genlook_sandbox_server.state.reset()
    yield genlook_sandbox_server
    genlook_sandbox_server.state.reset()  # leave no faults or odd config to the next test
