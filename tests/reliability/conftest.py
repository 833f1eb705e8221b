"""R1-R5: the reliability and security proof (docs/reliability.md). Scaled down by
default (``make test``, CI); full with ``GENLOOK_RELIABILITY=full`` (``make reliability``)."""

from __future__ import annotations

import pytest

from .figures import Figures


@pytest.fixture
def figures(request):
    """A ``Figures`` named after the test, saved when it ends; the figures of every test
    that ran are printed in the terminal summary (under xdist too)."""
    name = request.node.name.removeprefix("test_")
    collected = Figures(name)
    yield collected
    collected.save()


@pytest.fixture
def fast_passwords(settings):
    """R5 makes many users: a hasher that takes no time."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
