"""Batch jobs against the sandbox (eager tasks: the admin page and the command poll)."""

from __future__ import annotations

import time

import pytest

from genlook_django.models import BatchJob
from genlook_django.services import batches
from tests.catalog.conftest import (  # noqa: F401  (fixtures)
    _media_server,
    adapter_for,
    genlook,
    make_product,
    shop_adapter,
)
from tests.storefront.conftest import storefront  # noqa: F401


@pytest.fixture
def products(storefront, make_product):  # noqa: F811
    return [make_product(f"Batch Shirt {n}") for n in range(3)]


def wait_done(job: BatchJob, timeout: float = 20.0) -> batches.Progress:
    """Poll through (as the admin page does without a worker) until the job is done."""
    deadline = time.monotonic() + timeout
    while True:
        batches.poll_through(job)
        job.refresh_from_db()
        if job.state == BatchJob.State.DONE:
            return batches.progress(job)
        assert time.monotonic() < deadline, f"still {job.state}: {batches.progress(job)}"
        time.sleep(0.1)
