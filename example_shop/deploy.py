"""Production settings read from the environment (used by ``example_shop/settings.py``).

Nothing here is needed by the embedded default: every function returns what the settings
already use when its variable is unset. See docs/deployment.md for the whole list.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

DATABASE_ENGINES = {
    "postgres": "django.db.backends.postgresql",
    "postgresql": "django.db.backends.postgresql",
    "pgsql": "django.db.backends.postgresql",
    "mysql": "django.db.backends.mysql",
    "mariadb": "django.db.backends.mysql",
    "sqlite": "django.db.backends.sqlite3",
}


def env_bool(name: str, default: bool, environ: Mapping[str, str] | None = None) -> bool:
    value = (os.environ if environ is None else environ).get(name)
    if value is None or value.strip() == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "", environ: Mapping[str, str] | None = None) -> list[str]:
    value = (os.environ if environ is None else environ).get(name, default)
    return [item.strip() for item in value.split(",") if item.strip()]


def env_json(name: str, environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """A JSON object from the environment ({} when unset or blank)."""
    import json

    value = (os.environ if environ is None else environ).get(name, "").strip()
    if not value:
        return {}
    try:
        data = json.loads(value)
    except ValueError as exc:
        raise ValueError(f"{name}: not valid JSON ({exc}).") from exc
    if not isinstance(data, dict):
        raise ValueError(f"{name}: expected a JSON object.")
    return data


def broker_transport_options(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """``CELERY_BROKER_TRANSPORT_OPTIONS``: ``visibility_timeout`` (seconds) from
    ``CELERY_VISIBILITY_TIMEOUT``, when set. With Redis, a task whose worker died before
    acknowledging it is delivered again once this has passed (Celery's default: 1 hour).

    Workers look for such tasks every ``unacked_restore_interval`` seconds, scanning only
    on every ``unacked_restore_throttle``-th look (kombu's defaults, 10 and 10: every 100
    s, which would add up to 100 s to a short timeout): here, a scan every 10 s at most
    (one cheap Redis query per worker), a sixth of the timeout when that is shorter."""
    value = (os.environ if environ is None else environ).get("CELERY_VISIBILITY_TIMEOUT", "")
    if not value.strip():
        return {}
    timeout = float(value)
    return {
        "visibility_timeout": timeout,
        "unacked_restore_interval": max(1, min(10, round(timeout / 6))),
        "unacked_restore_throttle": 1,
    }


def database_from_url(url: str, *, conn_max_age: int = 0, pool_size: int = 0) -> dict[str, Any]:
    """A ``DATABASES`` entry from a URL, e.g.
    ``postgresql://user:password@db.internal:5432/shop?sslmode=require`` or
    ``sqlite:////srv/shop/db.sqlite3``. Query parameters become ``OPTIONS``.

    ``pool_size`` (PostgreSQL): connections come from a pool of at most that many per
    process (psycopg's pool, through Django's ``OPTIONS["pool"]``), so a request that gives
    its connection back (a status request before it waits) takes one again without
    PostgreSQL starting a new backend; ``conn_max_age`` then does not apply."""
    parts = urlsplit(url)
    scheme = parts.scheme.split("+")[0].lower()
    if scheme not in DATABASE_ENGINES:
        raise ValueError(
            f"DATABASE_URL: unknown scheme {parts.scheme!r} "
            f"(use one of {', '.join(sorted(DATABASE_ENGINES))})."
        )
    engine = DATABASE_ENGINES[scheme]
    options: dict[str, Any] = dict(parse_qsl(parts.query))
    if engine.endswith("sqlite3"):
        # sqlite:///relative/path, sqlite:////absolute/path, sqlite://:memory:
        name = parts.netloc or unquote(parts.path[1:] if parts.path.startswith("/") else "")
        options.setdefault("transaction_mode", "IMMEDIATE")  # writers wait: genlook.W090
        return {"ENGINE": engine, "NAME": name or ":memory:", "OPTIONS": options}
    if pool_size > 0 and engine.endswith("postgresql"):
        options["pool"] = {"min_size": 1, "max_size": pool_size, "timeout": 30}
        conn_max_age = 0  # Django refuses persistent connections beside a pool
    config: dict[str, Any] = {
        "ENGINE": engine,
        "NAME": unquote(parts.path.lstrip("/")),
        "USER": unquote(parts.username or ""),
        "PASSWORD": unquote(parts.password or ""),
        "HOST": unquote(parts.hostname or ""),
        "PORT": str(parts.port or ""),
        "CONN_MAX_AGE": conn_max_age,
        "CONN_HEALTH_CHECKS": conn_max_age > 0,
        "OPTIONS": options,
    }
    return config


def s3_storages(environ: Mapping[str, str] | None = None) -> dict[str, dict[str, Any]]:
    """``STORAGES`` entries for S3-compatible storage (django-storages), from ``AWS_*``:

    - ``default`` (media: product images): ``AWS_STORAGE_BUCKET_NAME`` under
      ``AWS_MEDIA_LOCATION`` (``media``), plain unsigned URLs (Genlook fetches product
      images by URL, possibly later: they must be public and must not expire);
    - ``genlook_private`` (shoppers' photos and try-on results): ``AWS_PRIVATE_BUCKET_NAME``
      (default: the same bucket) under ``AWS_PRIVATE_LOCATION`` (``private``), never public;
      genlook_django streams these files to their owner, it never links them.

    Credentials come from boto3's usual chain (``AWS_ACCESS_KEY_ID`` /
    ``AWS_SECRET_ACCESS_KEY``, a profile, an instance role).
    """
    env = os.environ if environ is None else environ
    bucket = env.get("AWS_STORAGE_BUCKET_NAME", "")
    if not bucket:
        raise ValueError("GENLOOK_STORAGE=s3 needs AWS_STORAGE_BUCKET_NAME.")
    common: dict[str, Any] = {"file_overwrite": False}
    for option, variable in (
        ("endpoint_url", "AWS_S3_ENDPOINT_URL"),  # MinIO, Ceph, R2, moto...
        ("region_name", "AWS_S3_REGION_NAME"),
        ("addressing_style", "AWS_S3_ADDRESSING_STYLE"),  # "path" for most S3 look-alikes
        ("signature_version", "AWS_S3_SIGNATURE_VERSION"),
    ):
        if env.get(variable):
            common[option] = env[variable]
    media: dict[str, Any] = {
        **common,
        "bucket_name": bucket,
        "location": env.get("AWS_MEDIA_LOCATION", "media"),
        "querystring_auth": False,
    }
    if env.get("AWS_S3_CUSTOM_DOMAIN"):  # a CDN in front of the media bucket
        media["custom_domain"] = env["AWS_S3_CUSTOM_DOMAIN"]
    private: dict[str, Any] = {
        **common,
        "bucket_name": env.get("AWS_PRIVATE_BUCKET_NAME") or bucket,
        "location": env.get("AWS_PRIVATE_LOCATION", "private"),
        "querystring_auth": True,
        "querystring_expire": 300,
    }
    backend = "storages.backends.s3.S3Storage"
    return {
        "default": {"BACKEND": backend, "OPTIONS": media},
        "genlook_private": {"BACKEND": backend, "OPTIONS": private},
    }


def beat_schedule() -> dict[str, dict[str, Any]]:
    """The periodic tasks of a deployment with a worker (run ``celery ... beat`` once)."""
    return {
        # Try-ons whose result nobody has fetched (a lost webhook, a worker restart).
        "genlook-reconcile": {
            "task": "genlook.reconcile_try_ons",
            "schedule": timedelta(minutes=1),
        },
        # Products whose last sync failed for a transient reason.
        "genlook-retry-failed-products": {
            "task": "genlook.retry_failed_products",
            "schedule": timedelta(minutes=15),
        },
        # RETENTION_DAYS / STATS_RETENTION_DAYS.
        "genlook-purge-expired": {
            "task": "genlook.purge_expired",
            "schedule": timedelta(hours=24),
        },
        # The credit balance, for the admin's charts and the low-balance alert.
        "genlook-refresh-credits": {
            "task": "genlook.refresh_credits",
            "schedule": timedelta(hours=1),
        },
    }


def local_secret(path: Path) -> str:
    """A random secret kept in ``path`` (made, readable by this user only, on first use), so
    that every process of the demo (runserver and its reloader, manage.py commands) agrees
    on it without anyone choosing one."""
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    token = secrets.token_urlsafe(32)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it meanwhile
        return path.read_text().strip()
    with os.fdopen(descriptor, "w") as fh:
        fh.write(token + "\n")
    return token
