"""R4's hostile webhook deliveries: the try-ons they aim at (``Member``), a ``Campaign``
(the seeded rng, signing on or off, what the receiver must answer), and the attacks, one
function each, in four families: *forged*, *replayed*, *tampered*, *out of order*."""

from __future__ import annotations

import base64
import json
import random
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from genlook_django.sandbox.records import Status
from genlook_django.sandbox.webhooks import completion_payload
from genlook_django.services.webhooks import hash_token
from genlook_django.services.webhooks.signatures import compute_signature

API_KEY = "gk_reliability_r4"  # an account, and a request budget, of its own
SECRETS = ("whsec_r4_current", "whsec_r4_previous")  # a rotation: both are accepted
TOLERANCE = 300
MAX_BODY = 64 * 1024

ACCEPTED = frozenset({200, 202})
ABSORBED = frozenset({200})  # a duplicate, or ignored: the try-on is final

# Where a try-on's generation stands at Genlook, and here.
RUNNING = "running"  # pending at Genlook and here
COMPLETED_THERE = "completed_there"  # completed at Genlook, still pending here
FAILED_THERE = "failed_there"
COMPLETED_HERE = "completed_here"  # its genuine delivery came: completed here too
FAILED_HERE = "failed_here"
KINDS = (RUNNING, COMPLETED_THERE, FAILED_THERE, COMPLETED_HERE, FAILED_HERE)
GENUINE = "genuine"  # as a delivery's signature: signed when signing is on, as a relay would

# -- What is sent ------------------------------------------------------------------------------


@dataclass
class Member:
    """One try-on of the population."""

    pk: int
    kind: str
    generation_id: str
    token: str
    cohort: str  # "sequential" or "concurrent": the phase that hits it

    @property
    def final_here(self) -> bool:
        return self.kind in (COMPLETED_HERE, FAILED_HERE)


class Sig:
    """A ``Genlook-Signature`` value, made when first sent (so its timestamp is fresh), then
    kept: the copies of one delivery carry the very same header, as a replay would."""

    def __init__(self, make: Callable[[], str]) -> None:
        self._make = make
        self._value: str | None = None

    def value(self) -> str:
        if self._value is None:
            self._value = self._make()
        return self._value


@dataclass
class Delivery:
    path_token: str  # the URL's last segment as sent (percent-encoded where needed)
    body: bytes
    signature: Sig | None
    expect: frozenset[int]
    member: Member | None = None  # the try-on whose token this is, if any
    attack: str = ""  # the attack's name (by default, its function's)
    family: str = ""
    header_name: str = "Genlook-Signature"
    content_type: str = "application/json"


@dataclass
class Sent:
    delivery: Delivery
    status_code: int
    answer: dict[str, Any]
    phase: str


@dataclass
class Campaign:
    sandbox: Any
    signing: bool
    rng: random.Random
    trap: Any  # the server behind the forged result URLs: its url() makes one
    members: list[Member] = field(default_factory=list)
    sent: list[Sent] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    regressed: int = 0
    wrong_outcomes: int = 0
    _orders: dict[str, list[int]] = field(default_factory=dict)

    def record(self, member: Member) -> Any:
        """What Genlook (the sandbox) says of the member's generation, now."""
        return self.sandbox.state.engine.get(API_KEY, member.generation_id)

    def cohort(self, name: str) -> list[Member]:
        return [m for m in self.members if m.cohort == name]

    def other(self, member: Member) -> Member:
        return self.rng.choice([m for m in self.members if m is not member])

    def pick(self, key: str, options: list[Any] | tuple[Any, ...]) -> Any:
        """One of ``options``, round-robin in a shuffled order: every variant of an attack
        is used before any is used again."""
        order = self._orders.get(key)
        if not order:
            order = self._orders[key] = list(range(len(options)))
            self.rng.shuffle(order)
        return options[order.pop() % len(options)]

    def sig(
        self, body: bytes, *, secret: str | None = None, offset: int = 0, fmt: Any = None
    ) -> Sig:
        """A signature of ``body`` (by one of the secrets unless told), dated now + offset,
        written as ``fmt(t, hex digest)``."""
        secret = self.rng.choice(SECRETS) if secret is None else secret

        def make() -> str:
            t = int(time.time()) + offset
            digest = compute_signature(body, secret, t)
            return fmt(t, digest) if fmt else f"t={t},v1={digest}"

        return Sig(make)

    def expect(
        self,
        *,
        sig_ok: bool = True,
        token_ok: bool = True,
        body_ok: bool = True,
        generation_ok: bool = True,
        final: bool = False,
    ) -> frozenset[int]:
        """The documented answer, in the receiver's order of checks."""
        if self.signing and not sig_ok:
            return frozenset({401})
        if not token_ok:
            return frozenset({404})
        if not body_ok:
            return frozenset({400})
        if not generation_ok:
            return frozenset({409})
        return ABSORBED if final else ACCEPTED

    def to(
        self,
        m: Member | None,
        body: bytes,
        sig: Sig | str | None = GENUINE,
        expect: frozenset[int] | None = None,
        *,
        token: str | None = None,
        **fields: Any,
    ) -> Delivery:
        """A delivery to ``m``'s URL (or ``token``'s); by default signed as a genuine one
        and expected to be accepted (absorbed once ``m`` is final here)."""
        if sig == GENUINE:
            sig = self.sig(body) if self.signing else None
        if expect is None:
            expect = self.expect(final=m is not None and m.final_here)
        path_token = token if token is not None else m.token  # type: ignore[union-attr]
        return Delivery(path_token, body, sig, expect, m, **fields)  # type: ignore[arg-type]


def encode(c: Campaign, payload: Any) -> bytes:
    return json.dumps(payload, separators=c.rng.choice([(",", ":"), (", ", ": ")])).encode()


def hint(
    c: Campaign,
    m: Member,
    status: str,
    *,
    url: str | None = None,
    error_code: str | None = None,
    generation_id: str | None = None,
    shape: str | None = None,
) -> bytes:
    """A payload saying ``status``, in the classic shape or the v1 one."""
    generation_id = generation_id or m.generation_id
    if (shape or c.rng.choice(("classic", "v1"))) == "v1":
        payload: dict[str, Any] = {"generationId": generation_id, "status": status.upper()}
        if url:
            payload["resultImageUrl"] = url
        if error_code:
            payload.update(errorCode=error_code, errorMessage="Says who?")
    else:
        payload = {"id": generation_id, "status": status, "result_image": url}
        payload["created_at"] = payload["completed_at"] = "2026-05-20T10:30:00Z"
        if status.isupper() and status.isascii():
            payload["status"] = status.lower()
    return encode(c, payload)


def genuine(c: Campaign, m: Member, shape: str | None = None) -> dict[str, Any]:
    """What the sandbox itself would POST for the member's generation now."""
    record = c.record(m)
    return completion_payload(record, record.result_url, shape or c.rng.choice(("classic", "v1")))


def random_token(rng: random.Random) -> str:
    return base64.urlsafe_b64encode(rng.randbytes(32)).decode().rstrip("=")


def full_width(text: str) -> str:
    return "".join(chr(ord(ch) + 0xFEE0) for ch in text)


# -- Forged ------------------------------------------------------------------------------------


def forged_unknown_token(c: Campaign, m: Member) -> list[Delivery]:
    body = hint(c, m, "COMPLETED", url=c.trap.url())
    signed = c.rng.random() < 0.5  # a relay signs whatever it is given
    expect = c.expect(sig_ok=signed, token_ok=False)
    return [c.to(None, body, c.sig(body) if signed else None, expect, token=random_token(c.rng))]


def forged_guessed_token(c: Campaign, m: Member) -> list[Delivery]:
    t = m.token
    guesses = [
        hash_token(t),  # what a leaked database holds
        t[:-1],
        t[:-1] + ("A" if t[-1] != "A" else "B"),
        t.swapcase() if t.swapcase() != t else t + "x",
        t + "A",
        t[1:] + t[0],
        "A" * 43,
        "-" * 43,
        quote("ä" * 32),
        "%FF" * 20,  # not UTF-8
        "%00" * 32,
        quote(t + "\u0000"),
        quote(t + " "),
        "x" * 4000,
    ]
    body = encode(c, genuine(c, m))
    return [c.to(None, body, expect=c.expect(token_ok=False), token=c.pick("guess", guesses))]


def forged_other_generation(c: Campaign, m: Member) -> list[Delivery]:
    """A valid token, the payload naming another generation: another try-on's, or none."""
    other = c.other(m)
    if c.rng.random() < 0.3:  # another try-on's genuine delivery, as Genlook sent it
        return [c.to(m, encode(c, genuine(c, other)), expect=c.expect(generation_ok=False))]
    if c.rng.random() < 0.25:  # the same key twice: the last one counts, everywhere
        first, last = c.rng.sample([m.generation_id, other.generation_id], 2)
        body = f'{{"id": "{first}", "id": "{last}", "status": "completed"}}'.encode()
        final = m.final_here
        expect = c.expect(generation_ok=last == m.generation_id, final=final)
        return [c.to(m, body, expect=expect, attack="duplicate_keys")]
    letters = "abcdefghijklmnopqrstuvwxyz0123456789"
    generation_id = c.pick(
        "generation",
        [
            other.generation_id,
            "cm" + "".join(c.rng.choice(letters) for _ in range(23)),
            m.generation_id.upper(),
            m.generation_id + " ",
            "\u0000" + m.generation_id,
            m.generation_id[:-1] + "\ud800",  # a lone surrogate: valid JSON, not storable
            "x" * 255,
        ],
    )
    url = c.record(other).result_url or c.trap.url()
    status = c.rng.choice(("COMPLETED", "FAILED"))
    body = hint(c, m, status, url=url, generation_id=generation_id)
    return [c.to(m, body, expect=c.expect(generation_ok=False))]


def forged_result_url(c: Campaign, m: Member) -> list[Delivery]:
    """Its own generation, completed, with a result URL of someone else's choosing."""
    urls = [
        c.trap.url(),
        f"{c.sandbox.base_url}/_files/{random_token(c.rng)}.jpg",
        "file:///etc/passwd",
        "http://169.254.169.254/latest/meta-data/",
    ]
    others = [o for o in c.members if o is not m and c.record(o).result_url]
    if others:  # a real result, another try-on's: planted, it would look right
        urls.append(c.record(c.rng.choice(others)).result_url)
    return [c.to(m, hint(c, m, "COMPLETED", url=c.pick("url", urls)))]


def forged_contradiction(c: Campaign, m: Member) -> list[Delivery]:
    """A status Genlook does not say: a completion of a running or failed generation, a
    failure of a completed one, a step back."""
    truth = c.record(m).status
    status = c.rng.choice(
        [s for s in ("COMPLETED", "FAILED", "PENDING", "PROCESSING") if s != truth]
    )
    url = c.trap.url() if status == "COMPLETED" else None
    code = "FORGED_FAILURE" if status == "FAILED" else None
    return [c.to(m, hint(c, m, status, url=url, error_code=code))]


MADE_UP_STATUSES = (
    "cancelled",
    "DONE",
    full_width("COMPLETED"),
    "completed ",
    "Completed\u0000",
    "COMPLETED\u202e",
    "\ud800",  # a lone surrogate
    "succeeded",
    "x" * 3000,
)


def forged_made_up_status(c: Campaign, m: Member) -> list[Delivery]:
    status = c.pick("status", MADE_UP_STATUSES)
    return [c.to(m, hint(c, m, status, url=c.trap.url(), shape="classic"))]


# -- Replayed ----------------------------------------------------------------------------------


def replayed_same_delivery(c: Campaign, m: Member) -> list[Delivery]:
    """The exact same delivery, body and signature, several times: the copies after the
    first are absorbed (duplicates, or ignored once final)."""
    body = encode(c, genuine(c, m))
    sig = c.sig(body) if c.signing else None
    copies = c.rng.randint(2, 6)
    return [c.to(m, body, sig, c.expect(final=m.final_here or i > 0)) for i in range(copies)]


def replayed_stale(c: Campaign, m: Member) -> list[Delivery]:
    """A captured delivery replayed after the tolerance (or dated ahead of it)."""
    body = encode(c, genuine(c, m))
    offset = c.pick(
        "offset",
        [
            -(TOLERANCE + 1),
            -(TOLERANCE + c.rng.randint(2, 10**6)),
            # Signed when the campaign is built, sent up to a minute later (the concurrent
            # phase comes last): a date ahead of the tolerance by less would have come
            # within it by the time it arrives.
            TOLERANCE + 90,
            TOLERANCE + c.rng.randint(91, 10**6),
            -int(time.time()),  # t=0
        ],
    )
    return [c.to(m, body, c.sig(body, offset=offset), c.expect(sig_ok=False, final=m.final_here))]


def replayed_other_token(c: Campaign, m: Member) -> list[Delivery]:
    """A valid, signed delivery of one try-on replayed on another's URL, or a made-up one."""
    body = encode(c, genuine(c, m))
    if c.rng.random() < 0.8:
        return [c.to(c.other(m), body, expect=c.expect(generation_ok=False))]
    return [c.to(None, body, expect=c.expect(token_ok=False), token=random_token(c.rng))]


# -- Tampered ----------------------------------------------------------------------------------


def tampered_body(c: Campaign, m: Member) -> list[Delivery]:
    """Signed, then changed on the way."""
    payload = genuine(c, m, "v1")
    body = encode(c, payload)
    sig = c.sig(body)
    change = c.pick("change", ("status", "url", "whitespace", "generation"))
    if change == "status":
        payload["status"] = "FAILED" if payload["status"] != "FAILED" else "COMPLETED"
    elif change == "url":
        payload["resultImageUrl"] = c.trap.url()
    elif change == "generation":
        payload["generationId"] = c.other(m).generation_id
    tampered = body + b"\n" if change == "whitespace" else encode(c, payload)
    ok = change != "generation"
    expect = c.expect(sig_ok=False, generation_ok=ok, final=m.final_here)
    return [c.to(m, tampered, sig, expect, attack=f"body_{change}")]


def tampered_signature(c: Campaign, m: Member) -> list[Delivery]:
    """A signature over another body, cut short, or made with a wrong secret."""
    body = encode(c, genuine(c, m))
    how = c.pick("how", ("other_body", "truncated", "wrong_secret"))
    if how == "other_body":
        sig = c.sig(encode(c, genuine(c, c.other(m))))
    elif how == "truncated":
        whole, cut = c.sig(body), c.rng.randint(3, 80)
        sig = Sig(lambda: whole.value()[: min(cut, len(whole.value()) - 1)])
    else:
        secret = c.pick("secret", ("whsec_guess", "", SECRETS[0] + "x", SECRETS[0].upper(), "🔑"))
        sig = c.sig(body, secret=secret)
    expect = c.expect(sig_ok=False, final=m.final_here)
    return [c.to(m, body, sig, expect, attack=f"signature_{how}")]


def _digits(t: int, base: int) -> str:
    return "".join(chr(base + int(x)) for x in str(t))


# How the header may be written (as fmt(t, digest)), and whether that is valid.
HEADER_FORMATS: tuple[tuple[Callable[[int, str], str], bool], ...] = (
    (lambda t, d: f"v1={d},t={t}", True),
    (lambda t, d: f"t={t}, v1={d}", True),
    (lambda t, d: f" t={t} , v1={d} ", True),
    (lambda t, d: f"t={t},v0=abc,v1={d}", True),
    (lambda t, d: f"t={t},v1={'0' * 64},v1={d}", True),  # several v1: any may match
    (lambda t, d: f"t={t},v1={d}," + "v1=00," * 1000, True),  # long, still valid
    (lambda t, d: f"T={t},V1={d}", False),
    (lambda t, d: f"t={t};v1={d}", False),
    (lambda t, d: f"t= {t},v1={d}", False),
    (lambda t, d: f"t={t}.0,v1={d}", False),
    (lambda t, d: f"t=-{t},v1={d}", False),
    (lambda t, d: f"t={'9' * 400},v1={d}", False),  # beyond a float
    (lambda t, d: f"t={'9' * 5000},v1={d}", False),  # beyond int()'s digit limit
    (lambda t, d: f"t=\u00b2,v1={d}", False),  # a digit to str.isdigit, not to int()
    (lambda t, d: f"t={_digits(t, 0x0660)},v1={d}", False),  # Arabic-Indic digits
    (lambda t, d: f"t={_digits(t, 0xFF10)},v1={d}", False),  # full-width digits
    (lambda t, d: f"t={t},v1={'é' * 64}", False),  # not ASCII
    (lambda t, d: f"t={t},v1={full_width(d[:1])}{d[1:]}", False),
    (lambda t, d: f"t={t},v1={d.upper()}", False),
    (lambda t, d: f"t={t},v1={d}\u0000", False),
    (lambda t, d: f"t={t}", False),
    (lambda t, d: f"v1={d}", False),
    (lambda t, d: "", False),
    (lambda t, d: ",,,", False),
)
HEADER_NAMES = (
    ("Genlook-Signature", True),
    ("genlook-signature", True),
    ("GENLOOK-SIGNATURE", True),
    ("X-Genlook-Signature", False),
    ("Genlook-Signatures", False),
    ("Signature", False),
)


def tampered_header(c: Campaign, m: Member) -> list[Delivery]:
    body = encode(c, genuine(c, m))
    fmt, format_ok = c.pick("format", HEADER_FORMATS)
    name, name_ok = c.pick("name", HEADER_NAMES)
    expect = c.expect(sig_ok=format_ok and name_ok, final=m.final_here)
    attack = "header_format" if name_ok else "header_name"
    return [c.to(m, body, c.sig(body, fmt=fmt), expect, attack=attack, header_name=name)]


def tampered_oversized(c: Campaign, m: Member) -> list[Delivery]:
    payload = genuine(c, m)
    payload["padding"] = "x" * c.rng.randint(MAX_BODY, 3 * MAX_BODY)
    body = encode(c, payload)
    sig = c.sig(body) if c.rng.random() < 0.5 else None
    token = m.token if c.rng.random() < 0.8 else random_token(c.rng)
    return [c.to(m, body, sig, frozenset({413}), token=token)]  # first of all checks


def _nested(depth: int) -> str:
    return "[" * depth + "0" + "]" * depth


def tampered_malformed(c: Campaign, m: Member) -> list[Delivery]:
    """Bodies that are not a payload: broken or odd JSON, too deep, numbers too long."""
    text = json.dumps(genuine(c, m))
    head = f'{{"id": "{m.generation_id}", "status": "completed"'
    bad = [
        b"",
        b"{",
        b"null",
        b"[]",
        b"{}",
        b'"completed"',
        text[: c.rng.randint(1, len(text) - 1)].encode(),
        b"[" * 60_000,
        f"{head}, {_nested(30_000)}: 1}}".encode(),
        f'{head}, "x": {_nested(30_000)}}}'.encode(),
        f'{head}, "n": {"1" * 5000}}}'.encode(),  # beyond int()'s digit limit
        b"\xef\xbb\xbf" + text.encode(),  # a BOM
        f'{{"id": {c.rng.randint(0, 10**9)}, "status": "completed"}}'.encode(),
        f'{{"id": "{m.generation_id}", "status": 5}}'.encode(),
        f'{{"generationId": ["{m.generation_id}"], "status": "COMPLETED"}}'.encode(),
        f'{{"id": "{"x" * 256}", "status": "completed"}}'.encode(),
        f'{head}, "x": "a\u0000b"}}'.encode(),  # a raw NUL
    ]
    body, attack = c.pick("malformed", bad), "malformed"
    expect = c.expect(body_ok=False)
    if c.rng.random() < 0.25:  # deep, maybe within what the parser takes
        body = f'{head}, "x": {_nested(c.rng.randint(50, 990))}}}'.encode()
        expect = c.expect(final=m.final_here) | c.expect(body_ok=False)
        attack = "deep_nesting"
    elif c.rng.random() < 0.2:  # not JSON, but Python reads it
        body, attack = f'{head}, "n": NaN}}'.encode(), "nan"
        expect = c.expect(final=m.final_here)
    signed = c.rng.random() < 0.8
    if not signed:
        expect = c.expect(sig_ok=False) if c.signing else expect
    return [c.to(m, body, c.sig(body) if signed else None, expect, attack=attack)]


def tampered_encoding(c: Campaign, m: Member) -> list[Delivery]:
    payload = genuine(c, m)
    payload["note"] = "café ☕"
    text = json.dumps(payload, ensure_ascii=False)
    body = c.pick(
        "encoding",
        [
            text.encode("latin-1", errors="replace"),
            text.encode("utf-16"),
            text.encode("utf-32"),
            c.rng.randbytes(c.rng.randint(1, 512)) + b"\xff",
            text.encode()[:-2] + b"\xc0\xaf}",  # an overlong encoding
            text.encode().replace(b"caf\xc3\xa9", b"caf\xed\xa0\x80"),  # an encoded surrogate
        ],
    )
    return [c.to(m, body, expect=c.expect(body_ok=False), attack="not_utf8")]


CONTENT_TYPES = (
    "text/plain",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=zzz",
    "application/json; charset=latin-1",
    "",
)


def tampered_content_type(c: Campaign, m: Member) -> list[Delivery]:
    body = encode(c, genuine(c, m))
    return [c.to(m, body, content_type=c.pick("content_type", CONTENT_TYPES))]


# -- Out of order ------------------------------------------------------------------------------


def status_hint(c: Campaign, m: Member, status: str) -> bytes:
    url = c.trap.url() if status == "COMPLETED" else None
    return hint(c, m, status, url=url, error_code="LATE" if status == "FAILED" else None)


def out_of_order_late_hints(c: Campaign, m: Member) -> list[Delivery]:
    """The genuine final delivery, then PENDING, PROCESSING and the other outcome in some
    order: once the first is in, the try-on is final and the rest change nothing."""
    truth = c.record(m).status
    if not truth.is_final:
        return out_of_order_shuffled(c, m)
    late = ["PENDING", "PROCESSING", "FAILED" if truth == Status.COMPLETED else "COMPLETED"]
    c.rng.shuffle(late)
    return [c.to(m, encode(c, genuine(c, m)))] + [
        c.to(m, status_hint(c, m, status), expect=ABSORBED) for status in late
    ]


def out_of_order_wrong_outcome_first(c: Campaign, m: Member) -> list[Delivery]:
    """FAILED, then COMPLETED, of a generation Genlook completed (or the reverse): the wrong
    one is contradicted and Genlook's outcome recorded; the right one finds it final."""
    truth = c.record(m).status
    if not truth.is_final:
        return out_of_order_shuffled(c, m)
    wrong = status_hint(c, m, "FAILED" if truth == Status.COMPLETED else "COMPLETED")
    return [c.to(m, wrong), c.to(m, encode(c, genuine(c, m)), expect=ABSORBED)]


def out_of_order_shuffled(c: Campaign, m: Member) -> list[Delivery]:
    statuses = ["PENDING", "PROCESSING", "COMPLETED", "FAILED"]
    c.rng.shuffle(statuses)
    return [c.to(m, status_hint(c, m, s)) for s in statuses[: c.rng.randint(2, 4)]]


Attack = Callable[[Campaign, Member], list[Delivery]]
ATTACKS: tuple[tuple[Attack, int], ...] = (  # and their weights
    (forged_unknown_token, 4),
    (forged_guessed_token, 4),
    (forged_other_generation, 6),
    (forged_result_url, 5),
    (forged_contradiction, 6),
    (forged_made_up_status, 3),
    (replayed_same_delivery, 4),
    (replayed_stale, 4),
    (replayed_other_token, 4),
    (tampered_body, 4),
    (tampered_signature, 4),
    (tampered_header, 6),
    (tampered_oversized, 2),
    (tampered_malformed, 5),
    (tampered_encoding, 3),
    (tampered_content_type, 2),
    (out_of_order_late_hints, 5),
    (out_of_order_wrong_outcome_first, 4),
    (out_of_order_shuffled, 5),
)
FAMILIES = ("forged", "replayed", "tampered", "out_of_order")


def attacks_of(family: str) -> tuple[tuple[Attack, int], ...]:
    return tuple((a, w) for a, w in ATTACKS if a.__name__.startswith(family + "_"))


def share_of(family: str) -> float:
    """The family's part of the campaign, by its attacks' weights."""
    return sum(w for _a, w in attacks_of(family)) / sum(w for _a, w in ATTACKS)


def deck(c: Campaign, members: list[Member], size: int, family: str) -> list[list[Delivery]]:
    """Scenarios of the family's attacks (each an ordered list of deliveries) adding up to
    about ``size``."""
    attacks, weights = zip(*attacks_of(family), strict=True)
    scenarios, total = [], 0
    while total < size:
        attack = c.rng.choices(attacks, weights=weights)[0]
        scenario = attack(c, c.rng.choice(members))
        for d in scenario:
            d.family = d.family or family
            d.attack = d.attack or attack.__name__.removeprefix(family + "_")
        scenarios.append(scenario)
        total += len(scenario)
    return scenarios


def interleave(rng: random.Random, scenarios: list[list[Delivery]]) -> list[Delivery]:
    """One sequence of them all; each scenario keeps its own order."""
    queues = [deque(s) for s in scenarios if s]
    sequence = []
    while queues:
        i = rng.randrange(len(queues))
        sequence.append(queues[i].popleft())
        if not queues[i]:
            queues[i] = queues[-1]
            queues.pop()
    return sequence
