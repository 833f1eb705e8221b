"""The integration stack: one whole deployment per broker (see stack.py), shared by the
tests of a module. Every test here needs PostgreSQL, Redis (and RabbitMQ for its variant),
moto and gunicorn: skipped on a laptop without them, a failure in CI."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.integration.stack import Stack, StackConfig, add_product_in_admin
from tests.services import require_stack

BROKERS = ["redis", "rabbitmq"]


@pytest.fixture(scope="module", params=BROKERS)
def stack(request, tmp_path_factory) -> Iterator[Stack]:
    """PostgreSQL + a Celery worker on ``request.param`` + S3 (moto) + gunicorn + the
    sandbox (1 s generations), all in subprocesses with production settings."""
    broker = request.param
    require_stack(broker)
    workdir = tmp_path_factory.mktemp(f"stack-{broker}")
    stack = Stack(StackConfig(broker=broker, generation_seconds=1.0), workdir=workdir)
    stack.start()
    try:
        yield stack
    finally:
        stack.stop()


@pytest.fixture(scope="module")
def synced_product(stack: Stack) -> dict:
    """A product the merchant added in the admin (its image uploaded to S3), synced to
    Genlook by the worker: the ``genlook_syncedproduct`` row once it is ``synced``."""
    return add_product_in_admin(stack, "Harbour Tee", "harbour-tee")
