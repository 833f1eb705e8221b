"""Webhook signatures (HMAC over timestamp and body, rotation) and payload shapes."""

import pytest

from genlook_django.services.webhooks.payloads import PayloadError, parse_payload
from genlook_django.services.webhooks.signatures import (
    SignatureError,
    signature_header,
    verify_signature,
)

BODY = b'{"id": "gen_1", "status": "completed"}'
NOW = 1_800_000_000


def verify(header, secrets=("whsec_new",), now=NOW, body=BODY):
    verify_signature(body, header, list(secrets), tolerance=300, now=now)


def test_a_valid_signature_passes():
    verify(signature_header(BODY, "whsec_new", NOW))


def test_any_listed_secret_passes_so_secrets_can_rotate():
    verify(signature_header(BODY, "whsec_old", NOW), secrets=("whsec_new", "whsec_old"))


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        (None, "missing_signature"),
        ("", "missing_signature"),
        ("v1=abc", "malformed_signature"),
        (f"t={NOW}", "malformed_signature"),
        (f"t=soon,v1={'0' * 64}", "malformed_signature"),
        (signature_header(BODY, "whsec_other", NOW), "bad_signature"),
        (signature_header(BODY, "whsec_new", NOW - 301), "stale_timestamp"),
        (signature_header(BODY, "whsec_new", NOW + 301), "stale_timestamp"),
    ],
)
def test_bad_signatures_are_refused_with_a_reason(header, reason):
    with pytest.raises(SignatureError) as caught:
        verify(header)
    assert caught.value.reason == reason


def test_a_tampered_body_is_refused():
    header = signature_header(BODY, "whsec_new", NOW)
    with pytest.raises(SignatureError) as caught:
        verify(header, body=BODY.replace(b"completed", b"failed"))
    assert caught.value.reason == "bad_signature"


def test_classic_payload():
    hint = parse_payload(
        {
            "id": "gen_1",
            "status": "completed",
            "result_image": "http://x/r.jpg",
            "created_at": "2026-01-01T00:00:00Z",
            "completed_at": "2026-01-01T00:00:08Z",
        }
    )
    assert (hint.generation_id, hint.status, hint.result_image_url, hint.shape) == (
        "gen_1",
        "COMPLETED",
        "http://x/r.jpg",
        "classic",
    )


def test_v1_payload():
    hint = parse_payload(
        {
            "generationId": "gen_2",
            "status": "FAILED",
            "errorCode": "PRODUCT_IMAGE_FETCH_FAILED",
            "errorMessage": "Could not fetch",
        }
    )
    assert (hint.generation_id, hint.status, hint.error_code, hint.shape) == (
        "gen_2",
        "FAILED",
        "PRODUCT_IMAGE_FETCH_FAILED",
        "v1",
    )


@pytest.mark.parametrize(
    "data", [[], "text", {}, {"status": "completed"}, {"id": "gen_1"}, {"id": 5, "status": "x"}]
)
def test_unusable_payloads_are_refused(data):
    with pytest.raises(PayloadError):
        parse_payload(data)
