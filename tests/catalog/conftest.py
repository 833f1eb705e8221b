"""Fixtures of the catalog sync tests; ``genlook``, ``make_product`` and the other shared
ones come from ``tests/support/catalog.py``."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection

from example_shop.shop.models import Product
from genlook_django.services.genlook import get_client
from tests.catalog.gallery import MODELS


@pytest.fixture
def public_base_url(_media_server) -> str:
    return _media_server[0]


@pytest.fixture
def genlook_client(genlook):
    return get_client()


@pytest.fixture
def synced(django_capture_on_commit_callbacks, make_product):
    """A product created and synced through the signals."""

    def make(*args, **kwargs) -> Product:
        with django_capture_on_commit_callbacks(execute=True):
            return make_product(*args, **kwargs)

    return make


@pytest.fixture(scope="session")
def _gallery_tables(django_db_setup, django_db_blocker) -> None:
    with django_db_blocker.unblock(), connection.schema_editor() as editor:
        for model in MODELS:
            editor.create_model(model)


@pytest.fixture
def gallery(_gallery_tables, db) -> Iterator[None]:
    """The tables of ``tests.catalog.gallery``'s models (a product with a photo gallery)."""
    yield
    ContentType.objects.clear_cache()  # its content types were rolled back with the test
