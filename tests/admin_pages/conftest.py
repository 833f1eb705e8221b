"""The admin pages against the sandbox: staff users with or without the app's permissions,
try-ons made for real through the storefront, and rows made directly for the statistics."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.contrib.auth.models import Permission, User
from django.contrib.contenttypes.models import ContentType
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from genlook_django.models import ShopperPhoto, TryOn
from genlook_django.services import files
from tests.support.images import grey_jpeg
from tests.support.storefront import follow, start

State = TryOn.State


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    """admin_user's password would cost a PBKDF2 hash (about half a second) per test."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _fresh_cache():
    """The balance is cached in the (process-wide) local memory cache."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def staff(db) -> Callable[..., Client]:
    """A logged-in staff client with exactly the given permissions (codenames)."""
    counter = iter(range(1, 1000))

    def make(*codenames: str) -> Client:
        user = User.objects.create_user(f"staff{next(counter)}", is_staff=True)  # no hashing
        for codename in codenames:
            app_label, _dot, name = codename.rpartition(".")
            user.user_permissions.add(
                Permission.objects.get(
                    content_type__app_label=app_label or "genlook", codename=name
                )
            )
        client = Client()
        client.force_login(user)
        return client

    return make


@pytest.fixture
def make_try_on(storefront, product) -> Callable[..., TryOn]:
    """A TryOn row as the pipeline leaves it, at a chosen time, with a result file and a
    photo file in the private storage when asked."""
    content_type = ContentType.objects.get_for_model(product)

    def make(
        state: str = State.COMPLETED,
        *,
        at: datetime | None = None,
        took: float = 6.0,
        shopper_key: str = "a_" + "1" * 40,
        result: bytes | None = None,
        photo: bool = False,
        error_code: str = "",
        **fields: Any,
    ) -> TryOn:
        at = at or timezone.now()
        photo_row = None
        if photo:
            photo_row = ShopperPhoto.objects.create(
                shopper_key=shopper_key,
                file_name=files.save(files.photos_storage(), "genlook/photos/p.jpg", grey_jpeg()),
                width=300,
                height=400,
                size_bytes=1000,
            )
            ShopperPhoto.objects.filter(pk=photo_row.pk).update(created_at=at)
        final = state in (State.COMPLETED, State.FAILED)
        try_on = TryOn.objects.create(
            shopper_key=shopper_key,
            photo=photo_row,
            content_type=content_type,
            object_id=str(product.pk),
            product_external_id=f"shop-product-{product.pk}",
            consent_version="1",
            state=state,
            error_code=error_code,
            submitted_at=at + timedelta(seconds=1) if state != State.RECEIVED else None,
            finished_at=at + timedelta(seconds=took) if final else None,
            **fields,
        )
        if result is not None:
            try_on.result_file = files.save(
                files.results_storage(), f"genlook/results/{try_on.public_id}.jpg", result
            )
            try_on.save(update_fields=["result_file"])
        TryOn.objects.filter(pk=try_on.pk).update(created_at=at)
        try_on.refresh_from_db()
        return try_on

    return make


@pytest.fixture
def real_try_on(
    storefront,
    product,
    person_photo,
    django_capture_on_commit_callbacks,
) -> Callable[..., TryOn]:
    """A try-on made through the storefront API and the sandbox, followed to its end."""

    def run(client: Client | None = None, *, new_photo: bool = True, **fields: Any) -> TryOn:
        client = client or Client()
        with django_capture_on_commit_callbacks(execute=True):
            response = start(client, product, person_photo if new_photo else None, **fields)
        assert response.status_code == 202, response.content
        body = follow(client, response.json())
        return TryOn.objects.get(public_id=body["id"])

    return run
