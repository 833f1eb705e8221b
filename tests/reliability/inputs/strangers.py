"""R5's people: shoppers (``Victim``) with try-ons and photos in every state, and the
strangers (``Actor``) who try to reach them, with the ids they try (the victims' own, and
guessed ones) and the URLs of a victim's objects."""

from __future__ import annotations

import json
import secrets
import uuid
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.http import HttpResponse
from django.test import Client
from django.urls import reverse

from genlook_django.models import TryOn
from genlook_django.services import files
from genlook_django.services.tryons import shoppers
from tests.support.storefront import ME, follow, start

from .routes import UNSAFE, Route

State = TryOn.State


def body_of(response: HttpResponse) -> bytes:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content)
    return response.content


def send(client: Client, method: str, url: str, **kwargs: Any) -> HttpResponse:
    return getattr(client, method.lower())(url, **kwargs)


@dataclass
class Victim:
    """A shopper with try-ons and photos in every state."""

    client: Client
    key: str
    try_ons: dict[str, str] = field(default_factory=dict)  # state -> public id
    photos: dict[str, str] = field(default_factory=dict)
    shares: dict[str, str] = field(default_factory=dict)  # share links: state -> public id
    secrets: list[bytes] = field(default_factory=list)  # what nobody else may read
    row: TryOn | None = None  # the completed try-on, as it was before any attack
    result: bytes = b""  # its image

    def ids(self) -> list[tuple[str, str]]:
        return (
            [(f"try-on {s}", i) for s, i in self.try_ons.items()]
            + [(f"photo {s}", i) for s, i in self.photos.items()]
            + [(f"share link {s}", i) for s, i in self.shares.items()]
        )


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
        shared = victim.client.post(reverse("genlook:tryon-shares", args=[first["id"]]))
        assert shared.status_code == 201, shared.content
        victim.shares["live"] = shared.json()["id"]
        victim.secrets += [shared.json()["url"].rstrip("/").rsplit("/", 1)[1].encode()]
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
        victim.secrets += [i.encode() for i in victim.shares.values()]
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


def uuid4() -> str:
    return str(uuid.uuid4())
