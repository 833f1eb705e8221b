"""R5, no stranger reaches a shopper's try-ons (docs/reliability.md).

Every URL of the project is classified (an unclassified one fails
``test_every_url_of_the_project_is_classified``), and every one that takes an object id or
acts on objects is tried with every method, by every kind of stranger, on ids of objects
in every state, on other shoppers' ids and on guessed ones. Nothing may be read, nothing may
change, and the answer must be the one a never-existing id gets.

One case per family of URLs (``-k owned_ids``, ``-k staff_urls``...), each against shoppers of
its own; the shoppers, the strangers and the ids they try are made by
``tests/reliability/inputs/strangers.py``, the map of URLs is
``tests/reliability/inputs/routes.py``. Scaled down by default (CI);
``GENLOOK_RELIABILITY=full`` runs the full sizes.
"""

from __future__ import annotations

import hashlib
import secrets
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.core import signing
from django.http import HttpResponse
from django.urls import reverse

from genlook_django.models import (
    ErasureDebt,
    FunnelEvent,
    ShareLink,
    ShopperPhoto,
    TryOn,
    UsageRecord,
)
from genlook_django.services import files
from tests.support.storefront import TRY_ONS, product_ref

from .figures import full_run, scaled
from .inputs.routes import (
    METHODS,
    OWNED_METHODS,
    SHOP_ROUTES,
    Route,
    admin_statuses,
    by_name,
    classify,
    own_statuses,
    owned_statuses,
    project_routes,
    public_statuses,
    shop_statuses,
)
from .inputs.strangers import (
    Actor,
    Victim,
    admin_url,
    body_of,
    emulator_url,
    guessed_ids,
    make_actors,
    make_victims,
    uuid4,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("fast_passwords")]


def test_every_url_of_the_project_is_classified():
    routes = [r for conf in ("tests.urls", "example_shop.urls") for r in project_routes(conf)]
    unclassified = sorted({r.label + "  " + r.route for r in routes if classify(r) is None})
    assert not unclassified, "classify these URLs in inputs/routes.py: " + ", ".join(unclassified)
    # The storefront's object ids are all owner-checked.
    with_ids = {r.name for r in routes if r.namespace == "genlook" and r.params}
    assert with_ids == {
        "tryon-detail",
        "tryon-result",
        "photo-detail",
        "tryon-shares",
        "share",
        "webhook",
        "shared",
        "shared-image",
        "photo-link",
    }


def victims_state(victims: list[Victim], sandbox) -> dict[str, Any]:
    """Everything of the victims' that an attack could change."""
    ids = [i for v in victims for i in v.try_ons.values()]
    photo_uuids = [uuid.UUID(i) for v in victims for i in v.photos.values()]
    keys = [v.key for v in victims]
    try_ons = TryOn.objects.filter(public_id__in=ids).order_by("pk")
    photos = ShopperPhoto.objects.filter(public_id__in=photo_uuids).order_by("pk")
    stored = []
    for row in try_ons:
        if row.result_file:
            content = files.results_storage().open(row.result_file).read()
            stored.append((row.result_file, hashlib.sha256(content).hexdigest()))
    for row in photos:
        content = files.photos_storage().open(row.file_name).read()
        stored.append((row.file_name, hashlib.sha256(content).hexdigest()))
    return {
        "try_ons": [tuple(r.values()) for r in try_ons.values()],
        "photos": [tuple(r.values()) for r in photos.values()],
        "usage": sorted(
            UsageRecord.objects.filter(shopper_key__in=keys).values_list("kind", "shopper_key")
        )
        + sorted(
            ErasureDebt.objects.filter(shopper_key__in=keys).values_list("shopper_key", flat=True)
        ),
        "funnel": sorted(FunnelEvent.objects.filter(shopper_key__in=keys).values_list("kind")),
        "share_links": sorted(
            ShareLink.objects.filter(try_on__shopper_key__in=keys).values_list(
                "public_id", "token_hash", "expires_at"
            )
        ),
        "files": stored,
        "erasures_at_genlook": [
            sum(
                1
                for r in sandbox.state.requests
                if (r.method, r.path) == ("DELETE", f"/customers/{k}") and r.status < 400
            )
            for k in keys
        ],
        "sessions": [dict(v.client.session.items()) for v in victims],
    }


@dataclass
class Matrix:
    """Attempts, and what went wrong: a read (``leaks``), an answer that differs from a
    never-existing id's (``oracles``), an unexpected status."""

    attempts: int = 0
    statuses: Counter = field(default_factory=Counter)
    leaks: list[str] = field(default_factory=list)
    oracles: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    routes: set[str] = field(default_factory=set)

    def record(
        self,
        what: str,
        response: HttpResponse,
        allowed: set[int],
        secrets_: list[bytes],
        baseline: tuple[int, bytes] | None = None,
    ) -> None:
        self.attempts += 1
        self.statuses[response.status_code] += 1
        content = body_of(response)
        seen = content + repr(sorted(response.items())).encode()
        found = [s for s in secrets_ if s and s in seen]
        if found:
            self.leaks.append(f"{what}: {found[0][:40]!r}")
        if response.status_code not in allowed:
            self.unexpected.append(f"{what}: {response.status_code} {content[:120]!r}")
        if baseline is not None and (response.status_code, content) != baseline:
            self.oracles.append(
                f"{what}: {response.status_code} {content[:80]!r} vs never-existing "
                f"{baseline[0]} {baseline[1][:80]!r}"
            )


@dataclass
class Attack:
    """One family's shoppers, the strangers and shoppers who attack them, and the tally."""

    victims: list[Victim]
    actors: list[Actor]
    guesses: list[tuple[str, str]]
    routes: list[Route]
    product: Any
    matrix: Matrix = field(default_factory=Matrix)

    @property
    def strangers(self) -> list[Actor]:
        return [a for a in self.actors if a.owner is None]

    def of_class(self, kind: str) -> list[Route]:
        return [r for r in self.routes if classify(r) == kind]

    def all_secrets(self) -> list[bytes]:
        return [s for v in self.victims for s in v.secrets]

    def secrets_for(self, actor: Actor) -> list[bytes]:
        return [s for v in self.victims if v is not actor.owner for s in v.secrets]


def owned_ids(a: Attack) -> None:
    """The owner-checked views: every method, every stranger, every id (scaled down,
    strangers who are no shopper try the first shopper's ids; shoppers, each other's)."""
    matrix = a.matrix
    pks = {str(p): pk for p, pk in TryOn.objects.values_list("public_id", "pk")}
    for actor in a.actors:
        attacked = a.victims if full_run() or actor.owner else a.victims[:1]
        targets = [
            (label, public_id)
            for victim in attacked
            if victim is not actor.owner
            for label, public_id in victim.ids()
        ]
        targets += a.guesses
        hidden = a.secrets_for(actor)
        for route in a.of_class("owned"):
            matrix.routes.add(route.label)
            for method in METHODS:
                never = actor.request(method, reverse(f"genlook:{route.name}", args=[uuid4()]))
                baseline = (never.status_code, body_of(never))
                allowed = owned_statuses(route.name, method)
                for label, public_id in targets:
                    matrix.record(
                        f"{actor.name}: {method} {route.name} ({label})",
                        actor.request(method, reverse(f"genlook:{route.name}", args=[public_id])),
                        allowed,
                        hidden,
                        baseline,
                    )
        # Ids the URLs do not take: a primary key, upper case, without dashes.
        victim = next(v for v in a.victims if v is not actor.owner)
        public_id = victim.try_ons["completed"]
        pk = pks[public_id]
        for path in (
            f"/genlook/api/tryons/{pk}/",
            f"/genlook/api/tryons/{pk}/result/",
            f"/genlook/api/photos/{pk}/",
            f"/genlook/api/tryons/{public_id.upper()}/",
            f"/genlook/api/tryons/{uuid.UUID(public_id).hex}/result/",
        ):
            for method in ("GET", "DELETE"):
                matrix.record(
                    f"{actor.name}: {method} {path}", actor.request(method, path), {404}, hidden
                )


def own_context(a: Attack) -> None:
    """The requester's own context: never another's photo, no list of try-ons."""
    for actor in a.actors:
        hidden = a.secrets_for(actor)
        for name in ("me", "tryon-list"):
            a.matrix.routes.add(f"genlook:{name}")
            for method in METHODS:
                a.matrix.record(
                    f"{actor.name}: {method} {name}",
                    actor.request(method, reverse(f"genlook:{name}")),
                    own_statuses(name, method),
                    hidden,
                )


def public_pages(a: Attack) -> None:
    """Public pages, the shop (carts are the session's own), webhooks (a secret token)."""
    matrix = a.matrix
    for actor in a.actors:
        hidden = a.secrets_for(actor)
        for name in ("schema", "jsi18n", "privacy", "widget-button"):
            matrix.routes.add(f"genlook:{name}")
            url = reverse(f"genlook:{name}")
            if name == "widget-button":
                url += f"?product={product_ref(a.product)}"
            for method in METHODS:
                matrix.record(
                    f"{actor.name}: {method} {name}",
                    actor.request(method, url),
                    public_statuses(name, method),
                    hidden,
                )
        for name in SHOP_ROUTES:
            if actor.owner is not None and name in ("cart_add", "cart_remove"):
                continue  # a shopper changing their own cart
            matrix.routes.add(f"shop:{name}")
            args = [a.product.slug] if by_name(a.routes, "shop", name).params else []
            for method in METHODS if full_run() else ("GET", "POST", "DELETE"):
                matrix.record(
                    f"{actor.name}: {method} shop {name}",
                    actor.request(method, reverse(f"shop:{name}", args=args)),
                    shop_statuses(name, method),
                    hidden,
                )
        for n in range(scaled(6, 2)):
            token = secrets.token_urlsafe(32) if n % 2 else "A" * 43
            matrix.routes.add("genlook:webhook")
            for method in METHODS:
                matrix.record(
                    f"{actor.name}: {method} webhook (guessed token)",
                    actor.request(method, reverse("genlook:webhook", args=[token])),
                    {404} if method == "POST" else {405},
                    a.all_secrets(),
                )
            for name in ("shared", "shared-image"):  # a share link's token, guessed
                matrix.routes.add(f"genlook:{name}")
                for method in METHODS:
                    matrix.record(
                        f"{actor.name}: {method} {name} (guessed token)",
                        actor.request(method, reverse(f"genlook:{name}", args=[token])),
                        {404} if method in ("GET", "HEAD") else {403, 405},
                        a.all_secrets(),
                    )
        # Photo links (docs/classic-api.md): guessed, or signed with anything but the
        # project's key and salt, even naming a real photo's file, they are 404.
        photo_files = list(ShopperPhoto.objects.values_list("file_name", flat=True)[:2])
        forged = [signing.dumps(name, salt="another", compress=True) for name in photo_files]
        for token in ["A" * 43, secrets.token_urlsafe(32), *forged]:
            matrix.routes.add("genlook:photo-link")
            for method in METHODS:
                matrix.record(
                    f"{actor.name}: {method} photo link (guessed or forged token)",
                    actor.request(method, reverse("genlook:photo-link", args=[token])),
                    {404} if method in ("GET", "HEAD") else {405},
                    a.all_secrets(),
                )


def staff_urls(a: Attack) -> None:
    """The admin: staff only, then the model's permissions."""
    for actor in a.actors if full_run() else a.strangers:
        hidden = a.secrets_for(actor)
        staff = actor.name.startswith("staff")
        for route in a.of_class("staff"):
            a.matrix.routes.add(route.label)
            url = admin_url(route, a.victims[0])
            for method in METHODS if full_run() else ("GET", "POST"):
                response = actor.request(method, url)
                a.matrix.record(
                    f"{actor.name}: {method} {route.name}",
                    response,
                    admin_statuses(staff, method),
                    hidden,
                )
                if response.status_code == 302:
                    to = reverse("admin:index" if staff else "admin:login")
                    assert response["Location"].startswith(to), (actor.name, url)


def emulator_and_media(a: Attack) -> None:
    """The sandbox (Genlook's API in this test project) wants its x-api-key (classic: its
    Bearer key), never a session, and its control endpoints their control token; try-on
    files are never under MEDIA_URL (they are in the private storages)."""
    for actor in a.strangers[:3]:
        for route in a.of_class("emulator"):
            if not route.params and not (route.name or "").startswith("control-"):
                continue
            a.matrix.routes.add(route.label)
            for method in ("GET", "DELETE"):
                a.matrix.record(
                    f"{actor.name}: {method} {route.name}",
                    actor.request(method, emulator_url(route, a.victims[0])),
                    {401, 404, 405},
                    a.all_secrets(),
                )
        for name in TryOn.objects.exclude(result_file="").values_list("result_file", flat=True):
            a.matrix.routes.add(":^media/(?P<path>.*)$")
            a.matrix.record(
                f"{actor.name}: GET /media/{name}",
                actor.request("GET", f"/media/{name}"),
                {404},
                a.all_secrets(),
            )


def photo_ids(a: Attack) -> None:
    """Starting a try-on with another shopper's photo id: one's own photo, or none."""
    for actor in a.actors:
        victim = next(v for v in a.victims if v is not actor.owner)
        for fields in (
            {"photo": victim.photos["live"]},
            {
                "reuse_photo": "true",
                "photo_id": victim.photos["live"],
                "photo_public_id": victim.photos["live"],
            },
        ):
            headers = {"X-CSRFToken": actor.client.cookies["csrftoken"].value} if actor.csrf else {}
            response = actor.client.post(
                TRY_ONS,
                {"product": product_ref(a.product), "consent": "true", **fields},
                headers=headers,
            )
            a.matrix.record(
                f"{actor.name}: POST tryon-list with a victim's photo id ({', '.join(fields)})",
                response,
                {202, 400} if actor.owner and "reuse_photo" in fields else {400},
                [s for s in a.secrets_for(actor) if s not in victim.photos["live"].encode()],
            )
            if response.status_code == 202:  # a victim reusing their *own* last photo
                row = TryOn.objects.select_related("photo").get(public_id=response.json()["id"])
                assert row.shopper_key == actor.owner.key
                assert row.photo.shopper_key == actor.owner.key


# family -> (its attack, the classes of URLs it attacks, what of the victims' must not move)
EVERYTHING = (
    "try_ons",
    "photos",
    "usage",
    "funnel",
    "share_links",
    "files",
    "erasures_at_genlook",
    "sessions",
)
FAMILIES: dict[str, tuple[Callable[[Attack], None], tuple[str, ...], tuple[str, ...]]] = {
    "owned_ids": (owned_ids, ("owned",), EVERYTHING),
    "own_context": (own_context, ("own",), EVERYTHING),
    "public_pages": (public_pages, ("public", "session", "token"), EVERYTHING),
    "staff_urls": (staff_urls, ("staff",), EVERYTHING),
    "emulator_and_media": (emulator_and_media, ("emulator", "media"), EVERYTHING),
    # Shoppers attacking each other start try-ons of their own here, reusing their own photo:
    # their usage, funnel, sessions and photo rows move; their try-ons and files must not.
    "photo_ids": (photo_ids, (), ("try_ons", "share_links", "files", "erasures_at_genlook")),
}


def test_every_url_with_an_id_is_attacked_by_a_family():
    attacked = {kind for _attack, kinds, _kept in FAMILIES.values() for kind in kinds}
    routes = project_routes("tests.urls")
    with_ids = {r.label for r in routes if r.params and classify(r) != "django-admin"}
    assert with_ids == {r.label for r in routes if r.params and classify(r) in attacked}
    assert {r.name for r in routes if classify(r) == "owned"} == set(OWNED_METHODS)


@pytest.mark.parametrize("family", FAMILIES)
def test_no_stranger_reaches_a_shoppers_try_ons(
    family,
    storefront,
    settings,
    product,
    person_photo,
    figures,
):
    settings.GENLOOK = {
        **settings.GENLOOK,
        "WEBHOOKS": True,
        **dict.fromkeys(
            ("UPLOAD_QUOTA", "TRY_ON_QUOTA", "IP_UPLOAD_QUOTA", "IP_TRY_ON_QUOTA", "UPLOAD_BUDGET")
        ),
        "DAILY_TRY_ON_BUDGET": None,
    }
    attack_with, kinds, kept = FAMILIES[family]
    began = time.monotonic()
    victims = make_victims(scaled(8, 2), product, person_photo, storefront)
    assert victims[0].client.post(reverse("shop:cart_add", args=[product.slug])).status_code == 302
    attack = Attack(
        victims=victims,
        actors=make_actors(victims),
        guesses=guessed_ids(victims, scaled(12, 2)),
        routes=project_routes("tests.urls"),
        product=product,
    )
    before = victims_state(victims, storefront)

    attack_with(attack)

    after = victims_state(victims, storefront)
    modified = sorted(key for key in kept if before[key] != after[key])
    matrix = attack.matrix
    id_routes = {r.label for r in attack.routes if r.params and classify(r) in kinds}
    figures.update(
        urls=len(attack.routes),
        urls_with_object_ids=len(id_routes),
        urls_attacked=len(matrix.routes),
        shoppers=len(victims),
        strangers=len(attack.strangers),  # besides the shoppers, who attack each other
        ids_per_shopper=len(victims[0].ids()),
        guessed_ids=len(attack.guesses),
        attempts=matrix.attempts,
        statuses=dict(sorted(matrix.statuses.items())),
        leaks=len(matrix.leaks),
        oracles=len(matrix.oracles),
        unexpected_statuses=len(matrix.unexpected),
        modifications=len(modified),
        seconds=round(time.monotonic() - began, 1),
    )
    assert matrix.attempts
    assert not matrix.leaks, matrix.leaks[:10]
    assert not matrix.oracles, matrix.oracles[:10]
    assert not matrix.unexpected, matrix.unexpected[:10]
    assert not modified, {key: (before[key], after[key]) for key in modified}
    assert id_routes <= matrix.routes, sorted(id_routes - matrix.routes)
