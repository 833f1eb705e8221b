"""Throughput of the webhook receiver beside a bare Django JSON view, on one server stack.

    .venv/bin/python bench/bench_webhook_receiver.py [--requests 4000] [--rounds 4]
        [--clients 8] [--server gunicorn|django] [--worker gthread|sync] [--threads 8]
        [--signed]

One WSGI server on 127.0.0.1 serves a small project (SQLite in WAL mode with persistent
connections, the usual middleware stack, DEBUG off): gunicorn with one worker (gthread by
default; ``gunicorn`` is in the dev extra) or Django's own threaded WSGI server. A pool of
client threads, each with one keep-alive connection, POSTs:

- to the receiver: valid deliveries (the classic payload) for distinct try-ons, each with
  its own token, so each is stored, authenticated, parsed, deduplicated and accepted (202);
- to a bare view on the same server: the same bodies, parsed and answered
  ``{"status": "ok"}`` without touching the database.

The receiver is measured twice, each time on a fresh server, beside its own bare run:

- "with enqueue": ``process_webhook.delay()`` publishes to a Celery memory broker that
  nothing consumes (``CELERY_TASK_ALWAYS_EAGER=False``): what a worker-backed deployment
  pays per delivery, Celery's own publishing included;
- "acceptance only": the publish is replaced by a no-op, leaving the receiver's own work
  (store, authenticate, parse, deduplicate).

Bare and receiver runs alternate in ``--rounds`` rounds, so background load hits both
alike; each figure is the median of its rounds. Goal: the receiver keeps at least half the
bare view's throughput (>= 0.5x). Bounded (--requests per endpoint, at most 50000), and
loopback only.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import types
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SECRET = "whsec_bench"
PG_HOST, PG_PORT = "127.0.0.1", "5432"
PG_USER = os.environ.get("BENCH_PG_USER", "postgres")
GOAL = 0.5
WARMUP = 200


# -- The project under test --------------------------------------------------------------------


def bare(request, token: str):
    from django.http import JsonResponse

    if request.method != "POST":
        return JsonResponse({"status": "rejected"}, status=405)
    json.loads(request.body)
    return JsonResponse({"status": "ok"})


def setup_django(workdir: str, signed: bool) -> None:
    import django
    from django.conf import settings
    from django.urls import include, path
    from django.views.decorators.csrf import csrf_exempt

    settings.configure(
        DEBUG=False,
        SECRET_KEY="bench-only",
        ALLOWED_HOSTS=["*"],
        ROOT_URLCONF="bench_webhook_urls",
        USE_TZ=True,
        INSTALLED_APPS=[
            "django.contrib.contenttypes",
            "django.contrib.auth",
            "django.contrib.sessions",
            "django.contrib.messages",
            "rest_framework",
            "genlook_django",
            "example_shop.shop",
        ],
        MIDDLEWARE=[
            "django.middleware.security.SecurityMiddleware",
            "django.contrib.sessions.middleware.SessionMiddleware",
            "django.middleware.common.CommonMiddleware",
            "django.middleware.csrf.CsrfViewMiddleware",
            "django.contrib.auth.middleware.AuthenticationMiddleware",
            "django.contrib.messages.middleware.MessageMiddleware",
        ],
        TEMPLATES=[
            {"BACKEND": "django.template.backends.django.DjangoTemplates", "APP_DIRS": True}
        ],
        DATABASES={"default": database(workdir)},
        CACHES={"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}},
        # Enqueued, not run: nothing consumes this queue (BENCH_BROKER, see --broker).
        CELERY_TASK_ALWAYS_EAGER=False,
        CELERY_BROKER_URL=os.environ.get("BENCH_BROKER", "memory://"),
        CELERY_TASK_DEFAULT_QUEUE=os.environ.get("BENCH_QUEUE", "genlook-bench"),
        LOGGING_CONFIG=None,
        GENLOOK={
            "API_KEY": "gk_bench_webhooks",
            "BASE_URL": "http://127.0.0.1:9/tryon/v1",
            "PUBLIC_BASE_URL": "http://127.0.0.1",
            "WEBHOOKS": True,
            "WEBHOOK_SIGNING_SECRETS": [SECRET] if signed else [],
        },
    )
    django.setup()
    from celery import current_app

    current_app.config_from_object("django.conf:settings", namespace="CELERY")
    urls = types.ModuleType("bench_webhook_urls")
    urls.urlpatterns = [  # type: ignore[attr-defined]
        path("genlook/", include("genlook_django.urls")),
        path("bare/<str:token>/", csrf_exempt(bare)),
    ]
    sys.modules["bench_webhook_urls"] = urls


def database(workdir: str) -> dict:
    """SQLite in WAL mode, or the PostgreSQL database ``main`` created (BENCH_PG_NAME)."""
    if os.environ.get("BENCH_PG_NAME"):
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": os.environ["BENCH_PG_NAME"],
            "HOST": PG_HOST,
            "PORT": PG_PORT,
            "USER": PG_USER,
            "CONN_MAX_AGE": 600,  # persistent connections, as in production
        }
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": f"{workdir}/bench.db",
        "CONN_MAX_AGE": 600,
        "OPTIONS": {
            "timeout": 30,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        },
    }


@contextlib.contextmanager
def postgres_database():
    """A fresh PostgreSQL database for the run, dropped afterwards (its name in the env)."""
    import psycopg

    name = f"genlook_bench_{os.getpid()}"
    dsn = f"host={PG_HOST} port={PG_PORT} user={PG_USER} dbname=postgres"
    with psycopg.connect(dsn, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    os.environ["BENCH_PG_NAME"] = name
    try:
        yield name
    finally:
        from django.db import connections

        connections.close_all()
        with psycopg.connect(dsn, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def seed(count: int) -> list[tuple[str, str]]:
    """``count`` pending try-ons, each with its webhook token: [(token, generation id)]."""
    import secrets

    from django.contrib.contenttypes.models import ContentType
    from django.core.management import call_command
    from django.db import transaction

    from example_shop.shop.models import Product
    from genlook_django.models import TryOn
    from genlook_django.services.webhooks import hash_token

    call_command("migrate", verbosity=0)
    content_type = ContentType.objects.get_for_model(Product)
    pairs = [(secrets.token_urlsafe(32), f"cm{index:023d}") for index in range(count)]
    with transaction.atomic():
        TryOn.objects.bulk_create(
            (
                TryOn(
                    shopper_key=f"a_{index}",
                    content_type=content_type,
                    object_id="1",
                    state=TryOn.State.PENDING,
                    generation_id=generation_id,
                    consent_version="1",
                    webhook_token_hash=hash_token(token),
                )
                for index, (token, generation_id) in enumerate(pairs)
            ),
            batch_size=500,
        )
    return pairs


# -- Serving (a child process) -----------------------------------------------------------------


def serve(options: argparse.Namespace) -> None:
    workdir, port = options.serve[0], int(options.serve[1])
    setup_django(workdir, options.signed)
    if options.no_publish:
        from genlook_django.services.webhook_dispatch import dispatcher

        dispatcher._publish = lambda delivery_ids: None
    from django.core.wsgi import get_wsgi_application

    application = get_wsgi_application()
    if options.server == "django":
        from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler

        class Quiet(WSGIRequestHandler):
            def log_message(self, *args) -> None:
                pass

        class NoDelay(ThreadedWSGIServer):
            # Headers and body go out in two writes: without TCP_NODELAY a keep-alive
            # client waits for the delayed ACK (40 ms) on every response.
            def get_request(self):
                sock, address = super().get_request()
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                return sock, address

        httpd = NoDelay(("127.0.0.1", port), Quiet)
        httpd.daemon_threads = True
        httpd.set_app(application)
        httpd.serve_forever()
        return
    from gunicorn.app.base import BaseApplication

    class Server(BaseApplication):
        def load_config(self) -> None:
            for key, value in {
                "bind": f"127.0.0.1:{port}",
                "workers": 1,
                "worker_class": options.worker,
                "threads": options.threads,
                "keepalive": 30,
                "backlog": 256,
                "accesslog": None,
                "loglevel": "warning",
            }.items():
                self.cfg.set(key, value)

        def load(self):
            return application

    Server().run()


# -- Driving -----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_up(port: int, server: subprocess.Popen, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit("the server exited")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"the server did not come up on port {port}")


Job = tuple[str, bytes, dict[str, str]]


def drive(port: int, jobs: list[Job], clients: int) -> tuple[float, list[float], dict[int, int]]:
    """POST every job once, ``clients`` at a time: (seconds, latencies, statuses)."""
    local = threading.local()
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    lock = threading.Lock()
    connections: list[http.client.HTTPConnection] = []

    def send(job: Job) -> None:
        path, body, headers = job
        if not hasattr(local, "conn"):
            local.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            with lock:
                connections.append(local.conn)
        started = time.perf_counter()
        local.conn.request("POST", path, body, {"Content-Type": "application/json", **headers})
        response = local.conn.getresponse()
        response.read()
        elapsed = time.perf_counter() - started
        with lock:
            latencies.append(elapsed)
            statuses[response.status] = statuses.get(response.status, 0) + 1

    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(send, jobs))
    seconds = time.perf_counter() - started
    for conn in connections:
        conn.close()
    return seconds, latencies, statuses


def jobs_for(prefix: str, pairs, signed: bool) -> list[Job]:
    from genlook_django.services.webhook_signatures import signature_header

    jobs = []
    for token, generation_id in pairs:
        body = json.dumps(
            {
                "id": generation_id,
                "status": "completed",
                "result_image": f"https://cdn.genlook.app/results/{generation_id}.jpg",
                "created_at": "2026-05-20T10:30:00.000Z",
                "completed_at": "2026-05-20T10:30:08.000Z",
            }
        ).encode()
        headers = {"Genlook-Signature": signature_header(body, SECRET)} if signed else {}
        jobs.append((f"/{prefix}/{token}/", body, headers))
    return jobs


class Series:
    """Rates and latencies of one endpoint over the rounds."""

    def __init__(self) -> None:
        self.rates: list[float] = []
        self.latencies: list[float] = []

    def add(self, seconds: float, latencies: list[float]) -> None:
        self.rates.append(len(latencies) / seconds)
        self.latencies.extend(latencies)

    @property
    def rate(self) -> float:
        return statistics.median(self.rates)

    def line(self, name: str) -> str:
        ordered = sorted(self.latencies)
        p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
        return (
            f"  {name:<28} {self.rate:7.0f} req/s   p50 {statistics.median(ordered) * 1000:6.2f}"
            f" ms   p99 {p99 * 1000:6.2f} ms"
        )


def measure(
    args: argparse.Namespace, workdir: str, pairs: list[tuple[str, str]], no_publish: bool
) -> tuple[Series, Series, list[float]]:
    """One server: warm both endpoints, then alternate bare and receiver runs."""
    port = free_port()
    command = [sys.executable, __file__, "--serve", workdir, str(port)]
    command += ["--server", args.server, "--worker", args.worker, "--threads", str(args.threads)]
    command += ["--signed"] if args.signed else []
    command += ["--no-publish"] if no_publish else []
    server = subprocess.Popen(command)  # noqa: S603
    bare_series, hook_series, ratios = Series(), Series(), []
    try:
        wait_up(port, server)
        warm, measured = pairs[:WARMUP], pairs[WARMUP:]
        drive(port, jobs_for("genlook/webhooks", warm, args.signed), args.clients)
        drive(port, jobs_for("bare", warm, args.signed), args.clients)
        size = len(measured) // args.rounds
        for number in range(args.rounds):
            chunk = measured[number * size : (number + 1) * size]
            seconds, latencies, statuses = drive(
                port, jobs_for("bare", chunk, args.signed), args.clients
            )
            assert statuses == {200: len(chunk)}, statuses
            bare_series.add(seconds, latencies)
            seconds, latencies, statuses = drive(
                port, jobs_for("genlook/webhooks", chunk, args.signed), args.clients
            )
            assert statuses == {202: len(chunk)}, statuses
            hook_series.add(seconds, latencies)
            ratios.append(hook_series.rates[-1] / bare_series.rates[-1])
    finally:
        server.terminate()
        server.wait(timeout=30)
    return bare_series, hook_series, ratios


def purge_queue() -> None:
    """Delete the run's queue at the broker (nothing consumed it)."""
    if os.environ["BENCH_BROKER"].startswith("memory://"):
        return
    from celery import current_app

    with current_app.connection_for_write() as connection:
        queue = current_app.amqp.queues[os.environ["BENCH_QUEUE"]].bind(connection.channel())
        queue.purge()
        queue.delete()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=4000, help="per endpoint and mode")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--server", choices=["gunicorn", "django"], default=None)
    parser.add_argument("--worker", choices=["gthread", "sync"], default="gthread")
    parser.add_argument("--threads", type=int, default=8, help="gunicorn gthread threads")
    parser.add_argument("--signed", action="store_true", help="require and send signatures")
    parser.add_argument(
        "--database",
        choices=["sqlite", "postgres"],
        default="sqlite",
        help="postgres: a fresh database on 127.0.0.1:5432, as a production shop runs",
    )
    parser.add_argument(
        "--broker",
        default="memory://",
        help="where the enqueue mode publishes, e.g. redis://127.0.0.1:6379/12 (a queue of "
        "its own, deleted afterwards); default: Celery's in-process memory broker",
    )
    parser.add_argument("--serve", nargs=2, metavar=("WORKDIR", "PORT"), help=argparse.SUPPRESS)
    parser.add_argument("--no-publish", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.server is None:
        try:
            import gunicorn  # noqa: F401

            args.server = "gunicorn"
        except ImportError:
            args.server = "django"
    os.environ.setdefault("BENCH_BROKER", args.broker)
    os.environ.setdefault("BENCH_QUEUE", f"genlook-bench-{os.getpid()}")
    if args.serve:
        serve(args)
        return

    count = max(100 * args.rounds, min(args.requests, 50_000))
    stack = args.server
    if args.server == "gunicorn":
        stack += f" (1 {args.worker} worker" + (
            f" x {args.threads} threads)" if args.worker == "gthread" else ")"
        )
    print(
        f"{count} POSTs per endpoint and mode in {args.rounds} alternating rounds, "
        f"{args.clients} keep-alive clients, {stack}, "
        f"{'PostgreSQL' if args.database == 'postgres' else 'SQLite (WAL)'}, "
        f"{'signed' if args.signed else 'token only'}, publishing to {args.broker}"
    )
    results = {}
    with contextlib.ExitStack() as stack_:
        if args.database == "postgres":
            stack_.enter_context(postgres_database())
        workdir = stack_.enter_context(tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_DIR")))
        setup_django(workdir, args.signed)
        pairs = seed(2 * (count + WARMUP))
        for mode, no_publish, chunk in (
            ("with enqueue", False, pairs[: count + WARMUP]),
            ("acceptance only", True, pairs[count + WARMUP :]),
        ):
            bare_series, hook_series, ratios = measure(args, workdir, chunk, no_publish)
            print(bare_series.line(f"bare view ({mode} server)"))
            print(hook_series.line(f"receiver, {mode}"))
            results[mode] = statistics.median(ratios)

        from genlook_django.models import WebhookDelivery

        stored = WebhookDelivery.objects.filter(verdict="accepted", outcome="pending").count()
        sent = 2 * (WARMUP + count // args.rounds * args.rounds)
        assert stored == sent, (stored, sent)  # every one stored and left queued
        purge_queue()
    for mode, ratio in results.items():
        verdict = "meets" if ratio >= GOAL else "MISSES"
        print(f"  ratio, {mode:<20} {ratio:5.2f}x   ({verdict} the goal of >= {GOAL}x)")


if __name__ == "__main__":
    main()
