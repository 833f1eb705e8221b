"""The try-on and synced-product lists are read off indexes: the page's ordering from an
index leading with the sort column (no sort of the whole table), and a search by an exact
id from the id's own index (no LIKE scan). Checked with SQLite's EXPLAIN QUERY PLAN."""

from __future__ import annotations

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from genlook_django.models import SyncedProduct

pytestmark = pytest.mark.django_db

TRY_ONS = reverse("admin:genlook_tryon_changelist")
PRODUCTS = reverse("admin:genlook_syncedproduct_changelist")


def plans(client, url: str, table: str, **params) -> tuple[object, list[str]]:
    """The page, and the query plan of each query that reads ``table`` with an ORDER BY."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, params)
    assert response.status_code == 200
    found = []
    with connection.cursor() as cursor:
        for query in queries.captured_queries:
            sql = query["sql"]
            if f'FROM "{table}"' in sql and "ORDER BY" in sql and "COUNT(" not in sql:
                cursor.execute("EXPLAIN QUERY PLAN " + sql)
                found.append(" | ".join(str(row[-1]) for row in cursor.fetchall()))
    assert found, f"no ordered query on {table}"
    return response, found


@pytest.fixture
def many_try_ons(make_try_on):
    return [make_try_on(generation_id=f"gen_{n:04d}") for n in range(30)]


@pytest.fixture
def synced_products(product):
    content_type = ContentType.objects.get_for_model(product)
    return [
        SyncedProduct.objects.create(
            external_id=f"ext-{n:04d}", content_type=content_type, object_id=str(1000 + n)
        )
        for n in range(30)
    ]


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's plan format")
def test_the_try_on_list_is_read_in_index_order(admin_client, many_try_ons):
    _response, found = plans(admin_client, TRY_ONS, "genlook_tryon")
    plan = found[0]
    assert "genlook_tryon_recent" in plan, plan
    assert "TEMP B-TREE" not in plan, plan  # no sort of the whole table


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's plan format")
def test_the_synced_product_list_is_read_in_index_order(admin_client, synced_products):
    _response, found = plans(admin_client, PRODUCTS, "genlook_syncedproduct")
    plan = found[0]
    assert "genlook_sp_recent" in plan, plan
    assert "TEMP B-TREE" not in plan, plan


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's plan format")
@pytest.mark.parametrize("which", ["public_id", "generation_id", "shopper_key"])
def test_a_try_on_found_by_its_exact_id_through_an_index(admin_client, many_try_ons, which):
    target = many_try_ons[7]
    term = str(getattr(target, which))
    response, found = plans(admin_client, TRY_ONS, "genlook_tryon", q=term)
    rows = list(response.context["cl"].result_list)
    if which == "shopper_key":  # every row of the fixture has the same shopper
        assert len(rows) == len(many_try_ons)
    else:
        assert [row.pk for row in rows] == [target.pk]
    plan = found[0]
    assert "SCAN genlook_tryon" not in plan.replace("SCAN genlook_tryon USING", ""), plan
    assert "SEARCH" in plan, plan


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's plan format")
@pytest.mark.parametrize("which", ["external_id", "object_id"])
def test_a_synced_product_found_by_its_exact_id_through_an_index(
    admin_client, synced_products, which
):
    target = synced_products[11]
    response, found = plans(
        admin_client, PRODUCTS, "genlook_syncedproduct", q=getattr(target, which)
    )
    assert [row.pk for row in response.context["cl"].result_list] == [target.pk]
    plan = found[0]
    assert "SEARCH" in plan, plan
    assert "SCAN genlook_syncedproduct" not in plan.replace(
        "SCAN genlook_syncedproduct USING", ""
    ), plan


def test_a_partial_id_still_finds_by_the_usual_search(admin_client, many_try_ons):
    response = admin_client.get(TRY_ONS, {"q": "gen_002"})
    rows = response.context["cl"].result_list
    assert sorted(row.generation_id for row in rows) == [f"gen_{n:04d}" for n in range(20, 30)]


def test_words_use_the_usual_search(admin_client, make_try_on):
    make_try_on("failed", error_code="TIMED_OUT")
    make_try_on()
    response = admin_client.get(TRY_ONS, {"q": "timed"})
    assert [row.error_code for row in response.context["cl"].result_list] == ["TIMED_OUT"]
