"""The credit ledger and the credits page: every charged generation has one row, kept when
its try-on is deleted or erased, and the "spent" of the balance snapshots is set beside
the "charged" of the ledger, per kind; the balance card, the snapshots and the chart show
the same balance after a refresh."""

from __future__ import annotations

import importlib
import re
from datetime import timedelta

import pytest
from django.apps import apps as django_apps
from django.urls import reverse
from django.utils import timezone

from genlook_django.models import BatchItem, ChargedGeneration, CreditSnapshot, TryOn
from genlook_django.services import credits, ledger, retention
from genlook_django.services.tryons import erasure
from tests.support.catalog import API_KEY

pytestmark = pytest.mark.django_db

DASHBOARD = reverse("admin:genlook_creditsnapshot_changelist")
REFRESH = reverse("admin:genlook_creditsnapshot_refresh")


def kinds() -> dict[str, int]:
    return {key: count for key, _label, count in ledger.breakdown().rows()}


def test_a_completed_try_on_is_charged_once(real_try_on):
    try_on = real_try_on()
    assert try_on.state == TryOn.State.COMPLETED

    row = ChargedGeneration.objects.get()
    assert (row.generation_id, row.kind, row.try_on_id) == (
        try_on.generation_id,
        ChargedGeneration.Kind.SHOPPER,
        try_on.pk,
    )
    # Ingesting the same answer again (a webhook after the poll) charges nothing more.
    assert ledger.charge(try_on) is False
    assert ChargedGeneration.objects.count() == 1
    # The ledger holds no shopper data.
    field_names = {field.name for field in ChargedGeneration._meta.get_fields()}
    assert not field_names & {"shopper_key", "photo", "result_file", "raw"}


def test_a_failed_try_on_is_not_charged(storefront, real_try_on):
    storefront.state.set_faults(fail_generations=1.0, fail_error_code="GENERATION_FAILED")
    try_on = real_try_on()
    assert try_on.state == TryOn.State.FAILED
    assert not ChargedGeneration.objects.exists()


def test_each_charge_is_counted_under_one_kind(real_try_on, make_try_on, storefront):
    kept = real_try_on()
    deleted = real_try_on()
    erased_by_shopper = real_try_on()
    retried = make_try_on(generation_id="gen_retried", retry_of=kept)
    ledger.charge(retried)
    batch_item = BatchItem(generation_id="gen_batch", pk=991)
    ledger.charge(batch_item)

    TryOn.objects.filter(pk=deleted.pk).delete()  # e.g. the retention purge
    erasure.erase_try_on(erased_by_shopper)  # the shopper's "delete"

    assert kinds() == {"shopper": 1, "retried": 1, "batch": 1, "deleted": 1, "erased": 1}
    assert ledger.breakdown().total == ChargedGeneration.objects.count() == 5


def test_an_erased_shopper_keeps_their_charges_on_the_books(real_try_on):
    try_on = real_try_on()
    retention.erase_shopper(try_on.shopper_key, remote=False)

    assert not TryOn.objects.exists()
    assert kinds()["erased"] == 1
    assert ChargedGeneration.objects.get().erased_at is not None


def test_spent_reconciles_with_charged_on_the_credits_page(
    storefront, real_try_on, admin_client, settings
):
    settings.GENLOOK = {**settings.GENLOOK, "CREDITS_SNAPSHOT_INTERVAL": 0}
    storefront.state.set_credits(API_KEY, 50)
    credits.get_balance(refresh=True)  # the snapshot before
    for _index in range(3):
        real_try_on()
    TryOn.objects.filter(pk=TryOn.objects.order_by("pk").first().pk).delete()

    admin_client.post(REFRESH)  # the snapshot after: Genlook charged 3 credits
    page = admin_client.get(DASHBOARD).content.decode()

    assert CreditSnapshot.objects.order_by("-taken_at").first().balance == 47
    assert "Spent 3 credits" in page
    assert "3 charged" in page
    assert "data-genlook-reconciled" in page
    assert re.search(r'data-genlook-kind="shopper">.*?(\d+)</td></tr>', page).group(1) == "2"
    assert re.search(r'data-genlook-kind="deleted">.*?(\d+)</td></tr>', page).group(1) == "1"


def test_a_difference_is_said_not_hidden(storefront, admin_client):
    now = timezone.now()
    CreditSnapshot.objects.create(balance=40, taken_at=now - timedelta(hours=2))
    CreditSnapshot.objects.create(balance=35, taken_at=now - timedelta(hours=1))
    ChargedGeneration.objects.create(
        generation_id="gen_1", kind="shopper", charged_at=now - timedelta(minutes=90)
    )
    storefront.state.set_credits(API_KEY, 35)

    page = admin_client.get(DASHBOARD).content.decode()

    assert "Spent 5 credits" in page and "1 charged" in page
    assert "data-genlook-unreconciled" in page
    assert "moved by 4 more" in page


def test_without_two_snapshots_the_charges_are_shown_all_the_same(
    storefront, admin_client, make_try_on
):
    ledger.charge(make_try_on(generation_id="gen_1", at=timezone.now() - timedelta(hours=1)))
    CreditSnapshot.objects.all().delete()

    spending = ledger.spending(since=timezone.now() - timedelta(days=30))
    assert (spending.spent, spending.charged.total, spending.no_balance) == (None, 1, "snapshots")
    page = admin_client.get(DASHBOARD).content.decode()  # reads the balance: one snapshot now

    assert "1 charged" in page and "data-genlook-spent" not in page
    assert re.search(r'data-genlook-kind="shopper">.*?(\d+)</td></tr>', page).group(1) == "1"
    assert "not enough yet" in page


# -- One balance on the whole page ------------------------------------------------------------


def test_card_snapshots_and_chart_agree_after_a_refresh(storefront, admin_client, settings):
    settings.GENLOOK = {**settings.GENLOOK, "CREDITS_SNAPSHOT_INTERVAL": 900}
    storefront.state.set_credits(API_KEY, 80)
    admin_client.get(DASHBOARD)  # reads 80, stores a snapshot
    storefront.state.set_credits(API_KEY, 72)

    admin_client.post(REFRESH)  # within the interval: the latest snapshot moves to 72
    response = admin_client.get(DASHBOARD)
    page = response.content.decode()

    assert re.search(r"data-genlook-balance>(\d+)<", page).group(1) == "72"
    assert [s.balance for s in response.context["snapshots"]] == [72]
    chart = str(response.context["balance_chart"])
    assert chart.count("<circle") == 1 and "Credits (72)" in chart


def test_another_process_refresh_is_seen_through_the_snapshot(storefront):
    storefront.state.set_credits(API_KEY, 60)
    credits.get_balance()  # cached here: 60
    # Another process refreshed: its snapshot is newer than this process's cache.
    CreditSnapshot.objects.create(balance=55, taken_at=timezone.now() + timedelta(seconds=1))

    balance = credits.get_balance()

    assert (balance.credits, balance.cached) == (55, True)


def test_the_migration_backfills_the_ledger_from_the_rows_kept(make_try_on):
    backfill = importlib.import_module("genlook_django.migrations.0019_credit_ledger").backfill
    first = make_try_on(generation_id="gen_old_1")
    make_try_on(generation_id="gen_old_2", retry_of=first)
    make_try_on(TryOn.State.FAILED, generation_id="gen_old_3")
    ChargedGeneration.objects.all().delete()

    backfill(django_apps, None)
    backfill(django_apps, None)  # twice: nothing doubles

    assert dict(ChargedGeneration.objects.values_list("generation_id", "kind")) == {
        "gen_old_1": "shopper",
        "gen_old_2": "retried",
    }


# -- Charged although the result could not be had ----------------------------------------------


@pytest.mark.parametrize("problem", ["no_url", "gone", "too_large"])
def test_a_completed_generation_whose_result_is_lost_is_still_charged(
    problem, make_try_on, person_photo, monkeypatch
):
    from genlook_django.client import Generation
    from genlook_django.services.genlook import get_client
    from genlook_django.services.tryons import results

    client = get_client()
    url = client.upload_image(person_photo, external_user_id="lost-result").image_url
    if problem == "gone":
        client.delete_customer("lost-result")  # the URL now answers 404
    if problem == "too_large":
        monkeypatch.setattr(results, "MAX_RESULT_BYTES", 10)
    try_on = make_try_on(TryOn.State.PENDING, generation_id="gen_lost")
    generation = Generation(
        id="gen_lost", status="COMPLETED", result_image_url=None if problem == "no_url" else url
    )

    results.ingest(try_on, generation, client=client)
    results.ingest(try_on, generation, client=client)  # a second answer adds nothing

    try_on.refresh_from_db()
    assert try_on.state == TryOn.State.FAILED
    assert try_on.error_code in ("RESULT_MISSING", "RESULT_TOO_LARGE")
    row = ChargedGeneration.objects.get()  # Genlook charged for it: on the books
    assert (row.generation_id, row.kind, row.try_on_id) == ("gen_lost", "shopper", try_on.pk)


def test_a_withdrawn_try_on_whose_result_is_lost_is_charged_as_erased(make_try_on):
    from genlook_django.client import Generation
    from genlook_django.services.tryons import results

    try_on = make_try_on(TryOn.State.PENDING, generation_id="gen_withdrawn")
    erasure.erase_try_on(try_on)  # in flight: withdrawn, deleted when it ends

    results.ingest(try_on, Generation(id="gen_withdrawn", status="COMPLETED"))

    assert not TryOn.objects.filter(pk=try_on.pk).exists()
    assert kinds()["erased"] == 1
