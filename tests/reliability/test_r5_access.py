"""R5 access (docs/reliability.md): no shopper reaches another's try-on, the API key shows
nowhere, and the quotas and the shop's budgets stop a script from draining the credits.

1. ``test_no_stranger_reaches_a_shoppers_try_ons``: every URL of the project is classified
   (an unclassified one fails the test), and every one that takes an object id is tried
   with every method, by every kind of stranger, on ids of objects in every state, on other
   shoppers' ids and on guessed ones. Nothing may be read, nothing may change, and the
   answer must be the one a never-existing id gets.
2. ``test_the_api_key_shows_nowhere``: a distinctive key; every page, static file, API
   answer (errors and crashes, DEBUG on and off), admin page, command output, log record
   (tracebacks with their locals too) and stored row is scanned for it.
3. ``test_a_script_cannot_drain_the_credits``: scripted clients (one shopper, fresh
   sessions, spoofed and real address changes, threads) against the quotas and budgets;
   the credits spent are counted at the sandbox.

Scaled down by default (CI); ``GENLOOK_RELIABILITY=full`` runs the full sizes.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import io
import json
import logging
import secrets
import time
import traceback
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.contrib.staticfiles import finders
from django.core.cache import caches
from django.core.management import call_command
from django.core.serializers import serialize
from django.http import HttpResponse
from django.test import Client
from django.urls import URLResolver, get_resolver, reverse
from django.views.debug import ExceptionReporter

from genlook_django.client import GenlookError
from genlook_django.conf import DEFAULTS
from genlook_django.models import (
    ErasureDebt,
    FunnelEvent,
    ShopperPhoto,
    TryOn,
    UsageRecord,
    WebhookDelivery,
)
from genlook_django.services import files
from genlook_django.services.genlook import get_client
from genlook_django.services.tryons import shoppers
from tests.support import images
from tests.support.catalog import API_KEY
from tests.support.concurrency import in_parallel
from tests.support.storefront import ME, TRY_ONS, follow, product_ref, start

from .figures import full_run, scaled

pytestmark = pytest.mark.django_db(transaction=True)

State = TryOn.State
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def body_of(response: HttpResponse) -> bytes:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content)
    return response.content


def send(client: Client, method: str, url: str, **kwargs: Any) -> HttpResponse:
    return getattr(client, method.lower())(url, **kwargs)


# == 1. No stranger reaches a shopper's try-ons =================================================

# Every URL of the project, by what protects it. A URL not listed here fails the test: say
# what it is before it ships.
GENLOOK_ROUTES = {
    "me": "own",  # the requesting shopper's own context; no object id
    "tryon-list": "own",  # POST only: starts the requester's own try-on
    "tryon-detail": "owned",  # object ids: the owner's, else 404 (docs/storefront-api.md)
    "tryon-result": "owned",
    "photo-detail": "owned",
    "schema": "public",
    "jsi18n": "public",
    "privacy": "public",
    "webhook": "token",  # a per-try-on secret token, for Genlook (docs/webhooks.md)
}
SHOP_ROUTES = {
    "catalog": "public",
    "product": "public",  # a product's slug: public
    "cart": "session",  # the session's own cart
    "cart_add": "session",
    "cart_remove": "session",
}
ROOT_ROUTES = {"set_language": "public", "javascript-catalog": "public"}
# genlook_<model>_<action>: admin_site.admin_view (staff), then the model's permissions.
ADMIN_ACTIONS = {
    "changelist",
    "add",
    "change",
    "delete",
    "history",
    "result",
    "retry",
    "erase_shopper",
    "image",
    "use",
    "cancel",
    "gallery",
    "refresh",
    "preview",
}


@dataclass(frozen=True)
class Route:
    urlconf: str
    route: str
    namespace: str
    name: str | None
    params: tuple[str, ...]

    @property
    def label(self) -> str:
        return f"{self.namespace}:{self.name or self.route}"


def project_routes(urlconf: str) -> list[Route]:
    """Every URL pattern of ``urlconf``, includes walked."""

    def walk(resolver: URLResolver, prefix: str, namespace: str) -> Iterator[Route]:
        for pattern in resolver.url_patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                inner = ":".join(part for part in (namespace, pattern.namespace) if part)
                yield from walk(pattern, route, inner)
            else:
                params = tuple(getattr(pattern.pattern, "converters", {}))
                params += tuple(pattern.pattern.regex.groupindex) if not params else ()
                yield Route(urlconf, route, namespace, pattern.name, params)

    return list(walk(get_resolver(urlconf), "", ""))


def classify(route: Route) -> str | None:
    if route.namespace == "genlook":
        return GENLOOK_ROUTES.get(route.name or "")
    if route.namespace == "shop":
        return SHOP_ROUTES.get(route.name or "")
    if route.namespace in ("genlook_sandbox", "genlook_sandbox_classic"):
        # Genlook's API (v1: x-api-key; classic: Bearer); not in a live shop (check W002)
        return "emulator"
    if route.namespace == "admin":
        if (route.name or "").startswith("genlook_"):
            _app, _model, action = route.name.split("_", 2)
            return "staff" if action in ADMIN_ACTIONS else None
        return "django-admin"  # Django's own admin pages (staff)
    if route.namespace == "" and route.name in ROOT_ROUTES:
        return ROOT_ROUTES[route.name]
    if route.namespace == "" and route.name is None and route.route.startswith("^media/"):
        return "media"  # product images; try-on files live in the private storages
    return None


def test_every_url_of_the_project_is_classified():
    routes = [r for conf in ("tests.urls", "example_shop.urls") for r in project_routes(conf)]
    unclassified = sorted({r.label + "  " + r.route for r in routes if classify(r) is None})
    assert not unclassified, "classify these URLs in test_r5_access.py: " + ", ".join(unclassified)
    # The storefront's object ids are all owner-checked.
    with_ids = {r.name for r in routes if r.namespace == "genlook" and r.params}
    assert with_ids == {"tryon-detail", "tryon-result", "photo-detail", "webhook"}


@dataclass
class Victim:
    """A shopper with try-ons and photos in every state."""

    client: Client
    key: str
    try_ons: dict[str, str] = field(default_factory=dict)  # state -> public id
    photos: dict[str, str] = field(default_factory=dict)
    secrets: list[bytes] = field(default_factory=list)  # what nobody else may read
    row: TryOn | None = None  # the completed try-on, as it was before any attack
    result: bytes = b""  # its image

    def ids(self) -> list[tuple[str, str]]:
        return [(f"try-on {s}", i) for s, i in self.try_ons.items()] + [
            (f"photo {s}", i) for s, i in self.photos.items()
        ]


def _accepted(response: HttpResponse) -> dict:
    assert response.status_code == 202, response.content
    return response.json()


def make_victims(count: int, item: Any, person_photo: bytes, sandbox) -> list[Victim]:
    """``count`` shoppers (every third one signed in), each with: a completed try-on, a
    completed one they erased (its photo with it), a pending one they erased (withdrawn, its
    photo's erasure owed), a pending one, and rows received, submitting, failed; plus an
    anonymised row of the retention purge."""
    users = get_user_model()
    victims: list[Victim] = []
    sandbox.state.configure(generation_seconds=0.3)
    for n in range(count):
        client = Client()
        if n % 3 == 2:
            client.force_login(users.objects.create_user(f"victim{n}"))
        victims.append(Victim(client, ""))
    done = [_accepted(start(v.client, item, person_photo)) for v in victims]
    erased = [_accepted(start(v.client, item, person_photo)) for v in victims]
    for victim, first, second in zip(victims, done, erased, strict=True):
        victim.try_ons["completed"] = follow(victim.client, first)["id"]
        follow(victim.client, second)
        victim.key = TryOn.objects.get(public_id=first["id"]).shopper_key
        victim.photos["live"] = str(TryOn.objects.get(public_id=first["id"]).photo.public_id)
        victim.photos["erased"] = str(TryOn.objects.get(public_id=second["id"]).photo.public_id)
        assert victim.client.delete(detail_url(second["id"])).status_code == 204
        victim.try_ons["erased"] = second["id"]

    sandbox.state.configure(generation_seconds=3600)  # these stay pending
    for victim in victims:
        withdrawn = _accepted(start(victim.client, item, person_photo))
        victim.photos["erasure owed"] = str(
            TryOn.objects.get(public_id=withdrawn["id"]).photo.public_id
        )
        assert victim.client.delete(detail_url(withdrawn["id"])).status_code == 204
        victim.try_ons["withdrawn"] = withdrawn["id"]
        victim.try_ons["pending"] = _accepted(start(victim.client, item, reuse_photo="true"))["id"]
        template = victim.row = TryOn.objects.get(public_id=victim.try_ons["completed"])
        for state, extra in (
            (State.RECEIVED, {}),
            (State.SUBMITTING, {}),
            (State.FAILED, {"error_code": "GENERATION_FAILED", "error_message": "failed"}),
        ):
            row = TryOn.objects.create(
                shopper_key=victim.key,
                photo=template.photo,
                content_type=template.content_type,
                object_id=template.object_id,
                consent_version=template.consent_version,
                state=state,
                **extra,
            )
            victim.try_ons[state] = str(row.public_id)

        # Everything that identifies the victim or shows their photos.
        rows = TryOn.objects.filter(public_id__in=victim.try_ons.values())
        victim.secrets += [victim.key.encode()]
        victim.secrets += [g.encode() for g in rows.values_list("generation_id", flat=True) if g]
        victim.secrets += [str(i).encode() for i in victim.try_ons.values()]
        victim.secrets += [uuid.UUID(i).hex.encode() for i in victim.try_ons.values()]
        victim.secrets += [i.encode() for i in victim.photos.values()]
        victim.secrets += [uuid.UUID(i).hex.encode() for i in victim.photos.values()]
        result = files.results_storage().open(template.result_file).read()
        photo = files.photos_storage().open(template.photo.file_name).read()
        victim.secrets += [result[len(result) // 2 : len(result) // 2 + 48]]
        victim.secrets += [photo[len(photo) // 2 : len(photo) // 2 + 48]]
        victim.result = result

    # The owner still reads what is theirs: the 404s below are about who asks.
    for victim in victims:
        owner = victim.client
        assert owner.get(detail_url(victim.try_ons["completed"])).status_code == 200
        assert owner.get(detail_url(victim.try_ons["failed"])).status_code == 200
        result = owner.get(reverse("genlook:tryon-result", args=[victim.try_ons["completed"]]))
        assert body_of(result) == victim.result
        assert owner.get(photo_url(victim.photos["live"])).status_code == 200
        assert owner.get(detail_url(victim.try_ons["erased"])).status_code == 404
        assert owner.get(detail_url(victim.try_ons["withdrawn"])).status_code == 404
        assert owner.get(photo_url(victim.photos["erasure owed"])).status_code == 404
    anonymised = TryOn.objects.create(
        shopper_key="",
        content_type=template.content_type,
        object_id=template.object_id,
        consent_version=template.consent_version,
        state=State.COMPLETED,
    )
    victims[0].try_ons["anonymised"] = str(anonymised.public_id)
    return victims


def detail_url(public_id: str) -> str:
    return reverse("genlook:tryon-detail", kwargs={"public_id": public_id})


def photo_url(public_id: str) -> str:
    return reverse("genlook:photo-detail", kwargs={"public_id": public_id})


def guessed_ids(victims: list[Victim], count: int) -> list[tuple[str, str]]:
    """Ids nobody was given: sequential, the nil and max UUIDs, neighbours of real ones."""
    guesses = [("nil", str(uuid.UUID(int=0))), ("max", str(uuid.UUID(int=2**128 - 1)))]
    real = [uuid.UUID(i) for v in victims for _s, i in v.ids()]
    for n in range(count):
        guesses.append((f"sequential {n + 1}", str(uuid.UUID(int=n + 1))))
        near = real[n % len(real)]
        guesses.append((f"neighbour {n + 1}", str(uuid.UUID(int=(near.int + n + 1) % 2**128))))
    return guesses


@dataclass
class Actor:
    """Someone who is not the owner."""

    name: str
    client: Client
    csrf: bool = False  # sends its own CSRF token on unsafe methods
    owner: Victim | None = None  # a victim attacking the others

    def request(self, method: str, url: str) -> HttpResponse:
        kwargs: dict[str, Any] = {}
        if method in ("POST", "PUT", "PATCH"):
            # A try at mass assignment: ownership and state as fields.
            kwargs = {
                "data": json.dumps({"shopper_key": "mine", "status": "completed", "id": "x"}),
                "content_type": "application/json",
            }
        if self.csrf and method in UNSAFE:
            kwargs["headers"] = {"X-CSRFToken": self.client.cookies["csrftoken"].value}
        return send(self.client, method, url, **kwargs)


def make_actors(victims: list[Victim]) -> list[Actor]:
    users = get_user_model()
    anonymous = Actor("anonymous, no cookie", Client())
    forged = Client()
    forged.cookies[django_settings.SESSION_COOKIE_NAME] = secrets.token_hex(16)
    victim = victims[0]
    session_id = victim.client.cookies.get(django_settings.SESSION_COOKIE_NAME)
    tampered = Client()
    if session_id is not None:
        value = session_id.value
        tampered.cookies[django_settings.SESSION_COOKIE_NAME] = value[:-1] + (
            "a" if value[-1] != "a" else "b"
        )
    key_as_cookie = Client()
    key_as_cookie.cookies[django_settings.SESSION_COOKIE_NAME] = victim.key
    key_as_cookie.cookies[shoppers.SESSION_KEY] = victim.key
    member = Client()
    member.force_login(users.objects.create_user("member"))
    staff = Client()
    staff.force_login(users.objects.create_user("staffer", is_staff=True))
    browser = Client(enforce_csrf_checks=True)
    browser.get(ME)  # its CSRF cookie
    actors = [
        anonymous,
        Actor("forged session cookie", forged),
        Actor("tampered session cookie of a victim", tampered),
        Actor("victim's shopper key as cookies", key_as_cookie),
        Actor("signed-in customer", member),
        Actor("staff without permissions", staff),
        Actor("browser with its CSRF token", browser, csrf=True),
    ]
    actors += [Actor(f"other shopper {n}", v.client, owner=v) for n, v in enumerate(victims)]
    return actors


def victims_state(victims: list[Victim], sandbox) -> dict[str, Any]:
    """Everything of the victims' that an attack could change."""
    ids = [i for v in victims for i in v.try_ons.values()]
    photo_ids = [uuid.UUID(i) for v in victims for i in v.photos.values()]
    keys = [v.key for v in victims]
    try_ons = TryOn.objects.filter(public_id__in=ids).order_by("pk")
    photos = ShopperPhoto.objects.filter(public_id__in=photo_ids).order_by("pk")
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


# The statuses each kind of URL may answer a stranger, by method (docs/storefront-api.md:
# "anyone else gets the same 404 as for an id that never existed"; a method a view does not
# have is 405; an unsafe request without a valid CSRF token is 403).
OWNED_METHODS = {
    "tryon-detail": {"GET", "HEAD", "DELETE", "OPTIONS"},
    "tryon-result": {"GET", "HEAD", "OPTIONS"},
    "photo-detail": {"GET", "HEAD", "DELETE", "OPTIONS"},
}


def owned_statuses(name: str, method: str) -> set[int]:
    if method == "OPTIONS":
        return {200}  # DRF's description of the view, the same for any id (checked)
    return {403, 404} if method in OWNED_METHODS[name] else {403, 405}


def own_statuses(name: str, method: str) -> set[int]:
    if method == "OPTIONS":
        return {200}
    if name == "me":
        return {200} if method in ("GET", "HEAD") else {403, 405}
    return {400, 403} if method == "POST" else {403, 405}  # tryon-list: no list to read


def public_statuses(name: str, method: str) -> set[int]:
    if method in ("GET", "HEAD"):
        return {200}
    if method == "OPTIONS":
        return {405} if name == "privacy" else {200}  # require_safe
    return {403, 405}


def shop_statuses(name: str, method: str) -> set[int]:
    if name in ("cart_add", "cart_remove"):
        return {302, 403} if method == "POST" else {405}  # require_POST
    if name == "cart":
        return {200, 403}  # any method shows the session's own cart
    return {200} if method in ("GET", "HEAD", "OPTIONS") else {403, 405}


def admin_statuses(actor: Actor, method: str) -> set[int]:
    # Strangers are sent to the login page. Staff without the model's permission get 403,
    # 405 for a POST-only view; for an id that does not exist, Django's history and delete
    # views send them to the admin index and the batch views answer 404 (staff may learn
    # that an admin row exists; never what it holds: the body is scanned like any other).
    return {302, 403, 404, 405} if actor.name.startswith("staff") else {302}


def admin_url(route: Route, victim: Victim) -> str:
    """The admin URL, with the ids of the victim's objects where it takes some."""
    row = victim.row
    values = {"object_id": str(row.pk), "item_id": 1, "content_type_id": row.content_type_id}
    return reverse(f"admin:{route.name}", kwargs={p: values[p] for p in route.params})


def emulator_url(route: Route, victim: Victim) -> str:
    row = victim.row
    values = {
        "generation_id": row.generation_id,
        "customer_id": victim.key,
        "external_id": row.product_external_id,
        "name": secrets.token_urlsafe(24),
    }
    return reverse(f"{route.namespace}:{route.name}", kwargs={p: values[p] for p in route.params})


def test_no_stranger_reaches_a_shoppers_try_ons(
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
    began = time.monotonic()
    victims = make_victims(scaled(8, 2), product, person_photo, storefront)
    assert victims[0].client.post(reverse("shop:cart_add", args=[product.slug])).status_code == 302
    actors = make_actors(victims)
    strangers = [a for a in actors if a.owner is None]
    guesses = guessed_ids(victims, scaled(12, 2))
    routes = project_routes("tests.urls")
    by_class: dict[str, list[Route]] = {}
    for route in routes:
        by_class.setdefault(classify(route) or "unclassified", []).append(route)
    assert {r.name for r in by_class["owned"]} == set(OWNED_METHODS)
    all_secrets = [s for v in victims for s in v.secrets]
    before = victims_state(victims, storefront)
    pks = {str(p): pk for p, pk in TryOn.objects.values_list("public_id", "pk")}
    matrix = Matrix()

    def secrets_for(actor: Actor) -> list[bytes]:
        return [s for v in victims if v is not actor.owner for s in v.secrets]

    # 1. The owner-checked views: every method, every stranger, every id (scaled down,
    # strangers who are no shopper try the first shopper's ids; shoppers, each other's).
    for actor in actors:
        attacked = victims if full_run() or actor.owner else victims[:1]
        targets = [
            (label, public_id)
            for victim in attacked
            if victim is not actor.owner
            for label, public_id in victim.ids()
        ]
        targets += guesses
        hidden = secrets_for(actor)
        for route in by_class["owned"]:
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
        victim = next(v for v in victims if v is not actor.owner)
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

    # 2. The requester's own context: never another's photo, no list of try-ons.
    for actor in actors:
        hidden = secrets_for(actor)
        for name in ("me", "tryon-list"):
            matrix.routes.add(f"genlook:{name}")
            for method in METHODS:
                matrix.record(
                    f"{actor.name}: {method} {name}",
                    actor.request(method, reverse(f"genlook:{name}")),
                    own_statuses(name, method),
                    hidden,
                )

    # 3. Public pages, the shop (carts are the session's own), webhooks (a secret token).
    for actor in actors:
        hidden = secrets_for(actor)
        for name in ("schema", "jsi18n", "privacy"):
            matrix.routes.add(f"genlook:{name}")
            for method in METHODS:
                matrix.record(
                    f"{actor.name}: {method} {name}",
                    actor.request(method, reverse(f"genlook:{name}")),
                    public_statuses(name, method),
                    hidden,
                )
        for name in SHOP_ROUTES:
            if actor.owner is not None and name in ("cart_add", "cart_remove"):
                continue  # a shopper changing their own cart
            matrix.routes.add(f"shop:{name}")
            args = [product.slug] if by_name(routes, "shop", name).params else []
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
                    all_secrets,
                )

    # 4. The admin: staff only, then the model's permissions.
    for actor in actors if full_run() else strangers:
        hidden = secrets_for(actor)
        for route in by_class["staff"]:
            matrix.routes.add(route.label)
            url = admin_url(route, victims[0])
            for method in METHODS if full_run() else ("GET", "POST"):
                response = actor.request(method, url)
                matrix.record(
                    f"{actor.name}: {method} {route.name}",
                    response,
                    admin_statuses(actor, method),
                    hidden,
                )
                if response.status_code == 302:
                    to = reverse("admin:index" if actor.name.startswith("staff") else "admin:login")
                    assert response["Location"].startswith(to), (actor.name, url)

    # 5. The sandbox (Genlook's API in this test project) wants its x-api-key (classic: its
    # Bearer key), never a session, and its control endpoints their control token; try-on
    # files are never under MEDIA_URL (they are in the private storages).
    for actor in strangers[:3]:
        for route in by_class["emulator"]:
            if not route.params and not (route.name or "").startswith("control-"):
                continue
            matrix.routes.add(route.label)
            for method in ("GET", "DELETE"):
                matrix.record(
                    f"{actor.name}: {method} {route.name}",
                    actor.request(method, emulator_url(route, victims[0])),
                    {401, 404, 405},
                    all_secrets,
                )
        for name in TryOn.objects.exclude(result_file="").values_list("result_file", flat=True):
            matrix.routes.add(":^media/(?P<path>.*)$")
            matrix.record(
                f"{actor.name}: GET /media/{name}",
                actor.request("GET", f"/media/{name}"),
                {404},
                all_secrets,
            )

    after = victims_state(victims, storefront)
    modified = sorted(key for key in before if before[key] != after[key])

    # 6. Starting a try-on with another shopper's photo id: one's own photo, or none.
    for actor in actors:
        victim = next(v for v in victims if v is not actor.owner)
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
                {"product": product_ref(product), "consent": "true", **fields},
                headers=headers,
            )
            matrix.record(
                f"{actor.name}: POST tryon-list with a victim's photo id ({', '.join(fields)})",
                response,
                {202, 400} if actor.owner and "reuse_photo" in fields else {400},
                [s for s in secrets_for(actor) if s not in victim.photos["live"].encode()],
            )
            if response.status_code == 202:  # a victim reusing their *own* last photo
                row = TryOn.objects.select_related("photo").get(public_id=response.json()["id"])
                assert row.shopper_key == actor.owner.key
                assert row.photo.shopper_key == actor.owner.key

    id_routes = {r.label for r in routes if r.params and classify(r) != "django-admin"}
    figures.update(
        urls=len(routes),
        urls_with_object_ids=len(id_routes),
        urls_attacked=len(matrix.routes),
        shoppers=len(victims),
        strangers=len(strangers),  # besides the shoppers, who attack each other
        ids_per_shopper=len(victims[0].ids()),
        guessed_ids=len(guesses),
        attempts=matrix.attempts,
        statuses=dict(sorted(matrix.statuses.items())),
        leaks=len(matrix.leaks),
        oracles=len(matrix.oracles),
        unexpected_statuses=len(matrix.unexpected),
        modifications=len(modified),
        seconds=round(time.monotonic() - began, 1),
    )
    assert not matrix.leaks, matrix.leaks[:10]
    assert not matrix.oracles, matrix.oracles[:10]
    assert not matrix.unexpected, matrix.unexpected[:10]
    assert not modified, {key: (before[key], after[key]) for key in modified}
    assert id_routes <= matrix.routes, sorted(id_routes - matrix.routes)


def uuid4() -> str:
    return str(uuid.uuid4())


def by_name(routes: list[Route], namespace: str, name: str) -> Route:
    return next(r for r in routes if r.namespace == namespace and r.name == name)


# == 2. The API key shows nowhere ===============================================================

CANARY = "gk_live_R5CANARY_5f0c9a7e3d1b48a6c2e0f4d8b6a3c1e9"
WRONG_KEY = "gk_live_R5WRONGKEY_9e1c3a6b8d4f0e2c6a8b4d1f3e7c9a0b"  # configured by mistake


def needles(key: str) -> list[str]:
    """The key, and any 12 characters of its secret part (so a truncated or partly masked
    key is found too), lower case; its base64 as well."""
    secret = key.rsplit("_", 1)[1]
    windows = {secret[i : i + 12] for i in range(0, len(secret) - 11, 4)}
    return [key.lower(), *sorted(windows), base64.b64encode(key.encode()).decode().lower()]


@dataclass(repr=False)  # its repr would show the keys in the tracebacks it scans
class LeakScan:
    keys: list[str]
    scanned: Counter = field(default_factory=Counter)
    leaks: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._needles = [n for key in self.keys for n in needles(key)]

    def check(self, kind: str, where: str, content: Any) -> None:
        if isinstance(content, bytes | bytearray):
            text = bytes(content).decode("latin-1")
        else:
            text = str(content)
        self.scanned[kind] += 1
        low = text.lower()
        for needle in self._needles:
            at = low.find(needle)
            if at >= 0:
                excerpt = text[max(0, at - 100) : at + 60].replace("\n", "\\n")
                self.leaks.append(f"{kind} [{where}]: …{excerpt}…")
                return

    def response(self, kind: str, where: str, response: HttpResponse) -> HttpResponse:
        """Its headers, cookies and body."""
        headers = "\n".join(f"{k}: {v}" for k, v in response.items())
        head = (headers + "\n" + response.cookies.output() + "\n\n").encode()
        self.check(kind, f"{where} -> {response.status_code}", head + body_of(response))
        return response


@contextlib.contextmanager
def every_log_record() -> Iterator[list[logging.LogRecord]]:
    """Every record of every logger, at DEBUG (``requests`` and ``urllib3`` included),
    whatever the levels and handlers configured."""
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    handler = Keep(logging.DEBUG)
    root = logging.getLogger()
    loggers = [root] + [
        lg for lg in logging.root.manager.loggerDict.values() if isinstance(lg, logging.Logger)
    ]
    saved = [(lg, lg.level, lg.disabled) for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.DEBUG)
        lg.disabled = False
        if not lg.propagate:
            lg.addHandler(handler)
    root.addHandler(handler)
    try:
        yield records
    finally:
        for lg, level, disabled in saved:
            lg.setLevel(level)
            lg.disabled = disabled
            lg.removeHandler(handler)


PLAIN = logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s")


def scan_log_record(scan: LeakScan, record: logging.LogRecord, reported: set) -> None:
    """The record as any handler could write it: the line and its traceback, its fields,
    the traceback with every frame's locals, and what AdminEmailHandler mails (text, and
    the HTML of include_html, with the locals too: once per kind of error when scaled
    down, Django's reports being slow to render)."""
    where = f"{record.name} {record.levelname}"
    scan.check("log lines", where, PLAIN.format(record))
    fields = {k: v for k, v in vars(record).items() if k not in ("exc_info", "exc_text")}
    scan.check("log record fields", where, repr(fields))
    if not record.exc_info or record.exc_info[1] is None:
        return
    exc_info = record.exc_info
    rendered = traceback.TracebackException(*exc_info, capture_locals=True)
    scan.check("tracebacks with locals", where, "".join(rendered.format()))
    kind = (record.name, type(exc_info[1]), tuple((f.filename, f.lineno) for f in rendered.stack))
    if kind in reported and not full_run():
        return
    reported.add(kind)
    reporter = ExceptionReporter(getattr(record, "request", None), *exc_info, is_email=True)
    scan.check("admin e-mails (text)", where, reporter.get_traceback_text())
    scan.check("admin e-mails (html, with locals)", where, reporter.get_traceback_html())


def host_project_reads_the_balance() -> None:
    """A host project's own call, its failure logged with the traceback."""
    try:
        get_client().get_credits()
    except GenlookError:
        logging.getLogger("host_project").exception("Could not read the balance")


class NetworkStackFailure(RuntimeError):
    """Something nobody expected, deep inside requests."""


@pytest.fixture
def canary(storefront, settings):
    """The app with a distinctive API key (an account of its own at the sandbox)."""
    storefront.state.add_account(CANARY, credits=10_000)
    storefront.state.configure(rate_limit=100_000)
    settings.GENLOOK = {
        **settings.GENLOOK,
        "API_KEY": CANARY,
        "CREDITS_RETRY_AFTER": 0,
        **dict.fromkeys(("UPLOAD_QUOTA", "TRY_ON_QUOTA", "IP_UPLOAD_QUOTA", "IP_TRY_ON_QUOTA")),
    }
    return storefront


def test_the_api_key_shows_nowhere(
    canary,
    settings,
    make_product,
    person_photo,
    monkeypatch,
    tmp_path,
    figures,
):
    began = time.monotonic()
    scan = LeakScan([CANARY, WRONG_KEY])
    shirt = make_product("Canary Shirt")
    users = get_user_model()
    admin = Client(raise_request_exception=False)
    admin.force_login(users.objects.create_superuser("boss", "boss@example.com", None))
    member = users.objects.create_user("member")

    def use_key(key: str) -> None:
        settings.GENLOOK = {**settings.GENLOOK, "API_KEY": key}

    def faults(**options: Any) -> None:
        canary.state.clear_faults()
        if options:
            canary.state.set_faults(**options)

    def try_on(client: Client, where: str, **fields: Any) -> dict | None:
        """A try-on through the storefront, followed to its end; every answer scanned."""
        photo = fields.pop("photo", person_photo)
        response = scan.response("api answers", where, start(client, shirt, photo, **fields))
        if response.status_code != 202:
            return None
        body = response.json()
        deadline = time.monotonic() + 10
        while True:
            status = scan.response("api answers", where, client.get(detail_url(body["id"])))
            if status.status_code != 200 or status.json()["poll_after_ms"] is None:
                break
            assert time.monotonic() < deadline, where
            time.sleep(0.05)
        done = status.json() if status.status_code == 200 else body
        for url in (done.get("result_url"), done.get("photo_url")):
            if url:
                scan.response("api answers", where, client.get(url))
        return done

    def shopper_pages(client: Client, where: str) -> None:
        for url in (
            reverse("shop:catalog"),
            shirt.get_absolute_url(),
            reverse("shop:cart"),
            reverse("genlook:privacy"),
            reverse("genlook:jsi18n"),
            reverse("genlook:schema"),
            reverse("genlook:schema") + "?format=json",
            ME,
        ):
            scan.response("pages and widget", f"{where} {url}", client.get(url))

    def api_errors(where: str) -> None:
        client = Client()
        form = {"product": product_ref(shirt), "consent": "true", "photo": io.BytesIO(b"x")}
        answers = [
            start(client, shirt, person_photo, consent="false"),
            start(client, shirt),
            start(client, shirt, b"not a photo at all"),
            start(client, shirt, images.jpeg((120, 90))),
            start(client, shirt, images.gif()),
            client.post(TRY_ONS, form, CONTENT_LENGTH=str(50 * 1024 * 1024)),
            client.post(TRY_ONS, form, CONTENT_LENGTH=""),
            client.post(TRY_ONS, {"product": "shop.product:999999", "consent": "true"}),
            client.post(TRY_ONS, "{not json", content_type="application/json"),
            client.get(TRY_ONS),
            client.put(ME),
            client.get(detail_url(uuid4())),
            client.get(f"/genlook/api/tryons/{uuid4()}/nothing-here/"),
            Client(enforce_csrf_checks=True).post(TRY_ONS, {"product": product_ref(shirt)}),
            client.post(reverse("genlook:webhook", args=["A" * 43]), b"{}", "application/json"),
        ]
        settings.GENLOOK = {**settings.GENLOOK, "UPLOAD_QUOTA": (1, 300)}
        answers += [start(client, shirt, person_photo), start(client, shirt, person_photo)]
        settings.GENLOOK = {**settings.GENLOOK, "UPLOAD_QUOTA": DEFAULTS["UPLOAD_QUOTA"]}
        assert {a.status_code for a in answers} >= {400, 403, 404, 405, 411, 413, 415, 429}
        for answer in answers:
            scan.response("api answers", f"{where} error", answer)

    def genlook_failures(where: str, faults_too: bool) -> None:
        """Every way Genlook or the way to it can fail, while shoppers try things on (the
        failures of Genlook's own need no error page: scaled down, with DEBUG on only, its
        SQL log a superset of the other's)."""
        shopper = Client()
        if faults_too:
            genlook_faults(shopper)
        # A key Genlook does not know; one with a stray newline (pasted from a file).
        for name, key in (
            ("wrong key", WRONG_KEY),
            ("key with a newline", CANARY + "\n"),
            ("key with a space", CANARY.replace("_", " ", 1)),
        ):
            use_key(key)
            try_on(shopper, f"{where} {name}")
            admin_pages(f"{where} {name}", every_object=full_run())
            run_commands(f"{where} {name}", calling_genlook_only=not full_run())
        use_key(CANARY)

    def genlook_faults(shopper: Client) -> None:
        where = "DEBUG" if settings.DEBUG else "production"
        for name, options in (
            ("500", {"error_rates": {500: 1.0}}),
            ("503", {"error_rates": {503: 1.0}}),
            ("429", {"error_rates": {429: 1.0}}),
            ("401", {"error_rates": {401: 1.0}}),
            ("403", {"error_rates": {403: 1.0}}),
            ("failed generation", {"fail_generations": 1.0}),
        ):
            faults(**options)
            try_on(shopper, f"{where} Genlook {name}")
        faults()
        # Slow answers: the create's answer times out (SUBMISSION_UNCERTAIN).
        settings.GENLOOK = {**settings.GENLOOK, "READ_TIMEOUT": 0.2}
        faults(latency=0.4)
        try_on(shopper, f"{where} Genlook too slow")
        faults()
        settings.GENLOOK = {**settings.GENLOOK, "READ_TIMEOUT": 10.0}
        # No credits left: the try-on fails, the next one is refused while paused.
        canary.state.set_credits(CANARY, 0)
        try_on(shopper, f"{where} no credits")
        settings.GENLOOK = {**settings.GENLOOK, "CREDITS_RETRY_AFTER": 120}
        try_on(shopper, f"{where} paused")
        settings.GENLOOK = {**settings.GENLOOK, "CREDITS_RETRY_AFTER": 0}
        canary.state.set_credits(CANARY, 10_000)
        # Genlook unreachable.
        base_url = settings.GENLOOK["BASE_URL"]
        settings.GENLOOK = {**settings.GENLOOK, "BASE_URL": "http://127.0.0.1:9/tryon/v1"}
        try_on(shopper, f"{where} Genlook unreachable")
        settings.GENLOOK = {**settings.GENLOOK, "BASE_URL": base_url}

    def crashes(where: str) -> None:
        """Unexpected exceptions: inside requests while a key is on its way (submitting,
        polling through, reading the balance), in get_client(), in a view."""
        client = Client(raise_request_exception=False)
        done = try_on(client, f"{where} before the crash")
        assert done and done["status"] == "completed", done
        canary.state.configure(generation_seconds=60)
        polled = scan.response("api answers", where, start(client, shirt, person_photo)).json()
        canary.state.configure(generation_seconds=0.3)
        time.sleep(0.15)  # STATUS_POLL_INTERVAL: the next status request asks Genlook

        def explode(*args: Any, **kwargs: Any) -> None:
            raise NetworkStackFailure("the network stack failed")

        with monkeypatch.context() as patch:
            patch.setattr(requests.adapters.HTTPAdapter, "send", explode)
            try_on(client, f"{where} crash inside requests")
            crashed = client.get(detail_url(polled["id"]))
            assert crashed.status_code == 500
            scan.response("error pages (500)", f"{where} crash polling through", crashed)
            scan.response(
                "admin pages",
                f"{where} crash inside requests: credits refresh",
                admin.post(reverse("admin:genlook_creditsnapshot_refresh")),
            )
        # A host project logging a failed call with its traceback (its cause: the socket
        # error, whose frames hold the request as it was sent).
        base_url = settings.GENLOOK["BASE_URL"]
        settings.GENLOOK = {**settings.GENLOOK, "BASE_URL": "http://127.0.0.1:9/tryon/v1"}
        host_project_reads_the_balance()
        settings.GENLOOK = {**settings.GENLOOK, "BASE_URL": base_url}
        # A misconfigured request budget: get_client() itself raises.
        settings.GENLOOK = {**settings.GENLOOK, "RATE_LIMIT_BACKEND": "cache"}
        try_on(client, f"{where} misconfigured budget")
        scan.response(
            "admin pages",
            f"{where} misconfigured budget: credits refresh",
            admin.post(reverse("admin:genlook_creditsnapshot_refresh"), follow=True),
        )
        settings.GENLOOK = {**settings.GENLOOK, "RATE_LIMIT_BACKEND": "local"}
        with monkeypatch.context() as patch:
            patch.setattr("genlook_django.api.views.try_on_data", explode)
            response = client.get(detail_url(done["id"]))
            assert response.status_code == 500
            scan.response("error pages (500)", f"{where} crash in a view", response)
        # Django's own error pages.
        for url in ("/no/such/page/", f"/genlook/api/tryons/{uuid4()}/"):
            scan.response("error pages (404)", f"{where} {url}", client.get(url))

    def webhooks(where: str) -> None:
        """Deliveries carrying the key in headers (a misconfigured sender): never stored."""
        settings.GENLOOK = {**settings.GENLOOK, "WEBHOOKS": True, "STATUS_POLL_THROUGH": False}
        faults(drop_webhooks=1.0)
        client = Client()
        created = scan.response("api answers", where, start(client, shirt, person_photo))
        row = TryOn.objects.get(public_id=created.json()["id"])
        hook = canary.state.engine.get(CANARY, row.generation_id).webhook_url
        path = urlsplit(hook).path
        get_client().wait_for_generation(row.generation_id, timeout=10, interval=0.05)
        payload = {"generationId": row.generation_id, "status": "COMPLETED"}
        for headers in (
            {"x-api-key": CANARY},
            {"X-API-KEY": CANARY, "Authorization": f"Bearer {CANARY}"},
            {"Api-Key": CANARY, "X-Genlook-Api-Key": CANARY, "Cookie": f"k={CANARY}"},
        ):
            scan.response(
                "webhook answers",
                where,
                Client().post(path, payload, content_type="application/json", headers=headers),
            )
        scan.response("webhook answers", where, Client().post(path, b"\xff", "text/plain"))
        faults()
        settings.GENLOOK = {**settings.GENLOOK, "WEBHOOKS": False, "STATUS_POLL_THROUGH": "auto"}
        follow(client, created.json())

    def admin_pages(where: str, every_object: bool = True) -> None:
        """Every page of the Genlook admin, for every object there is (or only the index
        and the credits dashboard, refreshed)."""
        scan.response("admin pages", f"{where} index", admin.get(reverse("admin:index")))
        scan.response(
            "admin pages",
            f"{where} credits refresh",
            admin.post(reverse("admin:genlook_creditsnapshot_refresh"), follow=True),
        )
        if not every_object:
            return
        for route in project_routes("tests.urls"):
            if classify(route) != "staff":
                continue
            for kwargs in admin_kwargs(route):
                url = reverse(f"admin:{route.name}", kwargs=kwargs)
                scan.response("admin pages", f"{where} {url}", admin.get(url))

    def run_commands(where: str, calling_genlook_only: bool = False) -> None:
        photo = tmp_path / "model.png"
        photo.write_bytes(person_photo)
        key = TryOn.objects.exclude(shopper_key="").values_list("shopper_key", flat=True).first()
        for args in (
            ["genlook_sync", "--no-progress"],
            ["genlook_sync", "--force", "--no-progress"],
            ["genlook_sync", "--dry-run", "--no-progress"],
            ["genlook_reconcile"],
            ["genlook_reconcile", "--dry-run"],
            ["genlook_purge", "--dry-run"],
            ["genlook_replay_webhooks", "--dry-run"],
            ["genlook_replay_webhooks", "--failed"],
            ["genlook_batch", product_ref(shirt), "--photo", str(photo), "--no-progress"],
            ["genlook_erase", "--key", key or "a_nobody", "--dry-run"],
            ["check"],
            ["check", "--deploy"],
        ):
            if calling_genlook_only and args[0] not in ("genlook_sync", "genlook_batch"):
                continue
            out, err = io.StringIO(), io.StringIO()
            try:
                call_command(*args, stdout=out, stderr=err)
            except BaseException as exc:  # CommandError, SystemExit: what the user reads
                err.write(f"{type(exc).__name__}: {exc}")
            scan.check("command output", f"{where} {' '.join(args)}", out.getvalue())
            scan.check("command output", f"{where} {' '.join(args)} (stderr)", err.getvalue())

    from genlook_django.services import batches

    run_in_process = batches.run_in_process
    monkeypatch.setattr(  # genlook_batch polls every 2 s
        batches,
        "run_in_process",
        lambda *args, **kwargs: run_in_process(*args, **kwargs, poll_interval=0.1),
    )
    phases: Counter = Counter()

    def phase(name: str, run: Callable[..., None], *args: Any, **kwargs: Any) -> None:
        began = time.monotonic()
        run(*args, **kwargs)
        phases[name] += round(time.monotonic() - began, 1)

    def shoppers_(where: str) -> None:
        anonymous, returning, signed_in = Client(), Client(), Client()
        signed_in.force_login(member)
        try_on(returning, f"{where} a try-on")
        try_on(signed_in, f"{where} a signed-in try-on")
        for name, client in (("anonymous", anonymous), ("returning", returning)):
            shopper_pages(client, f"{where} {name}")
        shopper_pages(signed_in, f"{where} signed in")
        api_errors(where)

    with every_log_record() as records:
        for debug in (False, True):
            settings.DEBUG = debug
            where = "DEBUG" if debug else "production"
            phase("shoppers", shoppers_, where)
            phase("genlook failures", genlook_failures, where, faults_too=debug or full_run())
            phase("crashes", crashes, where)
            phase("webhooks", webhooks, where)
            phase("admin", admin_pages, where, every_object=debug or full_run())
            phase("commands", run_commands, where)
        settings.DEBUG = False

    reported: set = set()
    began_scan = time.monotonic()
    for record in records:
        scan_log_record(scan, record, reported)
    phases["scanning logs"] = round(time.monotonic() - began_scan, 1)
    # What the app keeps: every row of its tables, the sessions, the cache.
    from django.apps import apps
    from django.contrib.sessions.models import Session

    for model in [*apps.get_app_config("genlook").get_models(), get_user_model()]:
        for row in model.objects.all():
            scan.check("stored rows", model._meta.label, serialize("json", [row]))
    for session in Session.objects.all():
        scan.check("stored rows", "session", repr(session.get_decoded()))
    # The deliveries' headers were stored, x-api-key redacted.
    stored = [v for row in WebhookDelivery.objects.all() for k, v in row.headers.items()]
    api_key_headers = [
        value
        for row in WebhookDelivery.objects.all()
        for name, value in row.headers.items()
        if name.lower().endswith("api-key")
    ]
    assert stored and api_key_headers and set(api_key_headers) == {"[redacted]"}
    cache = caches["default"]
    for key, value in getattr(cache, "_cache", {}).items():
        scan.check("cache entries", "default", repr(key) + repr(value))
    # The widget's files, and the shop's.
    for finder in finders.get_finders():
        for path, storage in finder.list([]):
            if path.startswith(("genlook/", "shop/")):
                with storage.open(path) as handle:
                    scan.check("static files", path, handle.read())

    figures.update(
        key=CANARY[:16] + "…",
        scanned=dict(scan.scanned),
        pages_and_answers=sum(n for k, n in scan.scanned.items() if "page" in k or "answer" in k),
        log_records=len(records),
        webhook_api_key_headers_redacted=len(api_key_headers),
        seconds_by_phase=dict(phases),
        leaks=len(scan.leaks),
        seconds=round(time.monotonic() - began, 1),
    )
    assert not scan.leaks, "\n".join(scan.leaks[:15])


def admin_kwargs(route: Route) -> list[dict[str, Any]]:
    """The URL arguments of an admin route: one set per existing object of its model."""
    if not route.params:
        return [{}]
    from django.apps import apps

    if route.name.endswith("_gallery"):
        from genlook_django.models import BatchItem

        return [
            {"content_type_id": i.content_type_id, "object_id": i.object_id}
            for i in BatchItem.objects.all()[:3]
        ]
    if route.name.endswith(("_image", "_use")):
        from genlook_django.models import BatchItem

        return [{"object_id": i.job_id, "item_id": i.pk} for i in BatchItem.objects.all()[:3]]
    model = apps.get_model("genlook", route.name.split("_")[1])
    rows = model.objects.order_by("-pk").values_list("pk", flat=True)[:6]
    return [{"object_id": str(pk)} for pk in rows]


# == 3. A script cannot drain the credits =======================================================

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


def test_a_script_cannot_drain_the_credits(
    storefront,
    settings,
    product,
    sqlite_waits_for_locks,
    figures,
):
    began = time.monotonic()
    limits = drain_limits()
    counts = {name: limit_count(value) for name, value in limits.items()}
    storefront.state.configure(generation_seconds=3600, rate_limit=100_000)  # pending, charged
    photo = images.jpeg((600, 800))
    results: list[Drain] = []

    def scenario(name: str, cap_name: str, codes: set[str], **setting: Any) -> Drain:
        """A clean slate: no try-ons, no quota records, the credits topped up."""
        for model in (UsageRecord, TryOn, ShopperPhoto):
            model.objects.all().delete()
        settings.GENLOOK = {
            **settings.GENLOOK,
            **limits,
            "CLIENT_IP_HEADER": None,
            "PHOTO_PIPELINE_WAIT": 30.0,
            **setting,
        }
        storefront.state.set_credits(API_KEY, 1_000_000)
        drain = Drain(name, cap_name, counts[cap_name], codes, created_before=created())
        results.append(drain)
        return drain

    def created() -> int:
        return sum(
            1
            for r in storefront.state.requests
            if r.method == "POST" and r.path in ("/try-on", "/try-on/sync") and r.status < 400
        )

    def settle(drain: Drain) -> None:
        drain.spent = 1_000_000 - storefront.state.get_credits(API_KEY)
        assert drain.spent == drain.accepted, drain.summary()  # each try-on charged once
        assert created() - drain.created_before == drain.accepted  # refused: never sent
        assert drain.spent <= drain.cap, drain.summary()
        assert set(drain.refused) <= drain.codes and drain.refused, drain.summary()
        assert not drain.other, drain.summary()

    def upload(client: Client) -> Any:
        return start(client, product, photo)

    def reuse(client: Client) -> Any:
        response = start(client, product, reuse_photo="true")
        if response.status_code == 400 and response.json()["code"] == "PHOTO_REQUIRED":
            response = upload(client)
        return response

    # 1. One shopper, a new photo every time.
    drain = scenario("one shopper, new photos", "UPLOAD_QUOTA", {"UPLOAD_QUOTA_EXCEEDED"})
    shopper = Client(REMOTE_ADDR="198.51.100.1")
    for _ in range(drain.cap + scaled(10, 3)):
        drain.tally(upload(shopper))
    assert drain.accepted == drain.cap
    settle(drain)

    # 2. One shopper reusing their photo; then erasing everything and trying again.
    drain = scenario("one shopper, reusing", "TRY_ON_QUOTA", {"TRY_ON_QUOTA_EXCEEDED"})
    shopper = Client(REMOTE_ADDR="198.51.100.2")
    for _ in range(drain.cap + scaled(10, 3)):
        drain.tally(reuse(shopper))
    for public_id in TryOn.objects.values_list("public_id", flat=True):
        assert shopper.delete(detail_url(str(public_id))).status_code == 204
    for _ in range(scaled(5, 2)):  # an erasure gives no quota back
        drain.tally(reuse(shopper))
    assert drain.accepted == drain.cap
    settle(drain)

    # 3. A fresh session (no cookie) for every request, from one address: spoofing
    # X-Forwarded-For changes nothing when it is not trusted, nor behind a trusted proxy
    # (the client makes up the left part; the proxy appends the address it saw).
    for name, header, forwarded in (
        ("fresh sessions, one address", None, None),
        ("fresh sessions, X-Forwarded-For ignored", None, "203.0.113.{n}"),
        ("fresh sessions, behind a proxy", "X-Forwarded-For", "203.0.113.{n}, 198.51.100.3"),
    ):
        drain = scenario(
            name, "IP_UPLOAD_QUOTA", {"IP_UPLOAD_QUOTA_EXCEEDED"}, CLIENT_IP_HEADER=header
        )
        for n in range(drain.cap + scaled(10, 3)):
            headers = {"X-Forwarded-For": forwarded.format(n=n % 250)} if forwarded else {}
            drain.tally(upload(Client(REMOTE_ADDR="198.51.100.3", headers=headers)))
        assert drain.accepted == drain.cap
        settle(drain)

    # 4. Many addresses (a botnet), a fresh session each: the shop's upload budget.
    drain = scenario("a botnet, new photos", "UPLOAD_BUDGET", {"UPLOAD_BUDGET_EXCEEDED"})
    for n in range(drain.cap + scaled(20, 3)):
        drain.tally(upload(Client(REMOTE_ADDR=f"10.{n // 250}.{n % 250}.1")))
    assert drain.accepted == drain.cap
    settle(drain)

    # 5. A botnet whose bots reuse their photo, each to its own quota: the daily budget.
    drain = scenario(
        "a botnet, reusing",
        "DAILY_TRY_ON_BUDGET",
        {"DAILY_BUDGET_EXCEEDED", "TRY_ON_QUOTA_EXCEEDED"},
    )
    bot = 0
    while not drain.refused["DAILY_BUDGET_EXCEEDED"]:
        bot += 1
        client = Client(REMOTE_ADDR=f"10.{bot // 250}.{bot % 250}.2")
        while drain.tally(reuse(client)) == 202:
            pass
        assert bot < 10_000
    for _ in range(scaled(20, 3)):
        drain.tally(reuse(Client(REMOTE_ADDR="192.0.2.99")))
    assert drain.accepted == drain.cap
    settle(drain)

    # 6. Concurrency: requests released together, from many addresses against the daily
    # budget's last slots, and from one shopper's many tabs against their upload quota.
    threads = scaled(24, 8)
    drain = scenario(
        "in parallel, many addresses", "DAILY_TRY_ON_BUDGET", {"DAILY_BUDGET_EXCEEDED"}
    )
    left = 3
    UsageRecord.objects.bulk_create(
        UsageRecord(kind=UsageRecord.Kind.TRY_ON, shopper_key=f"a_earlier{n}")
        for n in range(drain.cap - left)
    )
    for response in in_parallel(threads, lambda i: upload(Client(REMOTE_ADDR=f"10.200.{i}.3"))):
        drain.tally(response)
    drain.cap, drain.cap_note = left, f"left of DAILY_TRY_ON_BUDGET {counts[drain.cap_name]}"
    settle(drain)

    drain = scenario(
        "in parallel, one shopper's tabs",
        "UPLOAD_QUOTA",
        # Racing reservations: any quota the tabs share (the shopper's, and the address's,
        # since every tab comes from one address) may be the one found full.
        {"UPLOAD_QUOTA_EXCEEDED", "TRY_ON_QUOTA_EXCEEDED", "IP_UPLOAD_QUOTA_EXCEEDED"},
    )
    first = Client(REMOTE_ADDR="198.51.100.4")
    drain.tally(upload(first))  # the session is made with the first try-on
    cookie = first.cookies[django_settings.SESSION_COOKIE_NAME].value

    def tab(i: int) -> Any:
        client = Client(REMOTE_ADDR="198.51.100.4")
        client.cookies[django_settings.SESSION_COOKIE_NAME] = cookie
        return upload(client)

    for response in in_parallel(threads, tab):
        drain.tally(response)
    assert len({row.shopper_key for row in TryOn.objects.all()}) == 1  # one shopper
    settle(drain)

    figures.update(
        limits={name: limits[name] for name in LIMITS},
        **{drain.name: drain.summary() for drain in results},
        try_ons_accepted=sum(d.accepted for d in results),
        refused=sum(sum(d.refused.values()) for d in results),
        credits_spent=sum(d.spent for d in results),
        overspent=sum(max(0, d.spent - d.cap) for d in results),
        seconds=round(time.monotonic() - began, 1),
    )
