"""Benchmark of the catalog sync against the sandbox, over real HTTP.

    .venv/bin/python bench/bench_catalog_sync.py [--products 10000] [--rate-products 2400]

1. Seeds N products and syncs them once (limits raised on both sides to keep it short).
2. Re-syncs the unchanged catalog: target 0 API calls, within 10 s.
3. Force-syncs a slice of it with the sandbox and the client both at 600 requests per 10 s:
   target >= 95% of the allowed rate in steady state, and 0 answers 429.

It sets Django up itself (a temporary SQLite file, the example shop's Product model) and
starts a SandboxServer in this process. Exit status 1 if a target is missed.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# The client's in-process budget is per API key and its first limit stands: each phase
# uses an account of its own, so each gets the limit it asks for.
FAST_KEY, RATE_KEY = "gk_bench_fast", "gk_bench_rate"
FAST = 1_000_000  # "no limit" for the seeding pass, on both sides
RATE_LIMIT, RATE_WINDOW = 600, 10.0


def setup_django(workdir: str) -> None:
    import django
    from django.conf import settings

    settings.configure(
        DEBUG=False,
        SECRET_KEY="bench-only",
        ROOT_URLCONF="genlook_django.sandbox.standalone_urls",
        USE_TZ=True,
        INSTALLED_APPS=[
            "django.contrib.contenttypes",
            "django.contrib.auth",
            "genlook_django",
            "genlook_django.sandbox",
            "example_shop.shop",
        ],
        DATABASES={
            "default": {
                "ENGINE": "django.db.backends.sqlite3",
                "NAME": f"{workdir}/bench.db",
                # WAL, no fsync per commit: the figure is the client's pace against the rate
                # bound, not a shared disk's fsync time (a shop's PostgreSQL commits in
                # well under a millisecond).
                "OPTIONS": {
                    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                    "timeout": 30,
                    "transaction_mode": "IMMEDIATE",
                },
            }
        },
        MEDIA_URL="/media/",
        MEDIA_ROOT=f"{workdir}/media",
        CACHES={"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}},
        CELERY_TASK_ALWAYS_EAGER=True,
        LOGGING_CONFIG=None,
        GENLOOK={"API_KEY": FAST_KEY, "BASE_URL": "http://127.0.0.1:9/tryon/v1"},
        GENLOOK_SANDBOX={"API_KEYS": {FAST_KEY: {"credits": 10}, RATE_KEY: {"credits": 10}}},
    )
    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def point_at(server, api_key: str, limit: int, period: float) -> None:
    from django.conf import settings

    settings.GENLOOK = {
        "API_KEY": api_key,
        "BASE_URL": server.base_url,
        "PUBLIC_BASE_URL": "http://127.0.0.1:8000",
        "RATE_LIMIT_BACKEND": "local",
        "RATE_LIMIT": limit,
        "RATE_PERIOD": period,
        "SYNC_WORKERS": 8,
    }
    server.state.configure(rate_limit=limit, rate_window=period)


def seed_products(count: int) -> None:
    from decimal import Decimal

    from example_shop.shop.models import Product

    categories = ["tops", "bottoms", "dresses", "outerwear", "eyewear", "hats"]
    Product.objects.bulk_create(  # bulk_create sends no signals: nothing is enqueued
        [
            Product(
                name=f"Product {n}",
                slug=f"product-{n}",
                description=f"Description of product {n}.",
                price=Decimal("10.00"),
                category=categories[n % len(categories)],
                image=f"products/p{n}.png",
            )
            for n in range(count)
        ],
        batch_size=2000,
    )


def max_in_window(times: list[float], window: float) -> int:
    best, start = 0, 0
    for end, t in enumerate(times):
        while times[start] <= t - window:
            start += 1
        best = max(best, end - start + 1)
    return best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--products", type=int, default=10_000)
    parser.add_argument("--rate-products", type=int, default=2_400)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="genlook-bench-") as workdir:
        setup_django(workdir)
        return run(args)


def run(args: argparse.Namespace) -> int:

    from example_shop.shop.models import Product
    from genlook_django import disable_auto_sync
    from genlook_django.sandbox.testing import SandboxServer
    from genlook_django.services import catalog

    if not catalog.is_registered(Product):
        catalog.register(Product)
    ok = True
    with SandboxServer({FAST_KEY: None, RATE_KEY: None}) as server, disable_auto_sync():
        state = server.state
        print(f"genlook-django catalog sync benchmark; sandbox at {server.base_url}")

        # 1. Seed and sync once, with the limits out of the way.
        point_at(server, FAST_KEY, FAST, 60.0)
        started = time.monotonic()
        seed_products(args.products)
        seeded = time.monotonic() - started
        report = catalog.sync_catalog([Product])
        print(
            f"\n1. First sync of {args.products} products: {report.summary()}\n"
            f"   (created in the database in {seeded:.1f}s)"
        )
        ok &= report.counts["created"] == args.products

        # 2. Nothing changed: nothing to send.
        before = len(state.requests)
        started = time.monotonic()
        report = catalog.sync_catalog([Product])
        elapsed = time.monotonic() - started
        calls = len(state.requests) - before
        hit = calls == 0 and elapsed <= 10.0 and report.counts["unchanged"] == args.products
        ok &= hit
        print(
            f"\n2. Re-sync of {args.products} unchanged products:\n"
            f"   API calls      {calls:>8}      target 0\n"
            f"   time           {elapsed:>7.2f}s      target <= 10 s\n"
            f"   {'OK' if hit else 'MISSED'}"
        )

        # 3. A forced sync at the real limit's shape (600 per 10 s on both sides).
        point_at(server, RATE_KEY, RATE_LIMIT, RATE_WINDOW)
        state.limiter.reset()
        pks = list(
            Product.objects.order_by("pk").values_list("pk", flat=True)[: args.rate_products]
        )
        before = len(state.requests)
        started = time.monotonic()
        report = catalog.sync_catalog([Product], pks=pks, force=True)
        elapsed = time.monotonic() - started
        sent = [r for r in state.requests[before:] if r.method == "POST"]
        times = sorted(r.at for r in sent)
        throttled = sum(1 for r in sent if r.status == 429)
        allowed = RATE_LIMIT / RATE_WINDOW
        # Steady state: how soon each of the limit's slots is used again. Request i+LIMIT
        # may leave no sooner than one window after request i; at the full allowed rate it
        # leaves exactly then. (The first window's burst is free, so requests/elapsed
        # would overstate it.)
        turnarounds = [times[i + RATE_LIMIT] - times[i] for i in range(len(times) - RATE_LIMIT)]
        turnaround = sum(turnarounds) / len(turnarounds) if turnarounds else float("inf")
        steady = RATE_LIMIT / turnaround
        ratio = steady / allowed
        busiest = max_in_window(times, RATE_WINDOW)
        hit = throttled == 0 and ratio >= 0.95 and report.counts["updated"] == len(pks)
        ok &= hit
        print(
            f"\n3. Forced sync of {len(pks)} products, sandbox and client at "
            f"{RATE_LIMIT} per {RATE_WINDOW:g}s ({allowed:.0f}/s allowed):\n"
            f"   {report.summary()}\n"
            f"   requests sent  {len(sent):>8}\n"
            f"   answers 429    {throttled:>8}      target 0\n"
            f"   slot reuse     {turnaround:>7.2f}s      every {RATE_LIMIT} requests "
            f"(bound {RATE_WINDOW:g}s)\n"
            f"   steady rate    {steady:>8.1f}/s    {ratio:.1%} of the allowed rate, "
            "target >= 95%\n"
            f"   busiest {RATE_WINDOW:g}s    {busiest:>8}      bound {RATE_LIMIT}\n"
            f"   wall time      {elapsed:>7.1f}s\n"
            f"   {'OK' if hit else 'MISSED'}"
        )
    print("\nAll targets met." if ok else "\nSome targets were missed.")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
