"""The storefront against the sandbox: the shop's set-up, shoppers (each a test client with
its own session), and helpers to start and follow try-ons as the widget does. Fixtures:
``storefront``, ``product``, ``shopper`` (a pytest plugin, see ``tests/support/__init__.py``)."""

from __future__ import annotations

import time
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from genlook_django import jobs

TRY_ONS = reverse("genlook:tryon-list")
ME = reverse("genlook:me")


@pytest.fixture
def storefront(settings, genlook, tmp_path):
    """The app pointed at a fresh sandbox (0.3 s generations), files in a private storage."""
    genlook.state.configure(generation_seconds=0.3, sync_wait_seconds=5)
    settings.STORAGES = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        "genlook_private": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "private")},
        },
    }
    settings.GENLOOK = {
        **settings.GENLOOK,
        "PHOTOS_STORAGE": "genlook_private",
        "RESULTS_STORAGE": "genlook_private",
        "STATUS_POLL_INTERVAL": 0.1,
        "WIDGET_POLL_MS": 50,
    }
    return genlook


@pytest.fixture
def product(storefront, make_product):
    return make_product("Linen Shirt")


@pytest.fixture
def shopper() -> Client:
    return Client()


def product_ref(product) -> str:
    return f"shop.product:{product.pk}"


def start(client: Client, product, photo: bytes | None = None, **fields: Any):
    """POST a try-on as the widget does (multipart)."""
    data: dict[str, Any] = {"product": product_ref(product), "consent": "true", **fields}
    if photo is not None:
        data["photo"] = SimpleUploadedFile("me.jpg", photo, content_type="image/jpeg")
    return client.post(TRY_ONS, data)


def follow(client: Client, try_on: dict, timeout: float = 10.0) -> dict:
    """Poll the status view until the try-on is final, as the widget does."""
    deadline = time.monotonic() + timeout
    url = reverse("genlook:tryon-detail", kwargs={"public_id": try_on["id"]})
    while True:
        response = client.get(url)
        assert response.status_code == 200, response.content
        body = response.json()
        if body["poll_after_ms"] is None:
            return body
        assert time.monotonic() < deadline, f"still {body['status']} after {timeout}s"
        time.sleep(body["poll_after_ms"] / 1000)


def hold_submissions(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """From now on, try-on submissions are queued for a worker that does not run them
    (yet); returns the ids of the try-ons whose ``genlook.submit_try_on`` was handed over.
    Other tasks run as before."""
    held: list[int] = []
    enqueue = jobs.enqueue

    def held_back(name: str, *args: Any, **options: Any) -> Any:
        if name != "genlook.submit_try_on":
            return enqueue(name, *args, **options)
        held.append(args[0])
        return None

    monkeypatch.setattr(jobs, "enqueue", held_back)
    return held


@pytest.fixture
def submissions_held(monkeypatch) -> list[int]:
    """``hold_submissions`` for the whole test."""
    return hold_submissions(monkeypatch)
