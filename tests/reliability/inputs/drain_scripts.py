"""R5's scripted attacks on the credits: one shopper, fresh sessions from one address,
``X-Forwarded-For`` spoofing, a botnet of addresses, requests released together. Each
``Script`` says which cap must hold (a quota, or a budget of the shop's) and with which
refusals; ``SCRIPTS`` names them ``<family>-<variant>`` (``-k botnet``)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings as django_settings
from django.test import Client

from genlook_django.conf import DEFAULTS
from genlook_django.models import TryOn, UsageRecord
from tests.support.concurrency import in_parallel
from tests.support.storefront import start

from ..figures import full_run, scaled
from .strangers import detail_url

LIMITS = (
    "UPLOAD_QUOTA",
    "TRY_ON_QUOTA",
    "IP_UPLOAD_QUOTA",
    "IP_TRY_ON_QUOTA",
    "UPLOAD_BUDGET",
    "DAILY_TRY_ON_BUDGET",
)


def drain_limits() -> dict[str, Any]:
    """The defaults (conf.DEFAULTS, docs/settings.md) in a full run; scaled down, smaller
    numbers in the same order (per shopper < per address < for the shop)."""
    if full_run():
        return {name: DEFAULTS[name] for name in LIMITS}
    return {
        "UPLOAD_QUOTA": (3, 300),
        "TRY_ON_QUOTA": (5, 7 * 24 * 3600),
        "IP_UPLOAD_QUOTA": (6, 3600),
        "IP_TRY_ON_QUOTA": (8, 24 * 3600),
        "UPLOAD_BUDGET": (10, 3600),
        "DAILY_TRY_ON_BUDGET": 14,
    }


def limit_count(value: Any) -> int:
    return value if isinstance(value, int) else value[0]


@dataclass
class Drain:
    """One script's tally: try-ons accepted, refusals by code, and what the credits say."""

    name: str
    cap_name: str
    cap: int
    codes: set[str]  # the refusals expected once the cap is reached
    accepted: int = 0
    refused: Counter = field(default_factory=Counter)
    other: Counter = field(default_factory=Counter)
    spent: int = 0
    created_before: int = 0  # try-ons created at the sandbox before the script ran
    cap_note: str = ""

    def tally(self, response: Any) -> int:
        if isinstance(response, BaseException):
            self.other[repr(response)[:80]] += 1
            return 0
        if response.status_code == 202:
            self.accepted += 1
        elif response.status_code == 429:
            body = response.json()
            self.refused[body["code"]] += 1
            assert int(response["Retry-After"]) == body["retry_after"] > 0, body
        else:
            code = (
                response.json().get("code")
                if response.get("Content-Type", "").startswith("application/json")
                else ""
            )
            self.other[f"{response.status_code} {code}"] += 1
        return response.status_code

    def summary(self) -> str:
        refused = ", ".join(f"{n} {code}" for code, n in sorted(self.refused.items())) or "-"
        other = f"; other: {dict(self.other)}" if self.other else ""
        return (
            f"{self.accepted} accepted, refused: {refused}{other}; "
            f"{self.spent} credits spent <= {self.cap} ({self.cap_note or self.cap_name})"
        )


@dataclass
class Shop:
    """What a script posts to: the storefront's try-on endpoint, one product, one photo."""

    product: Any
    photo: bytes
    counts: dict[str, int]  # the configured limits, as numbers

    def upload(self, client: Client) -> Any:
        return start(client, self.product, self.photo)

    def reuse(self, client: Client) -> Any:
        response = start(client, self.product, reuse_photo="true")
        if response.status_code == 400 and response.json()["code"] == "PHOTO_REQUIRED":
            response = self.upload(client)
        return response


@dataclass(frozen=True)
class Script:
    name: str
    cap_name: str  # the limit that must hold
    codes: frozenset[str]  # the refusals expected once it is reached
    run: Callable[[Drain, Shop], None]
    setting: dict[str, Any] = field(default_factory=dict)  # GENLOOK settings of its own


def one_shopper_new_photos(drain: Drain, shop: Shop) -> None:
    shopper = Client(REMOTE_ADDR="198.51.100.1")
    for _ in range(drain.cap + scaled(10, 3)):
        drain.tally(shop.upload(shopper))
    assert drain.accepted == drain.cap


def one_shopper_reusing(drain: Drain, shop: Shop) -> None:
    """Reusing their photo; then erasing everything and trying again."""
    shopper = Client(REMOTE_ADDR="198.51.100.2")
    for _ in range(drain.cap + scaled(10, 3)):
        drain.tally(shop.reuse(shopper))
    for public_id in TryOn.objects.values_list("public_id", flat=True):
        assert shopper.delete(detail_url(str(public_id))).status_code == 204
    for _ in range(scaled(5, 2)):  # an erasure gives no quota back
        drain.tally(shop.reuse(shopper))
    assert drain.accepted == drain.cap


def fresh_sessions(forwarded: str | None) -> Callable[[Drain, Shop], None]:
    """A fresh session (no cookie) for every request, from one address, ``forwarded`` (if
    any) as its ``X-Forwarded-For``."""

    def run(drain: Drain, shop: Shop) -> None:
        for n in range(drain.cap + scaled(10, 3)):
            headers = {"X-Forwarded-For": forwarded.format(n=n % 250)} if forwarded else {}
            drain.tally(shop.upload(Client(REMOTE_ADDR="198.51.100.3", headers=headers)))
        assert drain.accepted == drain.cap

    return run


def botnet_new_photos(drain: Drain, shop: Shop) -> None:
    """Many addresses, a fresh session each: the shop's upload budget."""
    for n in range(drain.cap + scaled(20, 3)):
        drain.tally(shop.upload(Client(REMOTE_ADDR=f"10.{n // 250}.{n % 250}.1")))
    assert drain.accepted == drain.cap


def botnet_reusing(drain: Drain, shop: Shop) -> None:
    """Bots reusing their photo, each to its own quota: the daily budget."""
    bot = 0
    while not drain.refused["DAILY_BUDGET_EXCEEDED"]:
        bot += 1
        client = Client(REMOTE_ADDR=f"10.{bot // 250}.{bot % 250}.2")
        while drain.tally(shop.reuse(client)) == 202:
            pass
        assert bot < 10_000
    for _ in range(scaled(20, 3)):
        drain.tally(shop.reuse(Client(REMOTE_ADDR="192.0.2.99")))
    assert drain.accepted == drain.cap


THREADS = scaled(24, 8)


def parallel_addresses(drain: Drain, shop: Shop) -> None:
    """Requests released together from many addresses against the daily budget's last
    slots."""
    left = 3
    UsageRecord.objects.bulk_create(
        UsageRecord(kind=UsageRecord.Kind.TRY_ON, shopper_key=f"a_earlier{n}")
        for n in range(drain.cap - left)
    )
    for response in in_parallel(
        THREADS, lambda i: shop.upload(Client(REMOTE_ADDR=f"10.200.{i}.3"))
    ):
        drain.tally(response)
    drain.cap, drain.cap_note = left, f"left of DAILY_TRY_ON_BUDGET {shop.counts[drain.cap_name]}"


def parallel_tabs(drain: Drain, shop: Shop) -> None:
    """One shopper's many tabs, released together against their upload quota."""
    first = Client(REMOTE_ADDR="198.51.100.4")
    drain.tally(shop.upload(first))  # the session is made with the first try-on
    cookie = first.cookies[django_settings.SESSION_COOKIE_NAME].value

    def tab(i: int) -> Any:
        client = Client(REMOTE_ADDR="198.51.100.4")
        client.cookies[django_settings.SESSION_COOKIE_NAME] = cookie
        return shop.upload(client)

    for response in in_parallel(THREADS, tab):
        drain.tally(response)
    assert len({row.shopper_key for row in TryOn.objects.all()}) == 1  # one shopper


SCRIPTS = {
    "one_shopper-new_photos": Script(
        "one shopper, new photos",
        "UPLOAD_QUOTA",
        frozenset({"UPLOAD_QUOTA_EXCEEDED"}),
        one_shopper_new_photos,
    ),
    "one_shopper-reusing": Script(
        "one shopper, reusing",
        "TRY_ON_QUOTA",
        frozenset({"TRY_ON_QUOTA_EXCEEDED"}),
        one_shopper_reusing,
    ),
    # Spoofing X-Forwarded-For changes nothing when it is not trusted, nor behind a trusted
    # proxy (the client makes up the left part; the proxy appends the address it saw).
    "fresh_sessions-one_address": Script(
        "fresh sessions, one address",
        "IP_UPLOAD_QUOTA",
        frozenset({"IP_UPLOAD_QUOTA_EXCEEDED"}),
        fresh_sessions(None),
    ),
    "fresh_sessions-forwarded_ignored": Script(
        "fresh sessions, X-Forwarded-For ignored",
        "IP_UPLOAD_QUOTA",
        frozenset({"IP_UPLOAD_QUOTA_EXCEEDED"}),
        fresh_sessions("203.0.113.{n}"),
    ),
    "fresh_sessions-behind_proxy": Script(
        "fresh sessions, behind a proxy",
        "IP_UPLOAD_QUOTA",
        frozenset({"IP_UPLOAD_QUOTA_EXCEEDED"}),
        fresh_sessions("203.0.113.{n}, 198.51.100.3"),
        {"CLIENT_IP_HEADER": "X-Forwarded-For"},
    ),
    "botnet-new_photos": Script(
        "a botnet, new photos",
        "UPLOAD_BUDGET",
        frozenset({"UPLOAD_BUDGET_EXCEEDED"}),
        botnet_new_photos,
    ),
    "botnet-reusing": Script(
        "a botnet, reusing",
        "DAILY_TRY_ON_BUDGET",
        frozenset({"DAILY_BUDGET_EXCEEDED", "TRY_ON_QUOTA_EXCEEDED"}),
        botnet_reusing,
    ),
    "parallel-many_addresses": Script(
        "in parallel, many addresses",
        "DAILY_TRY_ON_BUDGET",
        frozenset({"DAILY_BUDGET_EXCEEDED"}),
        parallel_addresses,
    ),
    "parallel-tabs": Script(
        "in parallel, one shopper's tabs",
        "UPLOAD_QUOTA",
        # Racing reservations: any quota the tabs share (the shopper's, and the address's,
        # since every tab comes from one address) may be the one found full.
        frozenset({"UPLOAD_QUOTA_EXCEEDED", "TRY_ON_QUOTA_EXCEEDED", "IP_UPLOAD_QUOTA_EXCEEDED"}),
        parallel_tabs,
    ),
}
