"""P4: 50 concurrent shoppers, 8-second generations, on real services.

    .venv/bin/python bench/bench_concurrent_shoppers.py [--shoppers 50] [--rounds 2]
        [--generation-seconds 8] [--web-workers 2] [--web-threads 64] [--storage s3|local]
        [--rate-limit 100] [--wait 10]

The shop runs as in production (``tests/integration/stack.py``): gunicorn (``gthread``:
``--web-workers`` processes x ``--web-threads`` threads, the layout docs/deployment.md
recommends), a Celery worker (threads pool) on Redis, PostgreSQL, (optionally S3, moto's
server) and the sandbox as Genlook, each in its own process, configured by the
environment only. Needs PostgreSQL and Redis on 127.0.0.1.

The real request budget: the sandbox and the client both at ``--rate-limit`` requests per
minute (100, Genlook's default). 50 shoppers making 2 try-ons each need 150 requests (50
uploads, 100 creates): the last try-ons wait for the budget, and that wait is counted
(received -> create sent), not hidden.

Every shopper (a thread with its own session; they arrive over ``--ramp`` seconds, shorter
than a generation, so that all their try-ons are in flight together) does what the widget
does: ``GET /me/`` (CSRF cookie), ``POST /tryons/`` with the photo the widget sends (a
phone photo downscaled in the browser to its default long edge, 2048 px, JPEG quality
0.9: about 0.5 MB), status with ``?wait=`` (held by the server until the status changes)
until completed, the result image; then ``--rounds - 1`` more try-ons with the last photo.

Reported: every storefront request's latency as the shopper saw it, a waiting status
request counted without the time the server held it on purpose (its ``Server-Timing:
wait;dur=``), p50/p95/p99/max, all requests and per endpoint (goal p99 <= 100 ms);
gunicorn's own durations; how soon a stored result reached its shopper; the wait for the
request budget; that no web thread is held by a generation (a request is held at most
its wait); the sandbox's count of requests per try-on and of answers 429 (0). Exit status
1 if a goal is missed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from tests.integration.stack import (  # noqa: E402
    Shopper,
    Stack,
    StackConfig,
    add_product_in_admin,
)

P99_GOAL = 0.100
WIDGET_EDGE = 2048  # the widget's default data-max-edge: 2 x PHOTO_LONG_EDGE (1024)
SKIPPED = 3  # exit status when the services are missing (run_all reports it as skipped)


def up(port: int) -> bool:
    import socket

    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


STOREFRONT = "/genlook/api/"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


class Run:
    def __init__(self, stack: Stack, product: str, photo: bytes, args) -> None:
        self.stack, self.product, self.photo, self.args = stack, product, photo, args
        self.start_at = 0.0  # perf_counter time the first shopper starts
        # (label, start, end, held): perf_counter; held = seconds the server waited on purpose
        self.requests: list[tuple[str, float, float, float]] = []
        self.seen_at: dict[str, float] = {}  # try-on id -> epoch its shopper saw it final
        self.completed = 0
        self.failures: list[str] = []
        self.lock = threading.Lock()

    def shopper(self, index: int) -> None:
        shopper = TimedShopper(self.stack.web_url, self)
        try:
            # Shoppers arrive one after the other over --ramp seconds (all at once with 0);
            # with a ramp shorter than a generation, every try-on is in flight together.
            delay = self.start_at + index * self.args.ramp / self.args.shoppers
            time.sleep(max(0.0, delay - time.perf_counter()))
            shopper.me()
            for round_ in range(self.args.rounds):
                response = (
                    shopper.start(self.product, self.photo)
                    if round_ == 0
                    else shopper.start(self.product, reuse=True)
                )
                if response.status_code != 202:
                    raise RuntimeError(f"start: {response.status_code} {response.text[:200]}")
                body = shopper.follow(response.json(), timeout=300, wait=self.args.wait)
                with self.lock:
                    self.seen_at[body["id"]] = time.time()
                if body["status"] != "completed":
                    raise RuntimeError(f"try-on {body['status']}: {body.get('error')}")
                shopper.result(body)
                with self.lock:
                    self.completed += 1
        except Exception as exc:
            with self.lock:
                self.failures.append(f"{type(exc).__name__}: {exc}")


class TimedShopper(Shopper):
    def __init__(self, web_url: str, run: Run) -> None:
        super().__init__(web_url)
        self.run = run

    def _timed(self, label, method, path, **kwargs):
        started = time.perf_counter()
        response = self.session.request(method, self.web_url + path, timeout=60, **kwargs)
        ended = time.perf_counter()
        held = 0.0
        timing = response.headers.get("Server-Timing", "")
        if timing.startswith("wait;dur="):
            held = float(timing.split("=", 1)[1]) / 1000
        with self.run.lock:
            self.run.requests.append((label, started, ended, held))
        return response


def widget_photo() -> bytes:
    """A photo as the widget uploads it (``static/genlook/tryon.js``): a phone photo (P1's,
    12 MP) turned upright and downscaled in the browser to the widget's default long edge
    (``data-max-edge``: 2 x PHOTO_LONG_EDGE = 2048 px), re-encoded as JPEG at quality 0.9."""
    import io

    from bench_photo_pipeline import make_phone_jpeg
    from PIL import Image, ImageOps

    image = ImageOps.exif_transpose(Image.open(io.BytesIO(make_phone_jpeg())))
    image.thumbnail((WIDGET_EDGE, WIDGET_EDGE), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90)
    return out.getvalue()


def warm_up(stack: Stack, slots: int) -> None:
    """What a shop that has been up for a while has: every web thread has served requests
    and holds its database connection (CONN_MAX_AGE)."""

    def hit() -> None:
        shopper = Shopper(stack.web_url)
        for _ in range(5):
            shopper.me()

    threads = [threading.Thread(target=hit) for _ in range(slots * 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def in_flight_generations(stack: Stack) -> tuple[int, list[tuple[float, float]]]:
    """The most try-ons between received and finished at once, and the intervals (epoch)."""
    rows = stack.query(
        "SELECT extract(epoch FROM created_at) AS a, extract(epoch FROM finished_at) AS b "
        "FROM genlook_tryon WHERE finished_at IS NOT NULL"
    )
    intervals = [(float(row["a"]), float(row["b"])) for row in rows]
    events = sorted([(a, 1) for a, _ in intervals] + [(b, -1) for _, b in intervals])
    peak = current = 0
    for _, step in events:
        current += step
        peak = max(peak, current)
    return peak, intervals


class ConnectionCount:
    """The shop's PostgreSQL connections (web and worker), sampled every 0.5 s."""

    def __init__(self, stack: Stack) -> None:
        self.stack, self.peak, self.done = stack, 0, threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        import psycopg

        try:
            with psycopg.connect(self.stack.database_url, autocommit=True) as connection:
                while not self.done.wait(0.5):
                    (count,) = connection.execute(
                        "SELECT count(*) FROM pg_stat_activity WHERE datname = "
                        "current_database() AND pid <> pg_backend_pid()"
                    ).fetchone()
                    self.peak = max(self.peak, int(count))
        except Exception as exc:  # a diagnostic only
            print(f"  (connection count unavailable: {exc})")

    def stop(self) -> None:
        self.done.set()
        self.thread.join(timeout=5)


def try_on_rows(stack: Stack) -> list[dict]:
    """Each try-on's received, create sent and finished instants (epoch), by public id."""
    return stack.query(
        "SELECT public_id::text AS id, generation_id, "
        "extract(epoch FROM created_at) AS received, "
        "extract(epoch FROM create_sent_at) AS sent, "
        "extract(epoch FROM finished_at) AS finished FROM genlook_tryon"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shoppers", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=2, help="try-ons per shopper")
    parser.add_argument("--generation-seconds", type=float, default=8.0)
    parser.add_argument("--web-workers", type=int, default=2)
    parser.add_argument(
        "--web-threads",
        type=int,
        default=64,
        help="per worker: at least the shoppers waiting at once (docs/deployment.md)",
    )
    parser.add_argument("--worker-concurrency", type=int, default=64)
    parser.add_argument(
        "--db-pool",
        type=int,
        default=72,
        help="PostgreSQL connections per process, from a pool (DATABASE_POOL_SIZE); "
        "0: a connection per thread, as before",
    )
    parser.add_argument(
        "--rate-limit", type=int, default=100, help="requests per minute, sandbox and client"
    )
    parser.add_argument(
        "--wait", type=float, default=10.0, help="?wait= of the status requests (0: poll)"
    )
    parser.add_argument(
        "--ramp", type=float, default=7.0, help="seconds over which shoppers arrive (0: at once)"
    )
    parser.add_argument(
        "--storage",
        choices=["s3", "local"],
        default="local",
        help="local: files on disk (default); s3: moto's server, an emulator sharing the CPU",
    )
    parser.add_argument("--webhooks", action="store_true", help="GENLOOK WEBHOOKS on too")
    args = parser.parse_args()

    config = StackConfig(
        broker="redis",
        storage=args.storage,
        generation_seconds=args.generation_seconds,
        web_workers=args.web_workers,
        web_threads=args.web_threads,
        worker_concurrency=args.worker_concurrency,
        rate_limit=args.rate_limit,
        rate_period=60.0,
        webhooks=args.webhooks,
        lifetime=900,
        extra_env={"DATABASE_POOL_SIZE": str(args.db_pool)},
    )
    photo = widget_photo()
    slots = args.web_workers * args.web_threads
    missing = [name for name, port in (("PostgreSQL", 5432), ("Redis", 6379)) if not up(port)]
    if missing:
        print(f"P4 skipped: {' and '.join(missing)} not running on 127.0.0.1 (needs both).")
        return SKIPPED
    try:
        stack = Stack(config).start()
    except Exception as exc:
        print(f"P4 could not start the stack: {exc}")
        return 1
    try:
        print(
            f"P4 concurrent shoppers: {args.shoppers} shoppers arriving over {args.ramp:g} s, "
            f"{args.rounds} try-ons each, generations of {args.generation_seconds:g} s, "
            f"request budget {args.rate_limit}/min (sandbox and client); photos "
            f"{len(photo) / 1000:.0f} kB JPEG, {WIDGET_EDGE} px long edge (the widget's); "
            f"status ?wait={args.wait:g}; gunicorn {args.web_workers} workers x "
            f"{args.web_threads} threads = {slots} web threads; Celery worker on Redis "
            f"(threads, {args.worker_concurrency}); PostgreSQL; storage {args.storage}; "
            f"stack up in {stack.startup_seconds:.1f}s."
        )
        product = add_product_in_admin(stack, "Bench Tee", "bench-tee")
        ref = f"shop.product:{product['product_id']}"
        warm_up(stack, 16)
        connections = ConnectionCount(stack)
        before = stack.sandbox_stats()["requests"]["total"]
        throttled_before = stack.throttled()
        access_before = len(stack.access_log())
        cpu_before = stack.cpu_seconds()
        self_before = time.process_time()
        run = Run(stack, ref, photo, args)
        threads = [threading.Thread(target=run.shopper, args=(i,)) for i in range(args.shoppers)]
        wall = run.start_at = time.perf_counter() + 0.5
        epoch_to_perf = wall - time.time()  # database times (epoch) on the perf_counter clock
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        wall = time.perf_counter() - wall
        connections.stop()
        stats = stack.sandbox_stats()
        access = [e for e in stack.access_log()[access_before:] if STOREFRONT in e[0]]
        peak, intervals = in_flight_generations(stack)
        rows = try_on_rows(stack)
        started_at = {
            g["generationId"]: datetime.fromisoformat(g["createdAt"]).timestamp()
            for g in stack.sandbox_generations()
        }
        throttled = stack.throttled() - throttled_before
        cpu = {name: used - cpu_before.get(name, 0.0) for name, used in stack.cpu_seconds().items()}
        cpu["shoppers (this process)"] = time.process_time() - self_before
    finally:
        stack.stop()

    # Storefront latency, as shoppers saw it; a waiting request without its server-side wait.
    latencies = [end - start - held for _, start, end, held in run.requests]
    by_label: dict[str, list[float]] = {}
    for label, start, end, held in run.requests:
        by_label.setdefault(label, []).append(end - start - held)
    p99 = percentile(latencies, 0.99)
    server = [millis / 1000 for _, _, millis in access]
    longest = max(server) if server else 0.0
    holds = [held for *_, held in run.requests if held]
    longest_net = max(latencies) if latencies else 0.0

    # Storefront requests in flight while at least one generation ran (client side),
    # sampled every 10 ms, not counting the waiting ones.
    busy = [(a + epoch_to_perf, b + epoch_to_perf) for a, b in intervals if b > a]
    quick = sorted((s0, e0) for _, s0, e0, held in run.requests if not held)
    samples = []
    if busy:
        t, end = min(a for a, _ in busy), max(b for _, b in busy)
        while t < end:
            if any(a <= t < b for a, b in busy):
                samples.append(sum(1 for s0, e0 in quick if s0 <= t < e0))
            t += 0.01
    requests_total = stats["requests"]["total"] - before
    per_try_on = requests_total / max(1, run.completed)

    # The wait for the request budget (received -> the generation created at Genlook),
    # and result stored -> its shopper saw it.
    queued = sorted(
        started_at[r["generation_id"]] - float(r["received"])
        for r in rows
        if r["generation_id"] in started_at
    )
    seen = sorted(
        run.seen_at[r["id"]] - float(r["finished"])
        for r in rows
        if r["finished"] and r["id"] in run.seen_at
    )

    def ms(value: float) -> str:
        return f"{value * 1000:6.1f} ms"

    print(f"  try-ons completed {run.completed}/{args.shoppers * args.rounds} in {wall:.1f}s")
    print(
        f"  storefront requests (as shoppers saw them, a status request without the time "
        f"the server held it): {len(latencies)}"
    )
    print(
        f"    all        p50 {ms(statistics.median(latencies))}  p95 "
        f"{ms(percentile(latencies, 0.95))}  p99 {ms(p99)}  max {ms(max(latencies))}"
        f"   anchor: p99 <= {P99_GOAL * 1000:g} ms  {'OK' if p99 <= P99_GOAL else 'MISSED'}"
    )
    for label in ("me", "start", "status", "result"):
        values = by_label.get(label, [])
        if values:
            print(
                f"    {label:<10} p50 {ms(statistics.median(values))}  p95 "
                f"{ms(percentile(values, 0.95))}  p99 {ms(percentile(values, 0.99))}  "
                f"max {ms(max(values))}  ({len(values)})"
            )
    if server:
        print(
            f"  gunicorn's own durations (waits included): p50 {ms(statistics.median(server))}"
            f"  p99 {ms(percentile(server, 0.99))}  longest {longest:.2f} s"
        )
    if seen:
        print(
            f"  result stored -> its shopper saw it: p50 {statistics.median(seen):.2f} s, "
            f"p95 {percentile(seen, 0.95):.2f} s, max {max(seen):.2f} s"
        )
    if queued:
        waited = sum(1 for q in queued if q > 1.0)
        print(
            f"  received -> generation created at Genlook (the photo upload, the request "
            f"budget): p50 "
            f"{statistics.median(queued):.2f} s, p95 {percentile(queued, 0.95):.2f} s, max "
            f"{max(queued):.1f} s; {waited} of {len(queued)} try-ons waited over 1 s for "
            f"the budget of {args.rate_limit}/min"
        )
    # A waiting request holds a web thread for its wait, never for a generation: every
    # request is either quick or held on purpose, at most --wait (+ a margin).
    bounded = (not holds or max(holds) <= args.wait + 1.0) and (
        longest_net < args.generation_seconds / 2
    )
    print(
        f"  no web thread held by a generation: longest hold {max(holds, default=0):.2f} s "
        f"(bound: ?wait={args.wait:g}), longest request net of it {longest_net:.3f} s vs "
        f"{args.generation_seconds:g} s generations; {peak} try-ons in flight at once on "
        f"{slots} web threads   {'OK' if bounded else 'MISSED'}"
    )
    if samples:
        print(
            f"    non-waiting storefront requests in flight while generations ran: mean "
            f"{statistics.fmean(samples):.2f}, max {max(samples)}"
        )
    print(f"  PostgreSQL connections of the shop (web and worker), peak: {connections.peak}")
    print(
        f"  Genlook requests per completed try-on (P2 on real services): {per_try_on:.2f}"
        f"   anchor: <= {args.rounds + 1}/{args.rounds} = "
        f"{(args.rounds + 1) / args.rounds:.2f} (1 upload per shopper + 1 /try-on/sync each)"
    )
    verdict = "OK" if not throttled else "MISSED"
    print(f"  answers 429 at the sandbox: {throttled}   anchor: 0  {verdict}")
    print(
        f"  CPU seconds used during the run ({wall:.0f}s on {os.cpu_count()} cores): "
        + ", ".join(f"{name} {used:.1f}" for name, used in cpu.items())
    )
    for failure in run.failures[:5]:
        print(f"  failure: {failure}")
    ok = p99 <= P99_GOAL and bounded and not throttled and not run.failures
    print("P4 goals met" if ok else "P4 GOALS MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
