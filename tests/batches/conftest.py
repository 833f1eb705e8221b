"""Batch jobs against the sandbox (eager tasks: the admin page and the command poll);
``wait_done`` is in ``tests/support/batches.py``."""

from __future__ import annotations

import pytest


@pytest.fixture
def products(storefront, make_product):
    return [make_product(f"Batch Shirt {n}") for n in range(3)]
