"""Real services for the tests that need them (PostgreSQL, Redis, RabbitMQ).

On a laptop without them those tests are skipped; with ``GENLOOK_REQUIRE_SERVICES=1`` (as
CI sets it) a missing service fails the test instead, so nothing required can be skipped.
"""

import os
import socket

import pytest

REDIS_URL = os.environ.get("GENLOOK_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def services_required() -> bool:
    return os.environ.get("GENLOOK_REQUIRE_SERVICES") == "1"


def require_port(name: str, host: str, port: int) -> None:
    try:
        with socket.create_connection((host, port), timeout=1):
            return
    except OSError:
        message = f"{name} is not running on {host}:{port}"
        if services_required():
            pytest.fail(message + " (GENLOOK_REQUIRE_SERVICES=1)")
        pytest.skip(message)


@pytest.fixture
def redis_url() -> str:
    """Redis for a test. Not flushed: tests running in parallel share it, so each test
    names its own keys (see ``unique_budget_key``)."""
    require_port("Redis", "127.0.0.1", 6379)
    return REDIS_URL


def unique_budget_key() -> str:
    import uuid

    return f"genlook:test-budget:{uuid.uuid4().hex}"


# -- PostgreSQL, RabbitMQ, S3 (moto), executables: for tests/integration ---------------------

POSTGRES_URL = os.environ.get(
    "GENLOOK_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
RABBITMQ_URL = os.environ.get("GENLOOK_TEST_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672//")


def _missing(message: str) -> None:
    if services_required():
        pytest.fail(message + " (GENLOOK_REQUIRE_SERVICES=1)")
    pytest.skip(message)


def require_module(name: str, extra: str = "dev") -> None:
    """An importable module (moto, psycopg, gunicorn...): part of ``pip install -e .[dev]``."""
    import importlib.util

    if importlib.util.find_spec(name) is None:
        _missing(f"Python package {name!r} is not installed (pip install -e '.[{extra}]')")


def require_postgres() -> str:
    """The URL of a maintenance database where test databases may be created."""
    from urllib.parse import urlsplit

    parts = urlsplit(POSTGRES_URL)
    require_port("PostgreSQL", parts.hostname or "127.0.0.1", parts.port or 5432)
    require_module("psycopg", "postgres")
    return POSTGRES_URL


def require_redis() -> str:
    require_port("Redis", "127.0.0.1", 6379)
    require_module("redis", "redis")
    return REDIS_URL


def require_rabbitmq() -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(RABBITMQ_URL)
    require_port("RabbitMQ", parts.hostname or "127.0.0.1", parts.port or 5672)
    return RABBITMQ_URL


def require_moto() -> None:
    """moto's server mode (``moto[server]``), which the integration set-up starts itself."""
    require_module("moto")
    require_module("flask")  # what moto[server] adds
    require_module("boto3", "s3")


def require_stack(broker: str) -> None:
    """What a whole stack (tests/integration/stack.py) needs, with ``broker`` its Celery
    broker: PostgreSQL, Redis, RabbitMQ for its variant, moto and gunicorn."""
    require_postgres()
    require_redis()
    if broker == "rabbitmq":
        require_rabbitmq()
    require_moto()
    require_module("gunicorn")
    require_module("celery")
