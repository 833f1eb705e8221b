"""``manage.py check`` on the API dialect: what the classic API needs and what it lacks."""

from __future__ import annotations

from django.core.management import call_command
from django.test import override_settings

from genlook_django.checks import check_api_dialect, check_genlook_settings, check_webhooks
from genlook_django.conf import genlook_settings
from genlook_django.services.genlook import get_client

CLASSIC = {
    "API_KEY": "gk_classic",
    "API": "classic",
    "BASE_URL": "https://api.genlook.app",
    "PUBLIC_BASE_URL": "https://shop.example.com",
}


def ids(**genlook) -> set[str]:
    with override_settings(GENLOOK=genlook):
        return {message.id for message in check_api_dialect()}


def test_v1_needs_nothing_of_these_checks():
    assert ids(API_KEY="gk_a") == set()


def test_an_unknown_dialect_is_an_error():
    assert ids(API_KEY="gk_a", API="v2") == {"genlook.E060"}


def test_classic_says_what_it_lacks():
    found = ids(**CLASSIC)
    assert "genlook.W060" in found  # products catalog, erasure, credits
    assert not found & {"genlook.E061", "genlook.E062", "genlook.E063", "genlook.W061"}


def test_classic_needs_a_public_base_url():
    assert "genlook.E061" in ids(**{**CLASSIC, "PUBLIC_BASE_URL": None})


def test_classic_batch_size_is_bounded():
    assert "genlook.E063" in ids(**CLASSIC, CLASSIC_BATCH_SIZE=101)
    assert "genlook.E063" in ids(**CLASSIC, CLASSIC_BATCH_SIZE=0)
    assert "genlook.E063" not in ids(**CLASSIC, CLASSIC_BATCH_SIZE=100)


def test_photo_links_live_long_enough_to_be_fetched():
    assert "genlook.E064" in ids(**CLASSIC, PHOTO_LINK_MAX_AGE=5)
    assert "genlook.E064" in ids(**CLASSIC, PHOTO_LINK_MAX_AGE="1h")
    assert "genlook.E064" not in ids(**CLASSIC, PHOTO_LINK_MAX_AGE=600)


def test_classic_with_webhooks_turned_off_warns():
    assert "genlook.W061" in ids(**CLASSIC, WEBHOOKS=False)


def test_classic_pointed_at_a_v1_address_warns():
    assert "genlook.W062" in ids(**{**CLASSIC, "BASE_URL": "https://proxy.example/tryon/v1"})


def test_classic_with_an_adapter_without_category_warns(adapter_for):
    from django.contrib.auth.models import Group

    assert "genlook.W063" not in ids(**CLASSIC)  # the shop's Product has a category field
    adapter_for(Group)  # a name, no category
    assert "genlook.W063" in ids(**CLASSIC)


def test_an_adapter_with_its_own_get_category_does_not_warn(adapter_for):
    from django.contrib.auth.models import Group

    from genlook_django.services.catalog import ProductAdapter

    class TreeAdapter(ProductAdapter):  # e.g. one that walks a category tree
        def get_category(self, instance):
            return "tops"

    adapter_for(Group, TreeAdapter)
    assert "genlook.W063" not in ids(**CLASSIC)


def test_the_classic_address_is_official_and_takes_webhooks():
    with override_settings(GENLOOK=CLASSIC, DEBUG=False):
        assert "genlook.W004" not in {m.id for m in check_genlook_settings()}
        assert "genlook.W014" not in {m.id for m in check_webhooks()}
        assert genlook_settings.webhooks_on  # WEBHOOKS None: on with the classic API


def test_webhooks_default_stays_off_with_v1():
    with override_settings(GENLOOK={"API_KEY": "gk_a"}):
        assert not genlook_settings.webhooks_on


def test_the_client_follows_the_dialect():
    with override_settings(GENLOOK={"API_KEY": "gk_c", "API": "classic"}):
        client = get_client()
        assert client.api == "classic" and client.base_url == "https://api.genlook.app"
    with override_settings(GENLOOK={"API_KEY": "gk_c"}):
        assert get_client().api == "v1"


def test_manage_py_check_shows_the_classic_warning(capsys):
    with override_settings(GENLOOK={**CLASSIC, "BASE_URL": "https://api.genlook.app"}):
        call_command("check")
    captured = capsys.readouterr()
    assert "genlook.W060" in captured.err + captured.out
