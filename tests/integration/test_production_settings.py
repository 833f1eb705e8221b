"""``example_shop/settings.py`` read with a production environment (no service needed)."""

from __future__ import annotations

import runpy
from pathlib import Path

import pytest

from example_shop import deploy

SETTINGS = Path(__file__).resolve().parents[2] / "example_shop" / "settings.py"
VARIABLES = (
    "DATABASE_URL",
    "DATABASE_CONN_MAX_AGE",
    "CELERY_BROKER_URL",
    "CELERY_TASK_DEFAULT_QUEUE",
    "REDIS_URL",
    "GENLOOK_STORAGE",
    "GENLOOK_API_KEY",
    "GENLOOK_BASE_URL",
    "GENLOOK_WEBHOOKS",
    "GENLOOK_RATE_LIMIT",
    "GENLOOK_RATE_PERIOD",
    "EXAMPLE_SHOP_SANDBOX",
    "DJANGO_DEBUG",
    "DJANGO_HTTPS",
    "AWS_STORAGE_BUCKET_NAME",
    "AWS_PRIVATE_BUCKET_NAME",
    "AWS_S3_ENDPOINT_URL",
    "AWS_S3_CUSTOM_DOMAIN",
    "AWS_S3_ADDRESSING_STYLE",
    "CELERY_VISIBILITY_TIMEOUT",
    "GENLOOK_OVERRIDES",
)


@pytest.fixture
def read_settings(monkeypatch, tmp_path):
    def read(**env: str) -> dict:
        for name in VARIABLES:
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("EXAMPLE_SHOP_VAR_DIR", str(tmp_path))
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        return runpy.run_path(str(SETTINGS))

    return read


def test_the_embedded_default_is_unchanged(read_settings, tmp_path):
    conf = read_settings()
    assert conf["DATABASES"]["default"]["ENGINE"] == "django.db.backends.sqlite3"
    assert conf["CELERY_TASK_ALWAYS_EAGER"] is True
    assert conf["CELERY_BROKER_URL"] == "memory://"
    assert conf["STORAGES"]["default"]["BACKEND"].endswith("FileSystemStorage")
    assert conf["STORAGES"]["genlook_private"]["OPTIONS"]["location"] == tmp_path / "private"
    assert conf["CACHES"]["default"]["BACKEND"].endswith("LocMemCache")
    assert conf["GENLOOK"]["RATE_LIMIT_REDIS_URL"] is None
    assert conf["GENLOOK"]["WEBHOOKS"] is False
    assert "genlook_django.sandbox" in conf["INSTALLED_APPS"]


def test_production_environment(read_settings):
    conf = read_settings(
        DJANGO_DEBUG="0",
        DATABASE_URL="postgresql://shop:s%40cret@db.internal:6432/shop?sslmode=require",
        CELERY_BROKER_URL="amqp://shop:secret@mq.internal:5672/shop",
        CELERY_TASK_DEFAULT_QUEUE="shop",
        REDIS_URL="redis://cache.internal:6379/1",
        GENLOOK_API_KEY="gk_live_x",
        GENLOOK_BASE_URL="https://api.genlook.app/tryon/v1",
        GENLOOK_WEBHOOKS="1",
        GENLOOK_RATE_LIMIT="600",
        EXAMPLE_SHOP_SANDBOX="0",
        GENLOOK_STORAGE="s3",
        AWS_STORAGE_BUCKET_NAME="shop-media",
        AWS_PRIVATE_BUCKET_NAME="shop-private",
        AWS_S3_CUSTOM_DOMAIN="media.shop.example",
        DJANGO_HTTPS="1",
    )
    assert conf["DEBUG"] is False
    database = conf["DATABASES"]["default"]
    assert database["ENGINE"] == "django.db.backends.postgresql"
    assert (database["NAME"], database["USER"], database["PASSWORD"]) == ("shop", "shop", "s@cret")
    assert (database["HOST"], database["PORT"]) == ("db.internal", "6432")
    assert database["OPTIONS"] == {"sslmode": "require"}
    assert database["CONN_MAX_AGE"] == 60 and database["CONN_HEALTH_CHECKS"] is True
    assert conf["CELERY_TASK_ALWAYS_EAGER"] is False
    assert conf["CELERY_BROKER_URL"] == "amqp://shop:secret@mq.internal:5672/shop"
    assert conf["CELERY_TASK_DEFAULT_QUEUE"] == "shop"
    assert conf["CACHES"]["default"]["LOCATION"] == "redis://cache.internal:6379/1"
    genlook = conf["GENLOOK"]
    assert genlook["API_KEY"] == "gk_live_x"
    assert genlook["BASE_URL"] == "https://api.genlook.app/tryon/v1"
    assert genlook["RATE_LIMIT_REDIS_URL"] == "redis://cache.internal:6379/1"
    assert genlook["RATE_LIMIT"] == 600 and genlook["WEBHOOKS"] is True
    assert "genlook_django.sandbox" not in conf["INSTALLED_APPS"]
    media = conf["STORAGES"]["default"]
    private = conf["STORAGES"]["genlook_private"]
    assert media["BACKEND"] == private["BACKEND"] == "storages.backends.s3.S3Storage"
    assert media["OPTIONS"]["bucket_name"] == "shop-media"
    assert media["OPTIONS"]["querystring_auth"] is False  # Genlook fetches these URLs
    assert media["OPTIONS"]["custom_domain"] == "media.shop.example"
    assert private["OPTIONS"]["bucket_name"] == "shop-private"
    assert private["OPTIONS"]["querystring_auth"] is True
    assert "custom_domain" not in private["OPTIONS"]
    assert conf["GENLOOK"]["PHOTOS_STORAGE"] == conf["GENLOOK"]["RESULTS_STORAGE"]
    assert conf["GENLOOK"]["PHOTOS_STORAGE"] == "genlook_private"
    assert conf["SESSION_COOKIE_SECURE"] and conf["SECURE_SSL_REDIRECT"]


def test_visibility_timeout_and_genlook_overrides_from_the_environment(read_settings):
    conf = read_settings()
    assert conf["CELERY_BROKER_TRANSPORT_OPTIONS"] == {}  # Celery's default (1 hour)
    assert "RECONCILE_MAX_AGE" not in conf["GENLOOK"]  # the app's default
    conf = read_settings(
        CELERY_VISIBILITY_TIMEOUT="900",
        GENLOOK_OVERRIDES='{"RECONCILE_MAX_AGE": 600, "UPLOAD_BUDGET": [1000, 3600]}',
    )
    # Redis looks for the unacknowledged tasks of dead workers every 10 s (not 100).
    assert conf["CELERY_BROKER_TRANSPORT_OPTIONS"] == {
        "visibility_timeout": 900.0,
        "unacked_restore_interval": 10,
        "unacked_restore_throttle": 1,
    }
    short = read_settings(CELERY_VISIBILITY_TIMEOUT="30")["CELERY_BROKER_TRANSPORT_OPTIONS"]
    assert short["unacked_restore_interval"] == 5
    assert conf["GENLOOK"]["RECONCILE_MAX_AGE"] == 600
    assert conf["GENLOOK"]["UPLOAD_BUDGET"] == [1000, 3600]
    assert conf["GENLOOK"]["API_KEY"] == "gk_sandbox_demo"  # the rest is kept
    with pytest.raises(ValueError, match="GENLOOK_OVERRIDES"):
        read_settings(GENLOOK_OVERRIDES="[1, 2]")


def test_the_beat_schedule_names_only_tasks_that_exist(read_settings):
    from celery import current_app

    import genlook_django.tasks  # noqa: F401  (registers them)

    schedule = read_settings(CELERY_BROKER_URL="redis://127.0.0.1:6379/0")["CELERY_BEAT_SCHEDULE"]
    tasks = {entry["task"] for entry in schedule.values()}
    assert "genlook.reconcile_try_ons" in tasks
    assert tasks <= set(current_app.tasks)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgres://u@localhost/db", {"ENGINE": "django.db.backends.postgresql", "NAME": "db"}),
        (
            "sqlite:////srv/shop/db.sqlite3",
            {"NAME": "/srv/shop/db.sqlite3", "OPTIONS": {"transaction_mode": "IMMEDIATE"}},
        ),
        ("sqlite:///var/db.sqlite3", {"NAME": "var/db.sqlite3"}),
        ("mysql://u:p@h:3307/shop", {"ENGINE": "django.db.backends.mysql", "PORT": "3307"}),
    ],
)
def test_database_urls(url, expected):
    config = deploy.database_from_url(url)
    assert {key: config[key] for key in expected} == expected


def test_a_postgresql_pool_replaces_persistent_connections():
    config = deploy.database_from_url("postgresql://u@db/shop", conn_max_age=60, pool_size=24)
    assert config["OPTIONS"]["pool"] == {"min_size": 1, "max_size": 24, "timeout": 30}
    assert config["CONN_MAX_AGE"] == 0  # Django refuses both together
    assert "pool" not in deploy.database_from_url("postgresql://u@db/shop")["OPTIONS"]
    assert "pool" not in deploy.database_from_url("sqlite:///x.db", pool_size=5)["OPTIONS"]


def test_unknown_database_scheme():
    with pytest.raises(ValueError, match="unknown scheme"):
        deploy.database_from_url("oracle://x/y")


def test_s3_needs_a_bucket():
    with pytest.raises(ValueError, match="AWS_STORAGE_BUCKET_NAME"):
        deploy.s3_storages({})
    storages = deploy.s3_storages({"AWS_STORAGE_BUCKET_NAME": "one"})
    assert storages["genlook_private"]["OPTIONS"]["bucket_name"] == "one"
    assert storages["genlook_private"]["OPTIONS"]["location"] == "private"
    assert storages["default"]["OPTIONS"]["location"] == "media"
