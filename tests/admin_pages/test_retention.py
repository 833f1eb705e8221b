"""Retention (genlook_purge, genlook.purge_expired) and erasure (a deleted user, genlook_erase)."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.utils import timezone

from genlook_django import tasks
from genlook_django.models import (
    CreditSnapshot,
    FunnelEvent,
    ShopperPhoto,
    TryOn,
    WebhookDelivery,
)
from genlook_django.services import files, retention
from genlook_django.services.tryons import shoppers
from tests.support.images import grey_jpeg

pytestmark = pytest.mark.django_db

State = TryOn.State


def old(days: float):
    return timezone.now() - timedelta(days=days)


def purge(*args: str) -> str:
    out = StringIO()
    call_command("genlook_purge", *args, stdout=out)
    return out.getvalue()


# -- The purge ---------------------------------------------------------------------------------


def test_photos_and_results_past_retention_go_and_recent_ones_stay(make_try_on):
    expired = make_try_on(at=old(8), result=grey_jpeg(), photo=True)
    recent = make_try_on(at=old(2), result=grey_jpeg(), photo=True, shopper_key="a_" + "2" * 40)
    expired_files = (expired.result_file, expired.photo.file_name)
    FunnelEvent.objects.create(
        kind="added_to_cart",
        shopper_key=expired.shopper_key,
        content_type=expired.content_type,
        object_id=expired.object_id,
        try_on=expired,
        created_at=old(8),
    )

    report = retention.purge_expired()

    assert (report.photos, report.results, report.try_ons_anonymised) == (1, 1, 1)
    assert not files.exists(files.results_storage(), expired_files[0])
    assert not files.exists(files.photos_storage(), expired_files[1])
    expired.refresh_from_db()
    # Kept for the statistics, with nothing that points to anybody.
    assert (expired.state, expired.shopper_key, expired.result_file, expired.photo) == (
        State.COMPLETED,
        "",
        "",
        None,
    )
    assert FunnelEvent.objects.get().shopper_key == ""
    assert FunnelEvent.objects.get().try_on == expired  # the funnel still counts it
    recent.refresh_from_db()
    assert recent.shopper_key and files.exists(files.results_storage(), recent.result_file)
    assert files.exists(files.photos_storage(), recent.photo.file_name)


def test_webhook_deliveries_past_retention_go(make_try_on):
    WebhookDelivery.objects.create(verdict="rejected", reason="unknown_token", body="{}")
    old_one = WebhookDelivery.objects.create(
        verdict="accepted", remote_addr="203.0.113.7", body='{"id": "g"}'
    )
    WebhookDelivery.objects.filter(pk=old_one.pk).update(received_at=old(8))

    assert "1  webhook deliveries would be deleted" in purge("--dry-run")
    assert retention.purge_expired().webhook_deliveries_deleted == 1
    assert list(WebhookDelivery.objects.values_list("reason", flat=True)) == ["unknown_token"]


def test_expired_share_links_and_those_of_expired_try_ons_go(
    make_try_on, monkeypatch, admin_client
):
    import re

    from django.urls import reverse

    from genlook_django.models import ShareLink

    def link(try_on: TryOn, token: str, expires_in: timedelta) -> ShareLink:
        return ShareLink.objects.create(
            try_on=try_on, token_hash=token * 64, expires_at=timezone.now() + expires_in
        )

    recent = make_try_on(at=old(2), result=grey_jpeg())
    expired_try_on = make_try_on(at=old(8), result=grey_jpeg())
    link(recent, "a", -timedelta(minutes=1))  # expired
    link(expired_try_on, "b", timedelta(days=3))  # its try-on is past RETENTION_DAYS
    live = link(recent, "c", timedelta(days=3))
    monkeypatch.setattr(retention, "BATCH", 1)  # one link per batch: each batch is read anew

    output = purge("--dry-run")
    assert "2  share links would be deleted" in output
    page = admin_client.get(reverse("admin:genlook_tryon_purge")).content.decode()
    figure = re.search(r'data-genlook-figure="share_links_deleted">.*?(\d+)</td>', page, re.S)
    assert figure.group(1) == "2" and "share links to delete" in page
    assert ShareLink.objects.count() == 3

    assert retention.purge_expired().share_links_deleted == 2
    assert list(ShareLink.objects.all()) == [live]
    assert "0  share links deleted" in purge()


def test_statistics_go_after_their_own_retention(make_try_on, settings):
    settings.GENLOOK = {**settings.GENLOOK, "STATS_RETENTION_DAYS": 90}
    make_try_on(at=old(100))
    kept = make_try_on(at=old(30))
    CreditSnapshot.objects.create(balance=5, taken_at=old(100))
    CreditSnapshot.objects.create(balance=4, taken_at=old(1))

    report = retention.purge_expired()

    assert (report.try_ons_deleted, report.snapshots_deleted) == (1, 1)
    assert list(TryOn.objects.all()) == [kept]
    assert CreditSnapshot.objects.get().balance == 4


def test_none_keeps_everything(make_try_on, settings):
    settings.GENLOOK = {**settings.GENLOOK, "RETENTION_DAYS": None, "STATS_RETENTION_DAYS": None}
    kept = make_try_on(at=old(800), result=grey_jpeg(), photo=True)
    assert retention.purge_expired().as_dict() == retention.PurgeReport().as_dict()
    assert files.exists(files.results_storage(), kept.result_file)


def test_the_command_with_dry_run_changes_nothing(make_try_on):
    expired = make_try_on(at=old(8), result=grey_jpeg(), photo=True)

    output = purge("--dry-run")

    assert "1  shopper photos would be deleted" in output
    assert "1  result images would be deleted" in output
    assert "Dry run: nothing changed." in output
    expired.refresh_from_db()
    assert expired.shopper_key and files.exists(files.results_storage(), expired.result_file)

    output = purge()
    assert "1  result images deleted" in output and "Purge done." in output
    assert not files.exists(files.results_storage(), expired.result_file)


def test_the_periodic_task(make_try_on):
    make_try_on(at=old(8), result=grey_jpeg(), photo=True)
    summary = tasks.purge_expired.apply().result
    assert summary["photos"] == 1 and summary["results"] == 1


# -- A deleted user ----------------------------------------------------------------------------


def signed_in(username: str = "alice") -> tuple[User, Client]:
    user = User.objects.create_user(username)  # force_login: no password to hash
    client = Client()
    client.force_login(user)
    return user, client


def test_deleting_a_user_erases_their_try_ons_here_and_at_genlook(
    storefront, real_try_on, django_capture_on_commit_callbacks
):
    user, client = signed_in()
    mine = real_try_on(client)
    theirs = real_try_on()
    key = shoppers.user_key(user.pk)
    assert mine.shopper_key == key
    stored = (mine.result_file, mine.photo.file_name)

    with django_capture_on_commit_callbacks(execute=True):
        user.delete()

    assert list(TryOn.objects.all()) == [theirs]
    assert not ShopperPhoto.objects.filter(shopper_key=key).exists()
    assert not files.exists(files.results_storage(), stored[0])
    assert not files.exists(files.photos_storage(), stored[1])
    assert storefront.state.count("DELETE", f"/customers/{key}") == 1


def test_a_user_who_never_tried_anything_on_costs_no_call(
    storefront, django_capture_on_commit_callbacks
):
    user, _client = signed_in()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        user.delete()
    assert callbacks == []
    assert storefront.state.count("DELETE") == 0


def test_genlook_down_never_blocks_deleting_a_user(
    storefront, real_try_on, django_capture_on_commit_callbacks, caplog
):
    user, client = signed_in()
    real_try_on(client)
    storefront.state.set_faults(error_rates={503: 1.0})

    with django_capture_on_commit_callbacks(execute=True):
        user.delete()  # the on-commit task fails (eager, no retry); logged, not raised

    assert not User.objects.filter(pk=user.pk).exists()
    assert not TryOn.objects.exists()  # erased here all the same


# -- genlook_erase -----------------------------------------------------------------------------


def test_the_erase_command(storefront, real_try_on, django_capture_on_commit_callbacks):
    user, client = signed_in("bob")
    real_try_on(client)
    out = StringIO()
    call_command("genlook_erase", "--user", "bob", "--dry-run", stdout=out)
    assert "1 try-on(s), 1 photo(s)" in out.getvalue()
    assert TryOn.objects.exists()

    with django_capture_on_commit_callbacks(execute=True):
        call_command("genlook_erase", "--user", str(user.pk), stdout=StringIO())

    assert not TryOn.objects.exists()
    key = shoppers.user_key(user.pk)
    assert storefront.state.count("DELETE", f"/customers/{key}") == 1
    with pytest.raises(CommandError):
        call_command("genlook_erase", "--user", "nobody")


def test_the_privacy_notice_states_the_retention(client, settings):
    assert "7 days after they were made" in client.get("/genlook/privacy/").content.decode()
    settings.GENLOOK = {**settings.GENLOOK, "RETENTION_DAYS": None}
    assert "after they were made" not in client.get("/genlook/privacy/").content.decode()


def test_expired_share_links_go_even_when_personal_data_is_kept(make_try_on, settings):
    from genlook_django.models import ShareLink

    settings.GENLOOK = {**settings.GENLOOK, "RETENTION_DAYS": None}
    try_on = make_try_on(at=old(30), result=grey_jpeg())
    ShareLink.objects.create(try_on=try_on, token_hash="a" * 64, expires_at=old(1))
    live = ShareLink.objects.create(try_on=try_on, token_hash="b" * 64, expires_at=old(-1))

    assert retention.purge_expired(dry_run=True).share_links_deleted == 1
    assert retention.purge_expired().share_links_deleted == 1
    assert list(ShareLink.objects.all()) == [live]
    assert TryOn.objects.get().result_file  # nothing else of the try-on touched


def test_a_watermark_logo_chosen_but_never_saved_goes_once_it_cannot_be_used(settings, tmp_path):
    import os

    from django.core.files.storage import default_storage

    from genlook_django.services import logo_stash

    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path)},
        },
    }
    assert retention.purge_expired().stashed_logos_deleted == 0  # nothing ever stashed
    stale = logo_stash.stash(b"old logo", "old.png")
    fresh = logo_stash.stash(b"new logo", "new.png")
    stale_path = default_storage.path(logo_stash._entry(stale)["name"])
    day_and_a_minute_ago = (timezone.now() - timedelta(seconds=logo_stash.MAX_AGE + 60)).timestamp()
    os.utime(stale_path, (day_and_a_minute_ago, day_and_a_minute_ago))

    assert "1  watermark logos would be deleted" in purge("--dry-run")
    assert os.path.exists(stale_path)
    assert retention.purge_expired().stashed_logos_deleted == 1
    assert not os.path.exists(stale_path)
    assert logo_stash.load(fresh).read() == b"new logo"  # a form still open keeps its logo
