"""The app pointed at the sandbox, and the shop's products with real images served over
loopback HTTP (as a shop's media server would). Fixtures: ``genlook``, ``adapter_for``,
``shop_adapter``, ``make_product`` (a pytest plugin, see ``tests/support/__init__.py``)."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Iterator
from decimal import Decimal
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from genlook_django.services import catalog
from genlook_django.services.catalog import ProductAdapter
from tests.support.images import image_bytes

# An account of our own: the client's in-process budget is per key, and its first limit
# stands, so these tests must not share a key with suites using other limits.
API_KEY = "gk_catalog_tests"


@pytest.fixture(scope="session")
def _media_server(tmp_path_factory) -> Iterator[tuple[str, Path]]:
    """Serves <root>/media/... on 127.0.0.1 (the sandbox only fetches from loopback)."""
    root = tmp_path_factory.mktemp("shop")
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", root
    server.shutdown()
    server.server_close()


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def genlook(settings, genlook_sandbox, _media_server, tmp_path):
    """The app talking to a fresh sandbox; media files served at PUBLIC_BASE_URL/media/."""
    origin, root = _media_server
    media_root = root / tmp_path.name
    settings.MEDIA_ROOT = media_root
    settings.MEDIA_URL = f"/{tmp_path.name}/"
    genlook_sandbox.state.add_account(API_KEY)
    settings.GENLOOK = {
        "API_KEY": API_KEY,
        "BASE_URL": genlook_sandbox.base_url,
        "RATE_LIMIT_BACKEND": "local",
        "RATE_LIMIT": 10_000,
        "RATE_PERIOD": 60.0,
        "MAX_RETRIES": 0,  # the Celery task's retries are under test, not the client's
        "BACKOFF_INITIAL": 0.01,
        "READ_TIMEOUT": 10.0,
        "PUBLIC_BASE_URL": origin,
        "SYNC_MAX_RETRIES": 2,
        "SYNC_RETRY_BACKOFF_MAX": 0.01,
    }
    return genlook_sandbox


@pytest.fixture
def adapter_for(genlook) -> Iterator[Callable[..., ProductAdapter]]:
    """Register a model with an adapter for one test, putting the previous one back."""
    previous: dict = {}

    def use(model, adapter_class: type[ProductAdapter] = ProductAdapter, **options):
        if catalog.is_registered(model):
            previous.setdefault(model, type(catalog.get_adapter(model)))
            catalog.unregister(model)
        else:
            previous.setdefault(model, None)
        return catalog.register(model, adapter_class, **options)

    yield use
    for model, adapter_class in previous.items():
        if catalog.is_registered(model):
            catalog.unregister(model)
        if adapter_class is not None:
            catalog.register(model, adapter_class)


@pytest.fixture
def shop_adapter(adapter_for) -> ProductAdapter:
    """The shop's Product registered with the default adapter."""
    from example_shop.shop.models import Product  # here: the Oscar suite has no such app

    return adapter_for(Product)


@pytest.fixture
def make_product(db, shop_adapter) -> Callable[..., Any]:
    from example_shop.shop.models import Category, Product

    counter = iter(range(1, 1_000_000))

    def make(name: str | None = None, *, image: bytes | bool | None = True, **fields) -> Product:
        number = next(counter)
        name = name or f"Linen Shirt {number}"
        fields.setdefault("slug", f"{name.lower().replace(' ', '-')}-{number}")
        fields.setdefault("price", Decimal("49.00"))
        fields.setdefault("category", Category.TOPS)
        fields.setdefault("description", f"The {name.lower()}, described.")
        if image is True:
            image = image_bytes()
        if image:
            fields["image"] = SimpleUploadedFile(f"p{number}.png", image, content_type="image/png")
        return Product.objects.create(name=name, **fields)

    return make
