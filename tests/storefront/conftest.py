"""Fixtures of the storefront tests; ``storefront``, ``product``, ``shopper`` and the helpers
to start and follow try-ons come from ``tests/support/storefront.py``."""

from __future__ import annotations

import pytest
from django.http import multipartparser
from django.test import Client
from rest_framework import parsers


@pytest.fixture
def other_shopper() -> Client:
    return Client()


@pytest.fixture
def parsers_must_not_run(monkeypatch):
    """Fail the test if Django's multipart parser (the CSRF check's request.POST) or DRF's
    ever runs; counts the attempts."""
    calls: list[str] = []

    def refuse(name):
        def parse(*args, **kwargs):
            calls.append(name)
            raise AssertionError(f"{name} parsed the body")

        return parse

    monkeypatch.setattr(multipartparser.MultiPartParser, "parse", refuse("django"))
    monkeypatch.setattr(parsers.MultiPartParser, "parse", refuse("drf"))
    return calls
