"""The lazy GENLOOK settings and the system checks that guard them."""

from types import SimpleNamespace

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from genlook_django.checks import check_genlook_settings
from genlook_django.conf import OFFICIAL_BASE_URL, genlook_settings
from genlook_django.services.genlook import get_client


def check_ids() -> set[str]:
    return {message.id for message in check_genlook_settings()}


def test_defaults_apply_and_settings_are_read_at_access_time():
    with override_settings(GENLOOK={"API_KEY": "gk_a"}):
        assert genlook_settings.BASE_URL == OFFICIAL_BASE_URL
        assert genlook_settings.RATE_LIMIT == 100
    with override_settings(GENLOOK={"API_KEY": "gk_b", "RATE_LIMIT": 30}):
        assert genlook_settings.API_KEY == "gk_b"
        assert genlook_settings.RATE_LIMIT == 30


def test_a_missing_key_error_names_the_key_and_where_to_set_it():
    with override_settings(GENLOOK={}), pytest.raises(ImproperlyConfigured) as caught:
        genlook_settings.require("API_KEY")
    assert "API_KEY" in str(caught.value) and "settings.GENLOOK" in str(caught.value)


def test_unknown_attribute_is_an_attribute_error():
    with pytest.raises(AttributeError):
        genlook_settings.NOT_A_SETTING  # noqa: B018


@override_settings(GENLOOK={}, DEBUG=True)
def test_check_reports_a_missing_api_key():
    assert "genlook.E001" in check_ids()


@override_settings(GENLOOK={"API_KEY": "gk_x", "APIKEY": "typo"}, DEBUG=True)
def test_check_reports_unknown_keys():
    assert "genlook.E002" in check_ids()


@override_settings(GENLOOK={"API_KEY": "gk_x", "BASE_URL": "ftp://nope"}, DEBUG=True)
def test_check_reports_a_bad_base_url():
    assert "genlook.E003" in check_ids()


@override_settings(
    GENLOOK={"API_KEY": "gk_x", "BASE_URL": "http://127.0.0.1:8000/sandbox/tryon/v1"},
    DEBUG=False,
)
def test_check_warns_about_the_sandbox_in_production():
    assert {"genlook.W001", "genlook.W002"} <= check_ids()
    (warning,) = [m for m in check_genlook_settings() if m.id == "genlook.W002"]
    # The hint says what the risk is, not just "made-up keys".
    for risk in (
        "GENLOOK_SANDBOX['API_KEYS']",  # who gets in: whoever knows a configured key
        "fetch URLs and send webhooks",  # requests from this server
        "BESIDE_SHOP",  # its own network too, beside the shop
        "file URL",  # shoppers' photos and results to whoever has the URL
        "control token",  # reset, credits, faults, generations
        "simulated try-ons and credits",
        "Remove it from INSTALLED_APPS",
    ):
        assert risk in warning.hint, risk


@override_settings(
    GENLOOK={"API_KEY": "gk_x", "BASE_URL": "http://127.0.0.1:8000/sandbox/tryon/v1"},
    DEBUG=True,
)
def test_the_sandbox_is_fine_in_development():
    assert not check_ids() & {"genlook.W001", "genlook.W002", "genlook.E001"}


@override_settings(
    GENLOOK={"API_KEY": "gk_x"},
    DEBUG=False,
    INSTALLED_APPS=["django.contrib.auth", "django.contrib.contenttypes", "genlook_django"],
)
def test_a_production_set_up_passes():
    assert check_ids() == set()


def test_get_client_follows_the_settings():
    with override_settings(GENLOOK={"API_KEY": "gk_one", "BASE_URL": "http://127.0.0.1:1/v1"}):
        first = get_client()
        assert get_client() is first
        assert first.base_url == "http://127.0.0.1:1/v1"
    with override_settings(GENLOOK={"API_KEY": "gk_two", "BASE_URL": "http://127.0.0.1:2/v1"}):
        assert get_client() is not first
    with override_settings(GENLOOK={}), pytest.raises(ImproperlyConfigured):
        get_client()


def _get_client_failure() -> Exception:
    try:
        get_client()
    except Exception as error:
        return error
    raise AssertionError("get_client() worked")


def test_get_client_failing_shows_no_key_in_its_traceback():
    """Its locals hold the key (Django's debug page and error trackers show locals)."""
    import secrets
    import traceback

    from django.views.debug import ExceptionReporter

    secret = secrets.token_hex(16)  # in no source line either
    key = f"gk_live_{secret}"
    with override_settings(GENLOOK={"API_KEY": key, "RATE_LIMIT_BACKEND": "memory"}, DEBUG=True):
        error = _get_client_failure()
        page = ExceptionReporter(None, type(error), error, error.__traceback__).get_traceback_html()
    text = "".join(traceback.TracebackException.from_exception(error, capture_locals=True).format())
    assert isinstance(error, ImproperlyConfigured)
    assert secret not in text and secret not in page


@override_settings(
    GENLOOK={"API_KEY": "gk_x", "BASE_URL": "https://genlook-proxy.internal/tryon/v1"},
    DEBUG=False,
)
def test_check_warns_about_any_other_base_url_in_production():
    assert "genlook.W004" in check_ids()


FILE_CACHE = {
    "default": {
        "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
        "LOCATION": "/tmp/genlook-test-cache",
    }
}


def test_auto_budget_never_picks_a_cache_without_atomic_incr():
    from genlook_django.client import LocalRateLimiter
    from genlook_django.services.ratebudget import build_rate_limiter

    with override_settings(CACHES=FILE_CACHE, GENLOOK={"API_KEY": "gk_x"}):
        assert isinstance(build_rate_limiter("gk_x"), LocalRateLimiter)
    with (
        override_settings(
            CACHES=FILE_CACHE, GENLOOK={"API_KEY": "gk_x", "RATE_LIMIT_BACKEND": "cache"}
        ),
        pytest.raises(ImproperlyConfigured),
    ):
        build_rate_limiter("gk_x")
    with (
        override_settings(GENLOOK={"API_KEY": "gk_x", "RATE_LIMIT_BACKEND": "memory"}),
        pytest.raises(ImproperlyConfigured),
    ):
        build_rate_limiter("gk_x")


# -- genlook.W005: product images Genlook's servers cannot fetch ------------------------------


def product_image_warnings() -> list:
    from genlook_django.checks import check_product_sync

    return [message for message in check_product_sync() if message.id == "genlook.W005"]


@pytest.mark.parametrize(
    "public_base_url",
    [
        "http://127.0.0.1:8000",
        "https://127.0.0.1",
        "https://10.0.0.5",
        "https://192.168.1.20:8443/shop",
        "https://172.16.0.9",
        "https://169.254.10.1",
        "https://[::1]:8000",
        "https://[fd00::1]",
        "https://localhost:8000",
        "https://shop.local",
        "https://shop.internal",
        "https://web",
        "http://shop.example.com",  # public, but not https
    ],
)
def test_check_warns_when_the_real_api_cannot_fetch_product_images(public_base_url):
    genlook = {"API_KEY": "gk_x", "BASE_URL": OFFICIAL_BASE_URL, "PUBLIC_BASE_URL": public_base_url}
    with override_settings(GENLOOK=genlook, MEDIA_URL="/media/"):
        (warning,) = product_image_warnings()
    assert "PRODUCT_IMAGE_FETCH_FAILED" in warning.msg
    assert public_base_url in warning.msg
    assert "PUBLIC_BASE_URL" in warning.hint and "BESIDE_SHOP" in warning.hint


@pytest.mark.parametrize(
    "base_url", [OFFICIAL_BASE_URL, OFFICIAL_BASE_URL + "/", "HTTPS://API.genlook.app:443/tryon/v1"]
)
def test_the_check_recognises_the_real_api_however_it_is_written(base_url):
    genlook = {"API_KEY": "gk_x", "BASE_URL": base_url, "PUBLIC_BASE_URL": "http://127.0.0.1"}
    with override_settings(GENLOOK=genlook):
        assert len(product_image_warnings()) == 1


@pytest.mark.parametrize(
    ("public_base_url", "media_url"),
    [
        ("https://shop.example.com", "/media/"),
        ("https://shop.example.com/", "http://127.0.0.1:8000/media/"),  # PUBLIC_BASE_URL wins
        (None, "https://cdn.example.com/media/"),
        (None, "//cdn.example.com/media/"),
        ("https://93.184.216.34", "/media/"),
    ],
)
def test_publicly_reachable_product_images_pass(public_base_url, media_url):
    genlook = {"API_KEY": "gk_x", "PUBLIC_BASE_URL": public_base_url}
    with override_settings(GENLOOK=genlook, MEDIA_URL=media_url):
        assert product_image_warnings() == []


@pytest.mark.parametrize(
    "media_url", ["http://127.0.0.1:8000/media/", "https://media.lan/", "http://cdn.example.com/"]
)
def test_an_absolute_media_url_is_checked_when_public_base_url_is_unset(media_url):
    with override_settings(GENLOOK={"API_KEY": "gk_x"}, MEDIA_URL=media_url):
        (warning,) = product_image_warnings()
    assert "MEDIA_URL" in warning.msg


def test_the_check_warns_when_no_absolute_url_exists(settings, monkeypatch):
    from genlook_django import checks
    from genlook_django.services import catalog

    with override_settings(GENLOOK={"API_KEY": "gk_x"}, MEDIA_URL="/media/"):
        # With catalog adapters, genlook.W003 already says it (one warning is enough).
        assert {m.id for m in checks.check_product_sync()} == {"genlook.W003"}
        # A project with no adapter: unregistering the test shop's would outlive the test.
        monkeypatch.setattr(catalog, "registered_adapters", lambda: [])
        (warning,) = product_image_warnings()
        assert "absolute" in warning.msg
        s3 = {**settings.STORAGES, "default": {"BACKEND": "storages.backends.s3.S3Storage"}}
        with override_settings(STORAGES=s3):
            assert product_image_warnings() == []  # the storage's own URLs are absolute


def test_the_sandbox_and_other_proxies_are_not_the_real_api():
    for base_url in ("http://127.0.0.1:8000/sandbox/tryon/v1", "https://proxy.example/tryon/v1"):
        genlook = {"API_KEY": "gk_x", "BASE_URL": base_url, "PUBLIC_BASE_URL": "http://127.0.0.1"}
        with override_settings(GENLOOK=genlook):
            assert product_image_warnings() == []


def sqlite(name: str = "/srv/shop/db.sqlite3", **options) -> dict:
    return {"ENGINE": "django.db.backends.sqlite3", "NAME": name, "OPTIONS": options}


@pytest.mark.parametrize(
    ("database", "warned"),
    [
        (sqlite(), True),  # deferred, SQLite's own default
        (sqlite(transaction_mode="DEFERRED"), True),
        (sqlite(transaction_mode="IMMEDIATE"), False),
        (sqlite(transaction_mode="exclusive"), False),
        (sqlite(":memory:"), False),  # one process's test database
        ({"ENGINE": "django.db.backends.postgresql", "NAME": "shop"}, False),
    ],
)
def test_a_file_sqlite_database_with_deferred_transactions_is_warned_about(
    database, warned, monkeypatch
):
    from genlook_django.checks import check_database
    from genlook_django.checks import database as database_checks

    # The settings the check reads, not the test's connections (Django warns about those).
    monkeypatch.setattr(database_checks, "settings", SimpleNamespace(DATABASES={"s": database}))
    messages = check_database()
    named = check_database(databases=["s"])  # as migrate and check --database ask
    assert [m.id for m in messages] == [m.id for m in named] == (["genlook.W090"] if warned else [])
    if warned:
        assert "IMMEDIATE" in messages[0].hint
