"""Shared test set-up. The sandbox fixtures (``genlook_sandbox_server``, ``genlook_sandbox``)
come from the plugin that host projects use too."""

from pathlib import Path

import pytest

pytest_plugins = ["genlook_django.sandbox.pytest_plugin", "tests.skip_policy"]

MEDIA = Path(__file__).resolve().parent / "media"


@pytest.fixture(scope="session")
def person_photo() -> bytes:
    """A real photo of a person (PNG, 512x512)."""
    return (MEDIA / "person-astronaut.png").read_bytes()
