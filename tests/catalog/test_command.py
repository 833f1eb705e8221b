"""``manage.py genlook_sync``: the whole catalog, one model, some ids, dry runs, resuming."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command

from example_shop.shop.models import Product
from genlook_django import disable_auto_sync
from genlook_django.models import SyncedProduct
from genlook_django.services.catalog import sync_catalog

Status = SyncedProduct.Status


def run(*args: str) -> str:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("genlook_sync", *args, stdout=out, stderr=err)
    except CommandError as exc:
        raise CommandError(f"{exc}\n{out.getvalue()}\n{err.getvalue()}") from exc
    return out.getvalue()


@pytest.fixture
def catalog(make_product) -> list[Product]:
    with disable_auto_sync():
        return [make_product() for _ in range(25)]


def test_syncs_the_catalog_with_a_progress_bar(genlook, catalog):
    output = run()

    assert "Syncing 25 products (shop.Product)" in output
    assert "[##############################] 25/25 100%" in output
    assert "25 products: 25 created; 25 API calls" in output
    assert genlook.state.count("POST", "/products") == 25
    assert SyncedProduct.objects.filter(status=Status.SYNCED).count() == 25


def test_a_second_run_is_free(genlook, catalog):
    run()
    output = run("shop.Product")
    assert "25 products: 25 unchanged; 0 API calls" in output
    assert genlook.state.count("POST", "/products") == 25


def test_resumes_after_a_partial_run(genlook, catalog):
    run("shop.Product", "--ids", *[str(p.pk) for p in catalog[:10]])
    assert genlook.state.count("POST") == 10

    output = run()
    assert "10 unchanged" in output
    assert "15 created" in output
    assert genlook.state.count("POST") == 25


def test_only_changed_products_are_pushed(genlook, catalog):
    run()
    with disable_auto_sync():
        catalog[3].description = "New description"
        catalog[3].save()
        catalog[4].image = None  # no image left: it goes
        catalog[4].save()
        catalog[5].delete()  # gone from the shop: it goes too

    output = run()
    assert "1 updated, 2 deleted, 22 unchanged" in output
    assert genlook.state.count("POST", "/products") == 26
    assert genlook.state.count("DELETE") == 2


def test_dry_run_calls_nothing(genlook, catalog):
    run("--ids", str(catalog[0].pk))
    with disable_auto_sync():
        catalog[1].delete()
    genlook.state.reset()

    output = run("--dry-run", "--no-progress")
    assert "Planning 24 products" in output
    assert "1 unchanged, 23 would create" in output
    assert genlook.state.requests == []
    assert SyncedProduct.objects.count() == 1


def test_force_pushes_unchanged_products(genlook, catalog):
    run()
    output = run("--force", "--no-progress")
    assert "25 updated" in output
    assert genlook.state.count("POST", "/products") == 50


def test_failures_are_reported_and_retried_by_the_next_run(genlook, catalog):
    genlook.state.set_faults(error_rates={500: 1.0})
    with pytest.raises(CommandError, match="25 product\\(s\\) failed"):
        run("--no-progress")
    assert SyncedProduct.objects.filter(status=Status.FAILED).count() == 25

    genlook.state.clear_faults()
    output = run("--no-progress")
    assert "25 created" in output
    assert SyncedProduct.objects.filter(status=Status.SYNCED).count() == 25


def test_stays_within_the_shared_rate_budget(genlook, settings, catalog):
    # The in-process budget is per API key (its first limit stands): use a key of its own.
    genlook.state.add_account("gk_catalog_budget")
    genlook.state.configure(rate_limit=10, rate_window=0.5)
    settings.GENLOOK = {
        **settings.GENLOOK,
        "API_KEY": "gk_catalog_budget",
        "RATE_LIMIT": 10,
        "RATE_PERIOD": 0.5,
    }
    output = run("--workers", "8", "--no-progress")
    assert "25 created" in output
    assert genlook.state.count(status=429) == 0


def test_bad_arguments(genlook, adapter_for, catalog):
    with pytest.raises(CommandError, match=r"auth\.User is not registered"):
        run("auth.User")
    with pytest.raises(CommandError, match="No installed app"):
        run("nope.Product")
    adapter_for(Group)  # a second registered model
    with pytest.raises(CommandError, match="exactly one model"):
        run("--ids", "1")


def test_an_interrupted_sync_keeps_what_finished(genlook, catalog):
    seen = []

    def stop_after_five(result) -> None:
        seen.append(result)
        if len(seen) == 5:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        sync_catalog([Product], workers=2, progress=stop_after_five)
    recorded = SyncedProduct.objects.filter(status=Status.SYNCED).count()
    assert 5 <= recorded < 25

    output = run("--no-progress")
    assert f"{recorded} unchanged" in output
    assert SyncedProduct.objects.filter(status=Status.SYNCED).count() == 25
    assert genlook.state.count("POST", "/products") == 25  # nothing pushed twice
