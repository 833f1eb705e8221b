"""R5, a script cannot drain the credits (docs/reliability.md).

Scripted clients (one shopper, fresh sessions, spoofed and real address changes, a botnet,
threads) against the quotas and the shop's budgets, each from a clean slate; the credits
spent are counted at the sandbox: each try-on accepted is charged once, a refused one is
never sent, and the credits spent never go above the cap the script runs into.

One case per script (``-k botnet``, ``-k "parallel-tabs"``...); the scripts are in
``tests/reliability/inputs/drain_scripts.py``. Scaled down by default (CI), with small
limits in the same order as the defaults; ``GENLOOK_RELIABILITY=full`` runs against the
defaults.
"""

from __future__ import annotations

import time

import pytest

from genlook_django.models import ShopperPhoto, TryOn, UsageRecord
from tests.support import images
from tests.support.catalog import API_KEY

from .inputs.drain_scripts import LIMITS, SCRIPTS, Drain, Shop, drain_limits, limit_count

pytestmark = pytest.mark.django_db(transaction=True)

CREDITS = 1_000_000


def created(sandbox) -> int:
    """Try-ons created at the sandbox so far."""
    return sum(
        1
        for r in sandbox.state.requests
        if r.method == "POST" and r.path in ("/try-on", "/try-on/sync") and r.status < 400
    )


@pytest.mark.parametrize("script", SCRIPTS)
def test_a_script_cannot_drain_the_credits(
    script,
    storefront,
    settings,
    product,
    sqlite_waits_for_locks,
    figures,
):
    began = time.monotonic()
    attack = SCRIPTS[script]
    limits = drain_limits()
    counts = {name: limit_count(value) for name, value in limits.items()}
    storefront.state.configure(generation_seconds=3600, rate_limit=100_000)  # pending, charged
    for model in (UsageRecord, TryOn, ShopperPhoto):  # a clean slate
        model.objects.all().delete()
    settings.GENLOOK = {
        **settings.GENLOOK,
        **limits,
        "CLIENT_IP_HEADER": None,
        "PHOTO_PIPELINE_WAIT": 30.0,
        **attack.setting,
    }
    storefront.state.set_credits(API_KEY, CREDITS)
    drain = Drain(
        attack.name,
        attack.cap_name,
        counts[attack.cap_name],
        set(attack.codes),
        created_before=created(storefront),
    )

    attack.run(drain, Shop(product, images.jpeg((600, 800)), counts))

    drain.spent = CREDITS - storefront.state.get_credits(API_KEY)
    figures.update(
        limits={name: limits[name] for name in LIMITS},
        script=drain.summary(),
        try_ons_accepted=drain.accepted,
        refused=sum(drain.refused.values()),
        credits_spent=drain.spent,
        overspent=max(0, drain.spent - drain.cap),
        seconds=round(time.monotonic() - began, 1),
    )
    assert drain.spent == drain.accepted, drain.summary()  # each try-on charged once
    assert created(storefront) - drain.created_before == drain.accepted  # refused: never sent
    assert drain.spent <= drain.cap, drain.summary()
    assert set(drain.refused) <= drain.codes and drain.refused, drain.summary()
    assert not drain.other, drain.summary()
