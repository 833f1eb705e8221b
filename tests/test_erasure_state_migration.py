"""The data migration that moves erasure and alias state out of ``TryOn.consent_version``
and ``UsageRecord.shopper_key`` into their own columns and tables, forwards and back."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from genlook_django.models import ErasureDebt, ShopperAlias, ShopperPhoto, TryOn, UsageRecord
from genlook_django.services.tryons import erasure, shoppers

BEFORE = [("genlook", "0012_batchitem_create_sent_at")]  # the last schema with the old encoding


def _migrate(targets: list[tuple[str, str]] | None = None):
    """Migrate to ``targets`` (default: the latest); the apps as they are there."""
    executor = MigrationExecutor(connection)
    targets = targets or executor.loader.graph.leaf_nodes()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.fixture
def old_schema():
    apps = _migrate(BEFORE)
    try:
        yield apps
    finally:
        _migrate()


def _old_rows(apps, now):
    """Rows as the old code wrote them; returns what the new ones must say."""
    content_type, _ = apps.get_model("contenttypes", "ContentType").objects.get_or_create(
        app_label="shop", model="product"
    )
    try_on_model = apps.get_model("genlook", "TryOn")
    photo_model = apps.get_model("genlook", "ShopperPhoto")
    record = apps.get_model("genlook", "UsageRecord").objects.create

    photo = photo_model.objects.create(
        shopper_key="a_" + "1" * 40, file_name="p.jpg", width=1, height=1, size_bytes=1
    )
    kept = photo_model.objects.create(
        shopper_key="a_" + "1" * 40, file_name="q.jpg", width=1, height=1, size_bytes=1
    )
    common = {"content_type": content_type, "object_id": "1", "shopper_key": photo.shopper_key}
    withdrawn = try_on_model.objects.create(
        state="pending", consent_version="withdrawn", photo=photo, **common
    )
    given = try_on_model.objects.create(state="pending", consent_version="3", **common)

    record(kind="erase_photo", shopper_key=f"p_{photo.public_id.hex}", created_at=now)
    record(kind="erase_photo", shopper_key=f"p_{uuid.uuid4().hex}")  # a photo gone meanwhile
    record(kind="erase_photo", shopper_key="p_not-a-uuid")
    earlier = now - timedelta(minutes=5)
    record(kind="erase_owed", shopper_key="a_owed", created_at=earlier)
    record(kind="erase_owed", shopper_key="a_owed", created_at=now)  # a racing duplicate
    record(kind="erase_owed", shopper_key="u_owed", created_at=now)
    user_key = shoppers.user_key(7)
    tag = "l_" + shoppers._alias_tag(user_key)
    record(kind="alias", shopper_key=tag + "a_before", created_at=earlier)
    record(kind="alias", shopper_key=tag + "a_before", created_at=now)  # recorded again
    record(kind="alias", shopper_key=tag + "a_other", created_at=earlier)
    record(kind="upload", shopper_key=photo.shopper_key, created_at=now)
    record(kind="try_on", shopper_key=photo.shopper_key, created_at=now)
    return {
        "withdrawn": withdrawn.pk,
        "given": given.pk,
        "photo": photo.pk,
        "kept": kept.pk,
        "user_key": user_key,
        "earlier": earlier,
    }


@pytest.mark.django_db(transaction=True)
def test_old_rows_become_columns_and_rows_of_their_own(old_schema):
    now = timezone.now().replace(microsecond=0)
    made = _old_rows(old_schema, now)

    _migrate()

    withdrawn, given = TryOn.objects.get(pk=made["withdrawn"]), TryOn.objects.get(pk=made["given"])
    assert withdrawn.withdrawn_at is not None and withdrawn.consent_version == ""
    assert given.withdrawn_at is None and given.consent_version == "3"
    photo = ShopperPhoto.objects.get(pk=made["photo"])
    assert photo.erasure_requested_at == now
    assert erasure.photo_erasure_owed(photo)
    assert not erasure.photo_erasure_owed(ShopperPhoto.objects.get(pk=made["kept"]))
    debts = dict(ErasureDebt.objects.values_list("shopper_key", "created_at"))
    assert debts == {"a_owed": made["earlier"], "u_owed": now}
    assert shoppers.aliases(made["user_key"]) == ["a_before", "a_other"]
    assert ShopperAlias.objects.get(old_key="a_before").created_at == now
    assert sorted(UsageRecord.objects.values_list("kind", flat=True)) == ["try_on", "upload"]


@pytest.mark.django_db(transaction=True)
def test_the_way_back_writes_the_old_rows_again(old_schema):
    now = timezone.now().replace(microsecond=0)
    made = _old_rows(old_schema, now)
    _migrate()

    apps = _migrate(BEFORE)

    try_on = apps.get_model("genlook", "TryOn").objects.get(pk=made["withdrawn"])
    assert try_on.consent_version == "withdrawn"
    photo = apps.get_model("genlook", "ShopperPhoto").objects.get(pk=made["photo"])
    records = apps.get_model("genlook", "UsageRecord").objects
    tag = "l_" + shoppers._alias_tag(made["user_key"])
    assert sorted(
        records.exclude(kind__in=["upload", "try_on"]).values_list("kind", "shopper_key")
    ) == [
        ("alias", tag + "a_before"),
        ("alias", tag + "a_other"),
        ("erase_owed", "a_owed"),
        ("erase_owed", "u_owed"),
        ("erase_photo", f"p_{photo.public_id.hex}"),
    ]
