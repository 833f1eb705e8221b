"""``manage.py seed_demo``: the demo catalogue, safe to run again and again."""

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.files.storage import default_storage
from django.core.management import call_command
from PIL import Image

from example_shop.shop.management.commands.seed_demo import DEMO_PRODUCTS, IMAGES_DIR
from example_shop.shop.models import Category, Product

pytestmark = pytest.mark.django_db


def seed(*args: str) -> str:
    out = StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def test_the_demo_images_ship_with_the_repository():
    for spec in DEMO_PRODUCTS:
        path = IMAGES_DIR / spec.image
        assert path.stat().st_size <= 150_000, path
        with Image.open(path) as image:
            assert image.format == "PNG"
            assert image.size == (800, 1000)


def test_seed_creates_products_with_images_in_storage(media_root):
    output = seed()

    assert f"{len(DEMO_PRODUCTS)} created" in output
    products = list(Product.objects.all())
    assert {p.slug for p in products} == {spec.slug for spec in DEMO_PRODUCTS}
    assert {p.category for p in products} == set(Category.values)
    for product in products:
        assert product.is_active
        assert product.image.name.startswith("products/")
        assert default_storage.exists(product.image.name)
        assert (media_root / product.image.name).is_file()
    # Newest first in the catalogue means the order written in the command.
    assert [p.slug for p in Product.objects.all()] == [spec.slug for spec in DEMO_PRODUCTS]


def test_seed_is_idempotent(media_root):
    seed()
    first = {p.slug: (p.pk, p.image.name) for p in Product.objects.all()}

    output = seed()

    assert "0 created" in output
    assert {p.slug: (p.pk, p.image.name) for p in Product.objects.all()} == first
    assert len(list((media_root / "products").iterdir())) == len(DEMO_PRODUCTS)


def test_seed_keeps_merchant_edits_and_restores_lost_images(media_root):
    seed()
    tee = Product.objects.get(slug="everyday-organic-tee")
    tee.name = "Renamed Tee"
    tee.save()
    default_storage.delete(tee.image.name)

    output = seed()

    tee.refresh_from_db()
    assert tee.name == "Renamed Tee"
    assert default_storage.exists(tee.image.name)
    assert "Restored the missing image of 1 product(s)." in output


def test_admin_only_on_request():
    user_model = get_user_model()

    assert "admin" not in seed()
    assert not user_model.objects.exists()

    output = seed("--with-admin")
    assert "username 'admin', password 'admin'" in output
    admin = user_model.objects.get(username="admin")
    assert admin.is_superuser and admin.is_staff
    assert admin.check_password("admin")

    assert "already exists" in seed("--with-admin")
    assert user_model.objects.count() == 1


def test_seed_prints_the_sandbox_control_token_and_how_to_use_it(media_root, settings):
    token = "demo-control-token-0123456789"
    settings.GENLOOK_SANDBOX = {**settings.GENLOOK_SANDBOX, "CONTROL_TOKEN": token}
    settings.GENLOOK = {
        **settings.GENLOOK,
        "API_KEY": "gk_sandbox_demo",
        "BASE_URL": "http://127.0.0.1:8123/sandbox/tryon/v1",
    }

    output = seed()

    assert f"control token: {token}" in output
    assert (
        f"curl -H 'x-sandbox-control-token: {token}' -H 'x-api-key: gk_sandbox_demo' "
        "http://127.0.0.1:8123/sandbox/tryon/v1/_sandbox/stats"
    ) in output


def test_seed_prints_no_token_the_server_would_not_share(media_root, settings):
    # Unset, the token is random per process: this command's is not the server's.
    settings.GENLOOK_SANDBOX = {
        k: v for k, v in settings.GENLOOK_SANDBOX.items() if k != "CONTROL_TOKEN"
    }
    assert "control token" not in seed()
