"""P6: the genlook admin pages at scale, on PostgreSQL.

    .venv/bin/python bench/bench_admin_at_scale.py [--try-ons 100000] [--deliveries 50000]
        [--runs 7] [--goal-ms 300] [--no-purge] [--keep]

Creates its own database (``genlook_bench_admin`` on 127.0.0.1:5432, dropped at the end
unless ``--keep``), migrates it, and seeds with bulk inserts: ``--try-ons`` try-ons over
60 days (completed, failed with a few error codes, some open), as many charged
generations as completed ones, ``--deliveries`` webhook deliveries, 5,000 synced products,
40 batch jobs of 50 try-ons each and two snapshots an hour for 60 days.

Then, logged in as a superuser with Django's test client, each page is fetched once to
warm up and ``--runs`` times timed: every genlook admin list (its default view, the
searches and filters a merchant uses), the credits page, the watermark page and the
retention purge page. Printed: p50 and max per page, and the number of SQL queries of one
fetch; the goal (``--goal-ms``, 300 ms) applies to the p50. Last, unless ``--no-purge``,
the retention purge of every try-on (made older than ``STATS_RETENTION_DAYS``): its time
and its number of queries.

Exit status 1 if a page misses the goal; 3 (skipped) without PostgreSQL.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DB_NAME = "genlook_bench_admin"
SKIPPED = 3
ERROR_CODES = ["TIMED_OUT", "GENERATION_FAILED", "INSUFFICIENT_CREDITS", "RESULT_MISSING"]


def postgres_up() -> bool:
    import socket

    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=1):
            return True
    except OSError:
        return False


def admin_db(sql: str) -> None:
    """Run ``sql`` on the server's ``test`` database, outside a transaction."""
    import psycopg

    with psycopg.connect("host=127.0.0.1 port=5432 dbname=test", autocommit=True) as conn:
        conn.execute(sql)


def configure() -> None:
    import django
    from django.conf import settings

    from tests import settings as base

    values = {name: getattr(base, name) for name in dir(base) if name.isupper()}
    values["DATABASES"] = {
        "default": {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": DB_NAME,
            "HOST": "127.0.0.1",
            "PORT": "5432",
            "USER": os.environ.get("PGUSER", "postgres"),
        }
    }
    values["PASSWORD_HASHERS"] = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    values["LOGGING_CONFIG"] = None
    settings.configure(**values)
    django.setup()


def seed(try_ons: int, deliveries: int) -> dict[str, str]:
    """Bulk-insert the rows; returns ids worth searching for."""
    from django.contrib.contenttypes.models import ContentType
    from django.db import connection
    from django.utils import timezone

    from example_shop.shop.models import Product
    from genlook_django.models import (
        BatchItem,
        BatchJob,
        BatchPhoto,
        ChargedGeneration,
        CreditSnapshot,
        SyncedProduct,
        TryOn,
        WebhookDelivery,
    )

    now = timezone.now()
    products = Product.objects.bulk_create(
        Product(name=f"Product {n}", slug=f"product-{n}", price=10, category="tops", is_active=True)
        for n in range(200)
    )
    content_type = ContentType.objects.get_for_model(Product)
    SyncedProduct.objects.bulk_create(
        (
            SyncedProduct(
                external_id=f"shop.product:{n}",
                content_type=content_type,
                object_id=str(products[n % len(products)].pk if n < 200 else 100000 + n),
                status=["synced", "failed", "pending"][n % 3],
                last_error="" if n % 3 != 1 else "Genlook answered 400: title is required",
                last_synced_at=now - timedelta(minutes=n),
                remote={"title": f"Product {n}"},
            )
            for n in range(5000)
        ),
        batch_size=2000,
    )
    states = ["completed"] * 8 + ["failed", "pending"]
    batch = 5000
    for start in range(0, try_ons, batch):
        rows = []
        for n in range(start, min(try_ons, start + batch)):
            state = states[n % len(states)]
            product = products[n % len(products)]
            rows.append(
                TryOn(
                    shopper_key=f"a_{n % 20000:040d}",
                    content_type=content_type,
                    object_id=str(product.pk),
                    product_external_id=f"shop.product:{product.pk}",
                    state=state,
                    generation_id=f"gen_{n:08d}",
                    error_code=ERROR_CODES[n % len(ERROR_CODES)] if state == "failed" else "",
                    consent_version="1",
                    result_file=f"genlook/results/{n}.jpg" if state == "completed" else "",
                    submitted_at=now,
                    finished_at=now if state in ("completed", "failed") else None,
                )
            )
        TryOn.objects.bulk_create(rows)
    with connection.cursor() as cursor:
        # Spread over 60 days, newest first by id.
        cursor.execute(
            "UPDATE genlook_tryon SET created_at = now() - (%s - id) * interval '50 seconds',"
            " finished_at = CASE WHEN finished_at IS NULL THEN NULL"
            " ELSE now() - (%s - id) * interval '50 seconds' + interval '9 seconds' END",
            [try_ons, try_ons],
        )
        cursor.execute(
            "INSERT INTO genlook_chargedgeneration"
            " (generation_id, kind, try_on_id, charged_at, erased_at)"
            " SELECT generation_id, 'shopper', id, finished_at, NULL FROM genlook_tryon"
            " WHERE state = 'completed'"
        )
    first_try_on = TryOn.objects.order_by("pk").values_list("pk", flat=True).first()
    for start in range(0, deliveries, batch):
        WebhookDelivery.objects.bulk_create(
            WebhookDelivery(
                received_at=now - timedelta(seconds=100 * n),
                try_on_id=first_try_on + (n * 2) % try_ons,
                remote_addr="127.0.0.1",
                headers={"content-type": "application/json"},
                body=f'{{"generation_id": "gen_{n:08d}", "status": "completed"}}',
                body_hash=f"{n:064x}",
                verdict="accepted" if n % 10 else "rejected",
                reason="" if n % 10 else "bad_signature",
                generation_id=f"gen_{(n * 2) % try_ons:08d}",
                status_hint="completed",
                outcome=["processed", "duplicate", "ignored", "failed"][n % 4],
            )
            for n in range(start, min(deliveries, start + batch))
        )
    for j in range(40):
        job = BatchJob.objects.create(name=f"Spring {j}", state="running" if j < 3 else "done")
        photo = BatchPhoto.objects.create(job=job, file_name=f"genlook/photos/b{j}.jpg")
        BatchItem.objects.bulk_create(
            BatchItem(
                job=job,
                photo=photo,
                content_type=content_type,
                object_id=str(products[i].pk),
                product_label=products[i].name,
                state="completed" if i % 5 else "failed",
                generation_id=f"bgen_{j}_{i}",
            )
            for i in range(50)
        )
    CreditSnapshot.objects.bulk_create(
        CreditSnapshot(balance=100000 - n, taken_at=now - timedelta(minutes=30 * n))
        for n in range(2 * 24 * 60)
    )
    ChargedGeneration.objects.count()  # the table is there
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    target = TryOn.objects.filter(state="failed").order_by("-pk").first()
    return {
        "generation_id": target.generation_id,
        "public_id": str(target.public_id),
        "external_id": "shop.product:4321",
        "delivery_generation": f"gen_{(2 * 777) % try_ons:08d}",
        "content_type": str(content_type.pk),
    }


def pages(ids: dict[str, str]) -> list[tuple[str, str, dict[str, str]]]:
    from django.urls import reverse

    tryons = reverse("admin:genlook_tryon_changelist")
    deliveries = reverse("admin:genlook_webhookdelivery_changelist")
    products = reverse("admin:genlook_syncedproduct_changelist")
    return [
        ("try-ons", tryons, {}),
        ("try-ons: page 20", tryons, {"p": "20"}),
        ("try-ons: failed", tryons, {"state__exact": "failed"}),
        ("try-ons: error code", tryons, {"error_code": "TIMED_OUT"}),
        ("try-ons: product model", tryons, {"content_type__id__exact": ids["content_type"]}),
        ("try-ons: search generation id", tryons, {"q": ids["generation_id"]}),
        ("try-ons: search public id", tryons, {"q": ids["public_id"]}),
        ("try-ons: search partial id", tryons, {"q": "gen_0009"}),
        ("try-ons: search a word", tryons, {"q": "timed"}),
        ("webhook deliveries", deliveries, {}),
        ("deliveries: rejected", deliveries, {"verdict__exact": "rejected"}),
        ("deliveries: failed", deliveries, {"outcome__exact": "failed"}),
        ("deliveries: search generation", deliveries, {"q": ids["delivery_generation"]}),
        ("synced products", products, {}),
        ("products: failed", products, {"status__exact": "failed"}),
        ("products: search external id", products, {"q": ids["external_id"]}),
        ("batch jobs", reverse("admin:genlook_batchjob_changelist"), {}),
        ("credits page", reverse("admin:genlook_creditsnapshot_changelist"), {}),
        ("watermark settings", reverse("admin:genlook_watermarksettings_changelist"), {}),
        ("retention purge (dry run)", reverse("admin:genlook_tryon_purge"), {}),
    ]


class QueryCounter:
    """A ``connection.execute_wrapper`` that counts the queries run through it."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


def time_pages(ids: dict[str, str], runs: int) -> list[tuple[str, float, float, int]]:
    from django.contrib.auth.models import User
    from django.core.cache import cache
    from django.db import connection
    from django.test import Client
    from django.utils import timezone

    from genlook_django.services import credits

    user = User.objects.create_superuser("bench", "bench@example.com", "bench")
    client = Client()
    client.force_login(user)
    results = []
    for label, url, params in pages(ids):
        # The balance as last read (no API call: Genlook is not reachable from here).
        cache.set(credits._cache_key(), {"credits": 99999, "fetched_at": timezone.now()}, 3600)
        response = client.get(url, params, follow=True)
        if response.status_code != 200:
            raise RuntimeError(f"{label}: {response.status_code}")
        counter = QueryCounter()  # (the client's request_started empties connection.queries)
        with connection.execute_wrapper(counter):
            client.get(url, params, follow=True)
        durations = []
        for _ in range(runs):
            started = time.perf_counter()
            client.get(url, params, follow=True)
            durations.append(time.perf_counter() - started)
        results.append((label, statistics.median(durations), max(durations), counter.count))
        print(
            f"  {label:<34} p50 {1000 * results[-1][1]:7.1f} ms   max "
            f"{1000 * results[-1][2]:7.1f} ms   {results[-1][3]:3d} queries",
            flush=True,
        )
    return results


def time_purge() -> tuple[float, int, dict[str, int]]:
    from django.db import connection

    from genlook_django.services import retention

    with connection.cursor() as cursor:
        cursor.execute("UPDATE genlook_tryon SET created_at = now() - interval '400 days'")
        cursor.execute(
            "UPDATE genlook_webhookdelivery SET received_at = now() - interval '400 days'"
        )
        cursor.execute("ANALYZE")
    counter = QueryCounter()
    started = time.perf_counter()
    with connection.execute_wrapper(counter):
        report = retention.purge_expired()
    return time.perf_counter() - started, counter.count, report.as_dict()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--try-ons", type=int, default=100_000)
    parser.add_argument("--deliveries", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--goal-ms", type=float, default=300.0)
    parser.add_argument("--no-purge", action="store_true")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()
    if not postgres_up():
        print("PostgreSQL is not running on 127.0.0.1:5432: skipped.")
        return SKIPPED
    admin_db(f"DROP DATABASE IF EXISTS {DB_NAME}")
    admin_db(f"CREATE DATABASE {DB_NAME}")
    try:
        configure()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        started = time.perf_counter()
        ids = seed(args.try_ons, args.deliveries)
        print(
            f"Seeded {args.try_ons:,} try-ons and {args.deliveries:,} webhook deliveries in "
            f"{time.perf_counter() - started:.1f} s; load average "
            f"{os.getloadavg()[0]:.2f} on {os.cpu_count()} cores",
            flush=True,
        )
        results = time_pages(ids, args.runs)
        missed = [label for label, p50, _max, _q in results if p50 * 1000 > args.goal_ms]
        slowest = max(results, key=lambda row: row[1])
        print(f"Slowest p50: {slowest[0]} {1000 * slowest[1]:.1f} ms (goal {args.goal_ms:.0f} ms)")
        if not args.no_purge:
            seconds, queries, report = time_purge()
            print(
                f"Purge of {report['try_ons_deleted']:,} try-ons past STATS_RETENTION_DAYS "
                f"(and {report['webhook_deliveries_deleted']:,} deliveries): {seconds:.1f} s "
                f"in {queries:,} queries"
            )
        print(f"Load average after: {os.getloadavg()[0]:.2f}")
        if missed:
            print("MISSED the goal: " + ", ".join(missed))
            return 1
        print(f"Every page within {args.goal_ms:.0f} ms (p50).")
        return 0
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep:
            admin_db(f"DROP DATABASE IF EXISTS {DB_NAME}")


if __name__ == "__main__":
    sys.exit(main())
