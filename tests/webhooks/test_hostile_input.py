"""Regressions found by R4 (tests/reliability/test_r4_webhooks.py): hostile input the
receiver answered with a 500 instead of the refusal or acceptance it documents."""

from __future__ import annotations

import json
import time

import pytest

from genlook_django.models import TryOn, WebhookDelivery
from genlook_django.services.webhooks.signatures import (
    SignatureError,
    compute_signature,
    verify_signature,
)
from tests.support.webhooks import finished, payload_of

SECRET = "whsec_current"
BODY = b'{"id": "gen_1", "status": "completed"}'
NOW = 1_800_000_000
DIGEST = compute_signature(BODY, SECRET, NOW)


def arabic_indic(number: int) -> str:
    return "".join(chr(0x0660 + int(digit)) for digit in str(number))


# str.isdigit() and int() accept these, then int() or the float arithmetic raised
# (ValueError, OverflowError), or hmac.compare_digest refused a non-ASCII str (TypeError):
# the receiver answered 500 "internal_error", telling the sender to try again.
ODD_HEADERS = [
    f"t=\u00b2,v1={DIGEST}",  # superscript two: a digit to isdigit(), not to int()
    f"t={'9' * 400},v1={DIGEST}",  # an int too large for a float
    f"t={'9' * 5000},v1={DIGEST}",  # beyond int()'s 4300 digits
    f"t={arabic_indic(NOW)},v1={DIGEST}",  # int() reads them: no longer accepted either
    f"t={NOW},v1={'é' * 64}",
]


@pytest.mark.parametrize(
    "header", ODD_HEADERS, ids=["superscript", "400_digits", "5000_digits", "arabic", "v1_latin1"]
)
def test_odd_timestamps_and_non_ascii_signatures_are_malformed(header):
    with pytest.raises(SignatureError) as caught:
        verify_signature(BODY, header, [SECRET], tolerance=300, now=NOW)
    assert caught.value.reason == "malformed_signature"


def test_a_non_ascii_candidate_does_not_hide_a_valid_one():
    verify_signature(BODY, f"t={NOW},v1=é,v1={DIGEST}", [SECRET], tolerance=300, now=NOW)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "odd",
    ["t=\u00b2", f"t={'9' * 400}", f"t={'9' * 5000}", "v1=é"],
    ids=["superscript", "400_digits", "5000_digits", "v1_latin1"],
)
def test_an_odd_signature_header_is_401_not_500(hooks, pending, post, settings, odd):
    settings.GENLOOK = {**settings.GENLOOK, "WEBHOOK_SIGNING_SECRETS": [SECRET]}
    try_on, token = pending
    finished(try_on.generation_id)
    body = json.dumps(payload_of(hooks, try_on.generation_id)).encode()
    t = int(time.time())
    header = f"{odd},v1={compute_signature(body, SECRET, t)}" if odd.startswith("t=") else None
    header = header or f"t={t},{odd}"

    response = post(token, body, Genlook_Signature=header)

    assert response.status_code == 401
    assert response.json() == {"status": "rejected", "reason": "malformed_signature"}
    assert WebhookDelivery.objects.get().reason == "malformed_signature"
    assert TryOn.objects.get(pk=try_on.pk).state == TryOn.State.PENDING


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("status", "\ud800", 202),  # a lone surrogate (a JSON escape): not UTF-8
        ("status", "COMPLETED\u0000", 202),  # NUL: PostgreSQL refuses it in text
        ("id", "\ud800", 409),
        ("id", "\u0000", 409),
    ],
    ids=["status_surrogate", "status_nul", "id_surrogate", "id_nul"],  # plain ids for xdist
)
def test_payload_strings_no_database_takes_are_stored_safely(
    hooks, submit, post, field, value, code
):
    """They used to reach the INSERT as they were: UnicodeEncodeError (or, on PostgreSQL,
    ValueError), an unhandled 500, and the delivery not even stored."""
    # Still running when the delivery is confirmed, however slow this machine is: the try-on
    # must stay pending whatever the hint says.
    hooks.state.configure(generation_seconds=600)
    try_on, token = submit()
    generation_id = try_on.generation_id
    payload = {"id": generation_id, "status": "processing"}
    payload[field] = generation_id[:-1] + value if field == "id" else value

    response = post(token, payload)  # json.dumps escapes them: the body itself is ASCII

    assert response.status_code == code
    delivery = WebhookDelivery.objects.get()
    assert delivery.verdict == ("accepted" if code == 202 else "rejected")
    stored = delivery.generation_id + delivery.status_hint + (delivery.dedupe_key or "")
    assert "\x00" not in stored
    assert stored.encode("utf-8")  # no lone surrogate left
    assert TryOn.objects.get(pk=try_on.pk).state == TryOn.State.PENDING


@pytest.mark.django_db(transaction=True)
def test_a_contradicted_odd_status_is_logged_printably(hooks, pending, post, caplog):
    """The "said X, Genlook says Y" warning wrote the payload's raw status: a lone surrogate
    no log handler can encode (the record is lost; under pytest-xdist the worker died)."""
    try_on, token = pending

    with caplog.at_level("WARNING", logger="genlook_django.webhooks"):
        response = post(token, {"id": try_on.generation_id, "status": "\ud800" + "x" * 100})

    assert response.status_code == 202
    assert WebhookDelivery.objects.get().reason == "contradicted_by_genlook"
    (record,) = [r for r in caplog.records if "Genlook says" in r.getMessage()]
    assert record.getMessage().encode("utf-8")
    assert "x" * 33 not in record.getMessage()  # the stored hint: 32 characters at most
