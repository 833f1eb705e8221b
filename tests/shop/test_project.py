"""The example project's settings and URLconf, as a merchant would run them."""

import runpy
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import translation

import example_shop

SETTINGS_FILE = Path(example_shop.__file__).with_name("settings.py")


def load_settings(monkeypatch, tmp_path, **env: str | None) -> dict:
    monkeypatch.setenv("EXAMPLE_SHOP_VAR_DIR", str(tmp_path / "var"))
    for name, value in env.items():
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    return runpy.run_path(str(SETTINGS_FILE))


def test_embedded_defaults(monkeypatch, tmp_path):
    conf = load_settings(monkeypatch, tmp_path, CELERY_BROKER_URL=None, DJANGO_DEBUG=None)

    assert conf["DEBUG"] is True
    assert conf["DATABASES"]["default"]["NAME"] == tmp_path / "var" / "db.sqlite3"
    assert conf["MEDIA_ROOT"] == tmp_path / "var" / "media"
    assert conf["MEDIA_ROOT"].is_dir()
    assert conf["CELERY_TASK_ALWAYS_EAGER"] is True
    assert conf["GENLOOK"]["BASE_URL"] == "http://127.0.0.1:8000/sandbox/tryon/v1"
    assert conf["GENLOOK"]["API_KEY"] in conf["GENLOOK_SANDBOX"]["API_KEYS"]
    assert [code for code, _ in conf["LANGUAGES"]] == ["en", "fr", "es", "de", "ja"]
    assert "django.middleware.locale.LocaleMiddleware" in conf["MIDDLEWARE"]
    assert "genlook_django.sandbox" in conf["INSTALLED_APPS"]


def test_the_demo_sandbox_has_a_random_control_token_every_process_shares(monkeypatch, tmp_path):
    conf = load_settings(monkeypatch, tmp_path, GENLOOK_SANDBOX_CONTROL_TOKEN=None)
    token = conf["GENLOOK_SANDBOX"]["CONTROL_TOKEN"]
    token_file = tmp_path / "var" / "sandbox-control-token"

    assert len(token) >= 40
    assert token not in conf["GENLOOK_SANDBOX"]["API_KEYS"]
    assert token != conf["GENLOOK"]["API_KEY"]
    assert token_file.read_text().strip() == token
    assert token_file.stat().st_mode & 0o077 == 0  # this user's only
    # runserver, its reloader and seed_demo read the settings each: the same token.
    assert load_settings(monkeypatch, tmp_path)["GENLOOK_SANDBOX"]["CONTROL_TOKEN"] == token
    other = load_settings(monkeypatch, tmp_path / "other")["GENLOOK_SANDBOX"]["CONTROL_TOKEN"]
    assert other != token
    chosen = "c" * 32
    conf = load_settings(monkeypatch, tmp_path, GENLOOK_SANDBOX_CONTROL_TOKEN=chosen)
    assert conf["GENLOOK_SANDBOX"]["CONTROL_TOKEN"] == chosen


def test_no_control_token_without_the_sandbox(monkeypatch, tmp_path):
    conf = load_settings(monkeypatch, tmp_path, EXAMPLE_SHOP_SANDBOX="0")
    assert "CONTROL_TOKEN" not in conf["GENLOOK_SANDBOX"]
    assert not (tmp_path / "var" / "sandbox-control-token").exists()


def test_the_demo_sandbox_runs_beside_the_shop(monkeypatch, tmp_path):
    """The sandbox fetches the shop's 127.0.0.1 images only because it is told it may."""
    conf = load_settings(monkeypatch, tmp_path, GENLOOK_SANDBOX_BESIDE_SHOP=None)
    assert conf["GENLOOK_SANDBOX"]["BESIDE_SHOP"] is True
    strict = load_settings(monkeypatch, tmp_path, GENLOOK_SANDBOX_BESIDE_SHOP="0")
    assert strict["GENLOOK_SANDBOX"]["BESIDE_SHOP"] is False


def test_a_broker_turns_eager_mode_off(monkeypatch, tmp_path):
    conf = load_settings(
        monkeypatch, tmp_path, CELERY_BROKER_URL="redis://localhost:6379/0", DJANGO_DEBUG="0"
    )

    assert conf["CELERY_TASK_ALWAYS_EAGER"] is False
    assert conf["CELERY_BROKER_URL"] == "redis://localhost:6379/0"
    assert conf["DEBUG"] is False


@pytest.mark.urls("example_shop.urls")
def test_project_urls(client, db):
    assert reverse("genlook_sandbox:root") == "/sandbox/tryon/v1/"
    assert reverse("genlook_sandbox_classic:try-on") == "/sandbox/v1/try-on"
    assert reverse("set_language") == "/i18n/setlang/"
    assert reverse("admin:index") == "/admin/"
    assert client.get(reverse("javascript-catalog")).status_code == 200

    response = client.get(reverse("shop:catalog"))

    assert response.status_code == 200
    # With the i18n URLs mounted, the header offers the five languages.
    html = response.content.decode()
    for code in ("en", "fr", "es", "de", "ja"):
        assert f'name="language" value="{code}"' in html


@pytest.mark.urls("example_shop.urls")
def test_language_switcher(client, db, settings):
    settings.MIDDLEWARE = [
        *settings.MIDDLEWARE[:2],
        "django.middleware.locale.LocaleMiddleware",
        *settings.MIDDLEWARE[2:],
    ]

    # override() puts the active language back afterwards: the middleware would leak it.
    with translation.override("en"):
        response = client.post(reverse("set_language"), {"language": "fr", "next": "/"})
        assert response.status_code == 302
        assert '<html lang="fr">' in client.get("/").content.decode()
