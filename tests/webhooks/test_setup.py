"""Set-up: the webhook URL sent with a submission, and the system checks."""

from __future__ import annotations

import pytest
from django.core.checks import run_checks

from genlook_django.models import TryOn
from genlook_django.services import webhooks
from tests.client.stub import stub_server
from tests.support.catalog import API_KEY
from tests.support.storefront import start

pytestmark = pytest.mark.django_db(transaction=True)


def sent_webhook_url(sandbox, try_on: TryOn) -> str | None:
    return sandbox.state.engine.get(API_KEY, try_on.generation_id).webhook_url


def test_the_submission_sends_a_per_try_on_url_and_keeps_only_its_hash(
    hooks, shopper, product, person_photo, settings
):
    first = TryOn.objects.get(public_id=start(shopper, product, person_photo).json()["id"])
    second = TryOn.objects.get(public_id=start(shopper, product, person_photo).json()["id"])

    urls = [sent_webhook_url(hooks, row) for row in (first, second)]
    base = settings.GENLOOK["PUBLIC_BASE_URL"]
    assert all(url.startswith(f"{base}/genlook/webhooks/") for url in urls)
    assert urls[0] != urls[1]
    for row, url in zip((first, second), urls, strict=True):
        token = url.rstrip("/").rsplit("/", 1)[1]
        assert len(token) >= 43  # 32 random bytes
        assert row.webhook_token_hash == webhooks.hash_token(token)
        assert token not in str(row.raw)


def test_no_url_is_sent_when_webhooks_are_off(hooks, shopper, product, person_photo, settings):
    settings.GENLOOK = {**settings.GENLOOK, "WEBHOOKS": False}
    row = TryOn.objects.get(public_id=start(shopper, product, person_photo).json()["id"])
    assert row.state == TryOn.State.PENDING
    assert sent_webhook_url(hooks, row) is None
    assert row.webhook_token_hash == ""


def test_no_url_without_a_public_base_url(hooks, shopper, product, person_photo, settings):
    row = TryOn.objects.get(public_id=start(shopper, product, person_photo).json()["id"])
    settings.GENLOOK = {**settings.GENLOOK, "PUBLIC_BASE_URL": None}
    assert webhooks.url_for_submission(row) is None
    settings.GENLOOK = {**settings.GENLOOK, "PUBLIC_BASE_URL": "https://shop.example/"}
    url = webhooks.url_for_submission(row)
    assert url.startswith("https://shop.example/genlook/webhooks/")


def test_webhook_url_never_goes_to_genlooks_v1_api(hooks, shopper, product, person_photo, settings):
    row = TryOn.objects.get(public_id=start(shopper, product, person_photo).json()["id"])
    settings.GENLOOK = {**settings.GENLOOK, "BASE_URL": "https://api.genlook.app/tryon/v1/"}
    # Not even asked (this machine could not reach it anyway): v1 has no webhook_url.
    assert not webhooks.endpoint_accepts_webhook_url()
    assert webhooks.url_for_submission(row) is None


def test_webhook_url_goes_only_to_an_endpoint_that_declares_it(hooks, settings):
    assert webhooks.endpoint_accepts_webhook_url()  # the sandbox declares it on its root
    with stub_server([(200, {"service": "a relay", "status": "ok"})]) as (base_url, script):
        settings.GENLOOK = {**settings.GENLOOK, "BASE_URL": base_url}
        assert not webhooks.endpoint_accepts_webhook_url()
        assert not webhooks.endpoint_accepts_webhook_url()
    assert script.received == [("GET", "/tryon/v1/")]  # asked once per endpoint


def test_an_endpoint_that_cannot_be_asked_is_asked_again(hooks, settings):
    answers = [(503, {"error": "down"}), (200, {"extensions": ["webhook_url"]})]
    with stub_server(answers) as (base_url, script):
        settings.GENLOOK = {**settings.GENLOOK, "BASE_URL": base_url}
        assert not webhooks.endpoint_accepts_webhook_url()  # no webhook this time
        assert webhooks.endpoint_accepts_webhook_url()
    assert len(script.received) == 2


def ids(settings, **genlook):
    settings.GENLOOK = {**settings.GENLOOK, **genlook}
    return {message.id for message in run_checks() if message.id.startswith("genlook.")}


def test_checks_warn_about_a_webhook_set_up_that_cannot_work(settings):
    settings.GENLOOK = {"API_KEY": "gk_x", "BASE_URL": "https://api.genlook.app/tryon/v1"}
    assert "genlook.W010" not in ids(settings)  # off by default: nothing to say
    assert "genlook.W010" in ids(settings, WEBHOOKS=True, PUBLIC_BASE_URL=None)
    assert "genlook.W010" not in ids(settings, WEBHOOKS=True, PUBLIC_BASE_URL="https://s.example")


def test_checks_call_unconfirmed_unsigned_webhooks_insecure(settings):
    settings.GENLOOK = {"API_KEY": "gk_x", "PUBLIC_BASE_URL": "https://s.example"}
    assert "genlook.W011" in ids(settings, WEBHOOKS=True, WEBHOOK_CONFIRM=False)
    assert "genlook.W011" not in ids(
        settings, WEBHOOKS=True, WEBHOOK_CONFIRM=False, WEBHOOK_SIGNING_SECRETS=["whsec_1"]
    )
    assert "genlook.W011" not in ids(settings, WEBHOOKS=True)  # confirmed by GET


def test_checks_want_https_for_webhook_urls_in_production(settings):
    settings.DEBUG = False
    settings.GENLOOK = {"API_KEY": "gk_x"}
    assert "genlook.W012" in ids(settings, WEBHOOKS=True, PUBLIC_BASE_URL="http://shop.example")
    assert "genlook.W012" not in ids(settings, WEBHOOKS=True, PUBLIC_BASE_URL="https://s.example")


def test_checks_refuse_secrets_that_are_not_strings(settings):
    settings.GENLOOK = {"API_KEY": "gk_x"}
    assert "genlook.E010" in ids(settings, WEBHOOK_SIGNING_SECRETS=[b"bytes"])
    assert "genlook.E010" not in ids(settings, WEBHOOK_SIGNING_SECRETS="whsec_one")
    assert webhooks.signing_secrets() == ["whsec_one"]


def test_checks_keep_the_reconciler_behind_result_timeout(settings):
    settings.GENLOOK = {"API_KEY": "gk_x"}
    assert "genlook.W013" not in ids(settings)
    assert "genlook.W013" in ids(settings, RECONCILE_MAX_AGE=60, RESULT_TIMEOUT=600)


def test_checks_say_webhooks_do_nothing_with_genlooks_v1_api(settings):
    settings.GENLOOK = {"API_KEY": "gk_x", "PUBLIC_BASE_URL": "https://s.example"}
    assert "genlook.W014" in ids(settings, WEBHOOKS=True)  # the real API is the default
    assert "genlook.W014" not in ids(settings, WEBHOOKS=False)
    sandbox = "http://127.0.0.1:8000/sandbox/tryon/v1"
    assert "genlook.W014" not in ids(settings, WEBHOOKS=True, BASE_URL=sandbox)
