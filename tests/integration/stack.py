"""A whole deployment of the example shop on real services, in subprocesses.

``Stack`` starts what a production shop runs, configured by the environment only (the
production settings of ``example_shop/settings.py``, ``DJANGO_DEBUG=0``, no sandbox app):

- S3: moto's server mode (``python -m moto.server``), two buckets (public media, private);
- Genlook: the sandbox, standalone (``manage.py genlook_sandbox``), its own process;
- PostgreSQL: a fresh database ``genlook_it_<hex>``, migrated, dropped at the end;
- the web: gunicorn (``gthread`` workers) serving ``example_shop.wsgi``;
- a Celery worker (threads pool) on Redis or RabbitMQ, on a queue of its own;
- Redis: the shared request budget and the cache (``REDIS_URL``).

Used by ``tests/integration`` (one stack per broker) and by the benchmarks in ``bench/``
(P4). Every process is started with a bounded lifetime (``timeout``) in its own process
group, and ``stop()`` ends the group. Nothing here needs pytest.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests

ROOT = Path(__file__).resolve().parents[2]
POSTGRES_URL = os.environ.get(
    "GENLOOK_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
REDIS_BROKER_URL = os.environ.get("GENLOOK_TEST_REDIS_BROKER_URL", "redis://127.0.0.1:6379/14")
REDIS_CACHE_URL = os.environ.get("GENLOOK_TEST_REDIS_CACHE_URL", "redis://127.0.0.1:6379/13")
RABBITMQ_URL = os.environ.get("GENLOOK_TEST_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672//")
MEDIA_BUCKET, PRIVATE_BUCKET = "shop-media", "shop-private"
ADMIN_USER, ADMIN_PASSWORD = "admin", "integration-admin-password"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for(
    predicate: Callable[[], Any],
    *,
    timeout: float,
    interval: float = 0.1,
    what: str = "a condition",
    diagnostics: Callable[[], str] | None = None,
) -> Any:
    """Call ``predicate`` until it returns something truthy; its value. TimeoutError with
    ``diagnostics()`` (e.g. the tails of the logs) after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    last_error: BaseException | None = None
    while True:
        try:
            value = predicate()
            if value:
                return value
        except Exception as exc:  # not ready yet (connection refused...)
            last_error = exc
        if time.monotonic() > deadline:
            detail = f" (last error: {last_error!r})" if last_error else ""
            extra = ("\n" + diagnostics()) if diagnostics else ""
            raise TimeoutError(f"Timed out after {timeout:g}s waiting for {what}{detail}{extra}")
        time.sleep(interval)


class Service:
    """One subprocess in its own process group, its output in a log file, ended by
    ``timeout`` after ``lifetime`` seconds even if nobody stops it."""

    def __init__(
        self,
        name: str,
        argv: list[str],
        *,
        env: dict[str, str],
        log_dir: Path,
        lifetime: float,
    ) -> None:
        self.name = name
        self.log_path = log_dir / f"{name}.log"
        if shutil.which("timeout"):
            argv = ["timeout", "-k", "5", str(int(lifetime)), *argv]
        self._log = open(self.log_path, "wb")  # noqa: SIM115  (closed in stop())
        self.popen = subprocess.Popen(
            argv,
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    @property
    def alive(self) -> bool:
        return self.popen.poll() is None

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def tail(self, lines: int = 30) -> str:
        text = self.log().splitlines()[-lines:]
        state = "running" if self.alive else f"exited {self.popen.returncode}"
        return f"--- {self.name} ({state}), last {len(text)} lines ---\n" + "\n".join(text)

    def stop(self, grace: float = 8.0) -> None:
        if self.alive:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.popen.pid, signal.SIGTERM)
            try:
                self.popen.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait(timeout=5)
        else:  # the group may still hold children of a process that exited
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.popen.pid, signal.SIGKILL)
        self._log.close()


@dataclass
class StackConfig:
    broker: str = "redis"  # or "rabbitmq"
    storage: str = "s3"  # or "local" (files under the work directory)
    generation_seconds: float = 1.0
    sync_wait_seconds: float = 90.0
    web_workers: int = 1
    web_threads: int = 4  # gthread workers: threads per worker process
    web_worker_class: str = "gthread"  # or "sync": one request at a time per process
    worker_concurrency: int = 4
    rate_limit: int = 100
    rate_period: float = 60.0
    webhooks: bool = True
    credits: int = 100_000
    lifetime: float = 900.0  # seconds before every process of the stack ends by itself
    extra_env: dict[str, str] = field(default_factory=dict)


class Stack:
    def __init__(self, config: StackConfig | None = None, workdir: Path | None = None) -> None:
        self.config = config or StackConfig()
        self.tag = secrets.token_hex(4)
        self._tmp: tempfile.TemporaryDirectory | None = None
        if workdir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="genlook-stack-")
            workdir = Path(self._tmp.name)
        self.workdir = Path(workdir)
        self.logs = self.workdir / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        self.services: dict[str, Service] = {}
        self.api_key = f"gk_it_{self.tag}"
        # The sandbox's control endpoints want their own token, never the shop's API key.
        self.control_token = secrets.token_urlsafe(32)
        self.queue = f"genlook-it-{self.tag}"
        self.database = f"genlook_it_{self.tag}"
        self.moto_port = self.sandbox_port = self.web_port = 0
        self._db_created = False

    # -- addresses -------------------------------------------------------------------------

    @property
    def web_url(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"

    @property
    def sandbox_url(self) -> str:
        return f"http://127.0.0.1:{self.sandbox_port}/tryon/v1"

    @property
    def s3_url(self) -> str:
        return f"http://127.0.0.1:{self.moto_port}"

    @property
    def database_url(self) -> str:
        parts = urlsplit(POSTGRES_URL)
        return urlunsplit(parts._replace(path="/" + self.database))

    @property
    def broker_url(self) -> str:
        return RABBITMQ_URL if self.config.broker == "rabbitmq" else REDIS_BROKER_URL

    def env(self) -> dict[str, str]:
        """The environment of the shop's processes: production settings, nothing else."""
        config = self.config
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("DJANGO_", "GENLOOK_", "CELERY_", "AWS_", "PYTEST_"))
        }
        env.update(
            {
                "PYTHONPATH": str(ROOT),
                "PYTHONUNBUFFERED": "1",
                "DJANGO_SETTINGS_MODULE": "example_shop.settings",
                "DJANGO_DEBUG": "0",
                "DJANGO_SECRET_KEY": f"integration-{self.tag}-not-secret",
                "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
                "EXAMPLE_SHOP_SANDBOX": "0",
                "EXAMPLE_SHOP_VAR_DIR": str(self.workdir / "var"),
                "DATABASE_URL": self.database_url,
                "DATABASE_CONN_MAX_AGE": "60",
                "CELERY_BROKER_URL": self.broker_url,
                "CELERY_TASK_DEFAULT_QUEUE": self.queue,
                "REDIS_URL": REDIS_CACHE_URL,
                "GENLOOK_API_KEY": self.api_key,
                "GENLOOK_BASE_URL": self.sandbox_url,
                "GENLOOK_RATE_LIMIT": str(config.rate_limit),
                "GENLOOK_RATE_PERIOD": str(config.rate_period),
                "GENLOOK_WEBHOOKS": "1" if config.webhooks else "0",
                "PUBLIC_BASE_URL": self.web_url,
                # As behind a proxy: each shopper's own address (Shopper.ip), so per-address
                # quotas count shoppers, not the load generator.
                "GENLOOK_CLIENT_IP_HEADER": "X-Forwarded-For",
                "DJANGO_SUPERUSER_USERNAME": ADMIN_USER,
                "DJANGO_SUPERUSER_PASSWORD": ADMIN_PASSWORD,
                "DJANGO_SUPERUSER_EMAIL": "admin@example.com",
            }
        )
        if config.storage == "s3":
            env.update(
                {
                    "GENLOOK_STORAGE": "s3",
                    "AWS_STORAGE_BUCKET_NAME": MEDIA_BUCKET,
                    "AWS_PRIVATE_BUCKET_NAME": PRIVATE_BUCKET,
                    "AWS_S3_ENDPOINT_URL": self.s3_url,
                    "AWS_S3_REGION_NAME": "us-east-1",
                    "AWS_S3_ADDRESSING_STYLE": "path",
                    "AWS_ACCESS_KEY_ID": "testing",
                    "AWS_SECRET_ACCESS_KEY": "testing",
                }
            )
        else:
            # Media on local disk behind a web server of its own: a host the sandbox never
            # contacts (it draws a garment instead of fetching the image).
            env["DJANGO_MEDIA_URL"] = "https://media.shop.example/media/"
        env.update(config.extra_env)
        return env

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> Stack:
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        config = self.config
        started = time.monotonic()
        self.sandbox_port = free_port()
        self._spawn(
            "sandbox",
            [
                sys.executable,
                "manage.py",
                "genlook_sandbox",
                "--settings=tests.sandbox.standalone_settings",
                f"--port={self.sandbox_port}",
                f"--key={self.api_key}",
                f"--credits={config.credits}",
                f"--generation-seconds={config.generation_seconds}",
                f"--control-token={self.control_token}",
                "--beside-shop",  # the shop (and moto) serve product images on 127.0.0.1
            ],
            env={**self.env(), "DJANGO_SETTINGS_MODULE": "tests.sandbox.standalone_settings"},
        )
        if config.storage == "s3":
            self.moto_port = free_port()
            self._spawn(
                "moto",
                [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.moto_port)],
            )
        self._create_database()
        self.manage("migrate", "--noinput", timeout=180)
        self.manage("createsuperuser", "--noinput", timeout=60)
        if config.storage == "s3":
            wait_for(
                lambda: requests.get(self.s3_url, timeout=2).ok,
                timeout=60,
                what="moto",
                diagnostics=self.diagnostics,
            )
            s3 = self.s3()
            for bucket in (MEDIA_BUCKET, PRIVATE_BUCKET):
                s3.create_bucket(Bucket=bucket)
            # What docs/deployment.md asks of a merchant: the media prefix is public (Genlook
            # fetches product images by URL); the private bucket is left as it is.
            s3.put_bucket_policy(Bucket=MEDIA_BUCKET, Policy=public_read_policy(MEDIA_BUCKET))
        wait_for(
            lambda: requests.get(self.sandbox_url + "/", timeout=2).ok,
            timeout=60,
            what="the sandbox",
            diagnostics=self.diagnostics,
        )
        self.sandbox_control("config", sync_wait_seconds=config.sync_wait_seconds)
        self.sandbox_control("config", rate_limit=config.rate_limit, rate_window=config.rate_period)
        self.web_port = free_port()
        self._spawn(
            "web",
            [
                sys.executable,
                "-m",
                "gunicorn",
                "example_shop.wsgi:application",
                f"--bind=127.0.0.1:{self.web_port}",
                f"--workers={config.web_workers}",
                f"--worker-class={config.web_worker_class}",
                f"--threads={config.web_threads}",
                "--timeout=60",
                "--graceful-timeout=3",
                "--access-logfile=-",
                # %(M)s: the request's duration in milliseconds, as gunicorn measured it.
                '--access-logformat=ACCESS "%(r)s" %(s)s %(M)s',
                *_no_control_socket(),
            ],
            env={**self.env(), "PUBLIC_BASE_URL": self.web_url},
        )
        self._spawn(
            "worker", self._worker_argv(), env={**self.env(), "PUBLIC_BASE_URL": self.web_url}
        )
        wait_for(
            lambda: requests.get(self.web_url + "/genlook/api/me/", timeout=5).ok,
            timeout=60,
            what="gunicorn",
            diagnostics=self.diagnostics,
        )
        wait_for(
            lambda: " ready." in self.services["worker"].log(),
            timeout=90,
            what="the Celery worker",
            diagnostics=self.diagnostics,
        )
        self.startup_seconds = time.monotonic() - started

    def _worker_argv(self) -> list[str]:
        return [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "example_shop",
            "worker",
            "-l",
            "info",
            "-Q",
            self.queue,
            "-n",
            f"it-{self.tag}@%h",
            "--pool=threads",
            f"--concurrency={self.config.worker_concurrency}",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ]

    # -- the worker: crashes and restarts --------------------------------------------------

    def worker_pids(self) -> list[int]:
        """The processes of the current worker's process group (``timeout`` and Celery,
        whose threads pool runs every task in that one process)."""
        group = self.services["worker"].popen.pid
        pids = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
            if int(fields[2]) == group:
                pids.append(int(stat.parent.name))
        return sorted(pids)

    def kill_worker(self) -> list[int]:
        """SIGKILL the worker's whole process group, as the OOM killer or a lost machine
        would: no shutdown, no acknowledgement, nothing flushed. Returns the pids killed."""
        service = self.services["worker"]
        pids = self.worker_pids()
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(service.popen.pid, signal.SIGKILL)
        service.popen.wait(timeout=10)
        wait_for(
            lambda: not any(Path(f"/proc/{pid}").exists() for pid in pids),
            timeout=10,
            what="the killed worker's processes to go",
        )
        service.stop()  # closes its log (the group is gone already)
        self.worker_kills = getattr(self, "worker_kills", 0) + 1
        return pids

    def restart_worker(self, *, wait: bool = True) -> Service:
        """Start a new worker on the same queue (its log: ``worker.<n>.log``); with
        ``wait``, until it is ready to take tasks."""
        old = self.services.get("worker")
        if old is not None and old.alive:
            self.kill_worker()
        self.worker_starts = getattr(self, "worker_starts", 1) + 1
        service = Service(
            f"worker.{self.worker_starts}",
            self._worker_argv(),
            env={**self.env(), "PUBLIC_BASE_URL": self.web_url},
            log_dir=self.logs,
            lifetime=self.config.lifetime,
        )
        self.services["worker"] = service
        if wait:
            wait_for(
                lambda: " ready." in service.log(),
                timeout=90,
                what="the restarted Celery worker",
                diagnostics=self.diagnostics,
            )
        return service

    def worker_logs(self) -> str:
        """The logs of every worker this stack ran, oldest first."""
        paths = sorted(self.logs.glob("worker*.log"), key=lambda path: path.stat().st_mtime_ns)
        return "\n".join(path.read_text(errors="replace") for path in paths)

    def send_task(self, name: str, *args: Any, **kwargs: Any) -> None:
        """Publish a task to the stack's queue, as Celery beat would (e.g.
        ``genlook.reconcile_try_ons``): a worker runs it."""
        from celery import Celery

        app = getattr(self, "_sender", None)
        if app is None:
            app = self._sender = Celery("stack-sender", broker=self.broker_url)
            app.conf.broker_connection_retry_on_startup = True
        app.send_task(name, args=args, kwargs=kwargs, queue=self.queue)

    def stop(self) -> None:
        for name in ("web", "worker", "sandbox", "moto"):
            service = self.services.get(name)
            if service is not None:
                service.stop()
        self._drop_database()
        self._delete_queue()
        sender = getattr(self, "_sender", None)
        if sender is not None:
            with contextlib.suppress(Exception):
                sender.close()
            self._sender = None
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self) -> Stack:
        return self.start()

    def __exit__(self, *exc_info: Any) -> None:
        self.stop()

    def _spawn(self, name: str, argv: list[str], env: dict[str, str] | None = None) -> Service:
        service = Service(
            name, argv, env=env or self.env(), log_dir=self.logs, lifetime=self.config.lifetime
        )
        self.services[name] = service
        return service

    def _delete_queue(self) -> None:
        """The stack's own queue (RabbitMQ keeps durable queues; Redis keeps bindings)."""
        if "worker" not in self.services:
            return
        with contextlib.suppress(Exception):
            from kombu import Connection

            with Connection(self.broker_url, connect_timeout=3) as connection:
                connection.default_channel.queue_delete(self.queue)
        if self.config.broker == "redis":
            with contextlib.suppress(Exception):
                import redis

                redis.Redis.from_url(self.broker_url).delete(f"_kombu.binding.{self.queue}")

    def cpu_seconds(self) -> dict[str, float]:
        """CPU time (user + system) used so far by each service's processes (Linux)."""
        ticks = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
        groups = {service.popen.pid: name for name, service in self.services.items()}
        used = dict.fromkeys(self.services, 0.0)
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
            name = groups.get(int(fields[2]))  # the process group
            if name is not None:
                used[name] += (int(fields[11]) + int(fields[12])) / ticks
        return used

    def diagnostics(self) -> str:
        return "\n".join(service.tail() for service in self.services.values())

    def manage(self, *args: str, timeout: float = 120) -> str:
        """``manage.py <args>`` with the shop's environment; its output."""
        done = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if done.returncode:
            raise RuntimeError(
                f"manage.py {' '.join(args)} failed ({done.returncode}):\n"
                f"{done.stdout[-4000:]}\n{done.stderr[-4000:]}"
            )
        return done.stdout

    # -- PostgreSQL ------------------------------------------------------------------------

    def _admin_connection(self):
        import psycopg

        return psycopg.connect(POSTGRES_URL, autocommit=True, connect_timeout=5)

    def _create_database(self) -> None:
        with self._admin_connection() as connection:
            connection.execute(f'CREATE DATABASE "{self.database}"')
        self._db_created = True

    def _drop_database(self) -> None:
        if not self._db_created:
            return
        with contextlib.suppress(Exception), self._admin_connection() as connection:
            connection.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = %s AND pid <> pg_backend_pid()",
                [self.database],
            )
            connection.execute(f'DROP DATABASE IF EXISTS "{self.database}"')
            self._db_created = False

    def query(self, sql: str, params: Any = None) -> list[dict[str, Any]]:
        """Rows of a query on the shop's database (what the web and the worker wrote)."""
        import psycopg
        from psycopg.rows import dict_row

        with psycopg.connect(self.database_url, row_factory=dict_row) as connection:
            return list(connection.execute(sql, params))

    # -- S3 and the sandbox ----------------------------------------------------------------

    def s3(self):
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.s3_url,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    def s3_keys(self, bucket: str, prefix: str = "") -> list[str]:
        answer = self.s3().list_objects_v2(Bucket=bucket, Prefix=prefix)
        return sorted(item["Key"] for item in answer.get("Contents", []))

    @property
    def control_headers(self) -> dict[str, str]:
        """For the sandbox's control endpoints: the control token, and the stack's key to
        name the account."""
        return {"x-sandbox-control-token": self.control_token, "x-api-key": self.api_key}

    def sandbox_stats(self) -> dict[str, Any]:
        response = requests.get(
            f"{self.sandbox_url}/_sandbox/stats", headers=self.control_headers, timeout=10
        )
        response.raise_for_status()
        return response.json()

    def sandbox_generations(self) -> list[dict[str, Any]]:
        """Every generation the sandbox created for the stack's key, with its
        ``externalUserId`` (the shopper key): lost answers included."""
        response = requests.get(
            f"{self.sandbox_url}/_sandbox/generations",
            headers=self.control_headers,
            timeout=30,
        )
        response.raise_for_status()
        return response.json()["generations"]

    def sandbox_control(self, what: str, **body: Any) -> dict[str, Any]:
        response = requests.post(
            f"{self.sandbox_url}/_sandbox/{what}",
            headers=self.control_headers,
            json=body,
            timeout=10,
        )
        response.raise_for_status()
        return response.json()

    def requests_by_route(self) -> dict[str, dict[str, int]]:
        return self.sandbox_stats()["requests"]["byRoute"]

    def count(self, route: str, status: str | None = None) -> int:
        counts = self.requests_by_route().get(route, {})
        return counts.get(status, 0) if status else sum(counts.values())

    def throttled(self) -> int:
        """429 answers the sandbox gave, all routes."""
        return sum(counts.get("429", 0) for counts in self.requests_by_route().values())

    # -- clients ---------------------------------------------------------------------------

    def shopper(self) -> Shopper:
        return Shopper(self.web_url)

    def admin(self) -> requests.Session:
        """A session logged in to the Django admin as the superuser."""
        session = requests.Session()
        login = f"{self.web_url}/admin/login/"
        session.get(login, timeout=10).raise_for_status()
        response = session.post(
            login,
            data={
                "username": ADMIN_USER,
                "password": ADMIN_PASSWORD,
                "csrfmiddlewaretoken": session.cookies["csrftoken"],
                "next": "/admin/",
            },
            headers={"Referer": login},
            timeout=10,
        )
        response.raise_for_status()
        assert "sessionid" in session.cookies, "admin login failed"
        return session

    def access_log(self) -> list[tuple[str, int, float]]:
        """(request line, status, milliseconds) of every request gunicorn served."""
        entries = []
        for line in self.services["web"].log().splitlines():
            if not line.startswith("ACCESS "):
                continue
            head, _sep, rest = line[len('ACCESS "') :].rpartition('" ')
            status, millis = rest.split()
            entries.append((head, int(status), float(millis)))
        return entries


def add_product_in_admin(stack: Stack, name: str, slug: str, *, timeout: float = 30) -> dict:
    """Add a product through the Django admin (its image uploaded to the media storage) and
    wait until the worker has synced it: its ``genlook_syncedproduct`` row, plus
    ``product_id`` and ``image``."""
    admin = stack.admin()
    add = f"{stack.web_url}/admin/shop/product/add/"
    admin.get(add, timeout=10).raise_for_status()
    response = admin.post(
        add,
        data={
            "name": name,
            "slug": slug,
            "category": "tops",
            "description": f"{name}, in cotton.",
            "price": "25.00",
            "currency": "EUR",
            "is_active": "on",
            "csrfmiddlewaretoken": admin.cookies["csrftoken"],
            "_save": "Save",
        },
        files={"image": (f"{slug}.png", product_image(), "image/png")},
        headers={"Referer": add},
        allow_redirects=False,
        timeout=30,
    )
    if response.status_code != 302:
        raise AssertionError(
            f"adding {name} failed: {response.status_code} {response.text[-3000:]}"
        )
    product = stack.query("SELECT id, image FROM shop_product WHERE slug = %s", [slug])[0]

    def synced():
        rows = stack.query(
            "SELECT * FROM genlook_syncedproduct WHERE object_id = %s", [str(product["id"])]
        )
        return rows[0] if rows and rows[0]["status"] == "synced" else None

    row = wait_for(
        synced, timeout=timeout, what=f"the sync of {name}", diagnostics=stack.diagnostics
    )
    return {**row, "product_id": product["id"], "image": product["image"]}


def public_read_policy(bucket: str, prefix: str = "media/") -> str:
    import json

    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "PublicReadMedia",
                    "Effect": "Allow",
                    "Principal": "*",
                    "Action": "s3:GetObject",
                    "Resource": f"arn:aws:s3:::{bucket}/{prefix}*",
                }
            ],
        }
    )


def _no_control_socket() -> list[str]:
    """gunicorn 25+ opens a control socket at one fixed path per user: not for stacks that
    run side by side."""
    try:
        from gunicorn.config import KNOWN_SETTINGS
    except ImportError:
        return []
    names = {setting.name for setting in KNOWN_SETTINGS}
    return ["--no-control-socket"] if "control_socket_disable" in names else []


class Shopper:
    """A browser on the storefront API: its own session, the CSRF cookie, the widget's
    calls (start a try-on, follow it, fetch the result)."""

    def __init__(self, web_url: str, ip: str | None = None) -> None:
        self.web_url = web_url
        self.session = requests.Session()
        # The address a proxy would report (a documentation range: never contacted).
        self.ip = ip or f"198.18.{secrets.randbelow(256)}.{secrets.randbelow(254) + 1}"
        self.session.headers["X-Forwarded-For"] = self.ip
        self.timings: list[tuple[str, float]] = []

    def _timed(self, label: str, method: str, path: str, **kwargs: Any) -> requests.Response:
        started = time.perf_counter()
        response = self.session.request(method, self.web_url + path, timeout=30, **kwargs)
        self.timings.append((label, time.perf_counter() - started))
        return response

    def me(self) -> dict[str, Any]:
        response = self._timed("me", "GET", "/genlook/api/me/")
        response.raise_for_status()
        return response.json()

    def start(
        self, product: str, photo: bytes | None = None, *, reuse: bool = False
    ) -> requests.Response:
        if "csrftoken" not in self.session.cookies:
            self.me()
        data = {"product": product, "consent": "true"}
        files = None
        if photo is not None:
            files = {"photo": ("me.jpg", photo, "image/jpeg")}
        if reuse:
            data["reuse_photo"] = "true"
        return self._timed(
            "start",
            "POST",
            "/genlook/api/tryons/",
            data=data,
            files=files,
            headers={"X-CSRFToken": self.session.cookies["csrftoken"]},
        )

    def status(self, public_id: str, *, wait: float = 0) -> dict[str, Any]:
        """The try-on's status; with ``wait``, held by the server until it changes."""
        params = {"wait": f"{wait:g}"} if wait else None
        response = self._timed("status", "GET", f"/genlook/api/tryons/{public_id}/", params=params)
        response.raise_for_status()
        return response.json()

    def follow(
        self, body: dict[str, Any], *, timeout: float = 60.0, wait: float = 0
    ) -> dict[str, Any]:
        """Follow the try-on until it is final: as the widget does with ``wait`` (each
        request held by the server until the status changes), else every
        ``poll_after_ms``."""
        deadline = time.monotonic() + timeout
        while body["status"] not in ("completed", "failed"):
            if time.monotonic() > deadline:
                raise TimeoutError(f"try-on {body['id']} still {body['status']}")
            poll_after = body.get("poll_after_ms")
            time.sleep((500 if poll_after is None else poll_after) / 1000)
            body = self.status(body["id"], wait=wait)
        return body

    def result(self, body: dict[str, Any]) -> bytes:
        response = self._timed("result", "GET", urlsplit(body["result_url"]).path)
        response.raise_for_status()
        return response.content


@contextlib.contextmanager
def running(config: StackConfig | None = None, workdir: Path | None = None) -> Iterator[Stack]:
    stack = Stack(config, workdir)
    with stack:
        yield stack


def product_image(color: tuple[int, int, int] = (40, 90, 160)) -> bytes:
    """A flat-lay garment on white, as a PNG (what a product photo looks like)."""
    import io

    from PIL import Image, ImageDraw

    image = Image.new("RGB", (600, 750), "white")
    draw = ImageDraw.Draw(image)
    draw.polygon([(150, 120), (450, 120), (540, 260), (460, 300), (460, 680), (140, 680),
                  (140, 300), (60, 260)], fill=color)  # fmt: skip
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


__all__ = ["Service", "Shopper", "Stack", "StackConfig", "free_port", "wait_for"]
