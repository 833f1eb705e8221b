"""The receiver: one status code and one outcome per case, and never a planted result.

Every delivery is stored (verdict, reason, outcome); only an authenticated one that names
its try-on's generation is processed, and processing records what Genlook says, not what
the payload says.
"""

from __future__ import annotations

import json
import time

import pytest

from genlook_django.models import TryOn, WebhookDelivery
from genlook_django.services import webhooks
from genlook_django.services.webhooks import receiver
from genlook_django.services.webhooks.signatures import signature_header
from genlook_django.signals import tryon_completed, webhook_received
from tests.support.webhooks import finished, payload_of

pytestmark = pytest.mark.django_db(transaction=True)

Outcome = WebhookDelivery.Outcome
SECRET = "whsec_current"
GETS = "/generations/{generationId}"


def only_delivery() -> WebhookDelivery:
    (delivery,) = WebhookDelivery.objects.all()
    return delivery


def assert_no_result(try_on: TryOn) -> None:
    row = TryOn.objects.get(pk=try_on.pk)
    assert row.state == TryOn.State.PENDING
    assert row.result_file == ""


def signed(settings, *secrets):
    settings.GENLOOK = {**settings.GENLOOK, "WEBHOOK_SIGNING_SECRETS": list(secrets)}


@pytest.fixture
def completions():
    seen = []

    def receiver(sender, try_on, **kwargs):
        seen.append(try_on.pk)

    tryon_completed.connect(receiver)
    yield seen
    tryon_completed.disconnect(receiver)


# -- Accepted ----------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", ["classic", "v1"])
def test_a_valid_delivery_is_confirmed_with_genlook_and_ingested(hooks, pending, post, shape):
    try_on, token = pending
    finished(try_on.generation_id)
    gets = hooks.state.count("GET", GETS)

    response = post(token, payload_of(hooks, try_on.generation_id, shape))

    assert response.status_code == 202
    assert response.json() == {"status": "accepted"}
    row = TryOn.objects.get(pk=try_on.pk)
    assert row.state == TryOn.State.COMPLETED and row.result_file
    assert hooks.state.count("GET", GETS) == gets + 1  # confirmed before anything was recorded
    delivery = only_delivery()
    assert (delivery.verdict, delivery.outcome, delivery.reason) == ("accepted", "processed", "")
    assert delivery.try_on_id == try_on.pk
    assert delivery.generation_id == try_on.generation_id
    assert delivery.status_hint == "COMPLETED"
    assert delivery.dedupe_key == f"{try_on.pk}:{try_on.generation_id}:COMPLETED"
    assert delivery.attempts == 1 and delivery.processed_at and not delivery.error


def test_a_failed_generation_fails_the_try_on_with_genlooks_code(hooks, submit, post):
    try_on, token = submit(fail_generations=1.0, fail_error_code="PRODUCT_IMAGE_FETCH_FAILED")
    finished(try_on.generation_id)

    response = post(token, payload_of(hooks, try_on.generation_id, "v1"))

    assert response.status_code == 202
    row = TryOn.objects.get(pk=try_on.pk)
    assert (row.state, row.error_code) == (TryOn.State.FAILED, "PRODUCT_IMAGE_FETCH_FAILED")
    assert only_delivery().outcome == Outcome.PROCESSED


def test_what_is_stored_leaves_secrets_out(hooks, pending, post):
    _try_on, token = pending
    post(
        token,
        {"id": "x", "status": "completed"},
        Authorization="Bearer hunter2",
        Cookie="sessionid=abc",
        X_Api_Key="gk_live",
        X_Request_Id="req-1",
    )
    delivery = only_delivery()
    assert delivery.headers["Authorization"] == "[redacted]"
    assert delivery.headers["Cookie"] == "[redacted]"
    assert delivery.headers["X-Api-Key"] == "[redacted]"
    assert delivery.headers["X-Request-Id"] == "req-1"
    assert delivery.headers["Content-Type"] == "application/json"
    assert "hunter2" not in json.dumps(delivery.headers)
    assert delivery.remote_addr == "127.0.0.1"
    assert json.loads(delivery.body) == {"id": "x", "status": "completed"}
    assert token not in json.dumps(delivery.headers) + delivery.body


def test_webhook_received_is_sent_for_authenticated_deliveries(hooks, pending, post):
    try_on, token = pending
    seen = []

    def receiver(sender, delivery, **kwargs):
        seen.append((delivery.pk, delivery.verdict, delivery.outcome))

    webhook_received.connect(receiver)
    try:
        post("x" * 43, {"id": try_on.generation_id, "status": "completed"})  # unknown token
        post(token, {"id": try_on.generation_id, "status": "processing"})
    finally:
        webhook_received.disconnect(receiver)

    accepted = WebhookDelivery.objects.get(verdict="accepted")
    assert seen == [(accepted.pk, "accepted", "pending")]


def test_a_broken_signal_receiver_does_not_break_the_delivery(hooks, pending, post):
    try_on, token = pending
    finished(try_on.generation_id)

    def broken(sender, delivery, **kwargs):
        raise RuntimeError("boom")

    webhook_received.connect(broken)
    try:
        response = post(token, payload_of(hooks, try_on.generation_id))
    finally:
        webhook_received.disconnect(broken)
    assert response.status_code == 202
    assert TryOn.objects.get(pk=try_on.pk).state == TryOn.State.COMPLETED


# -- Duplicates, replays, order ----------------------------------------------------------------


def test_a_duplicate_is_absorbed(hooks, pending, post, completions):
    try_on, token = pending
    finished(try_on.generation_id)
    payload = payload_of(hooks, try_on.generation_id)
    assert post(token, payload).status_code == 202
    gets = hooks.state.count("GET", GETS)

    response = post(token, payload)

    assert response.status_code == 200
    assert response.json() == {"status": "duplicate", "reason": "duplicate"}
    first, second = WebhookDelivery.objects.order_by("pk")
    assert (first.outcome, second.outcome) == ("processed", "duplicate")
    assert second.verdict == "accepted" and second.dedupe_key is None
    assert hooks.state.count("GET", GETS) == gets  # no second check
    assert completions == [try_on.pk]  # the signal went once


def test_a_replayed_signed_delivery_is_refused_once_stale(hooks, pending, post, settings):
    signed(settings, SECRET)
    try_on, token = pending
    finished(try_on.generation_id)
    body = json.dumps(payload_of(hooks, try_on.generation_id)).encode()
    header = signature_header(body, SECRET, int(time.time()) - 400)  # captured 400 s ago

    response = post(token, body, Genlook_Signature=header)

    assert response.status_code == 401
    assert response.json() == {"status": "rejected", "reason": "stale_timestamp"}
    assert_no_result(try_on)
    delivery = only_delivery()
    assert (delivery.verdict, delivery.outcome) == ("rejected", "not_processed")


def test_a_replay_within_the_tolerance_is_a_duplicate(hooks, pending, post, settings):
    signed(settings, SECRET)
    try_on, token = pending
    finished(try_on.generation_id)
    body = json.dumps(payload_of(hooks, try_on.generation_id)).encode()
    header = signature_header(body, SECRET)

    assert post(token, body, Genlook_Signature=header).status_code == 202
    assert post(token, body, Genlook_Signature=header).status_code == 200
    assert list(WebhookDelivery.objects.order_by("pk").values_list("outcome", flat=True)) == [
        "processed",
        "duplicate",
    ]


def test_out_of_order_deliveries_never_move_a_finished_try_on_back(hooks, pending, post):
    try_on, token = pending
    finished(try_on.generation_id)
    assert post(token, payload_of(hooks, try_on.generation_id)).status_code == 202
    done = TryOn.objects.get(pk=try_on.pk)
    gets = hooks.state.count("GET", GETS)

    late = [
        {"id": try_on.generation_id, "status": "processing"},
        {"generationId": try_on.generation_id, "status": "FAILED", "errorCode": "LATE"},
    ]
    for payload in late:
        response = post(token, payload)
        assert response.status_code == 200
        assert response.json() == {"status": "ignored", "reason": "already_final"}

    row = TryOn.objects.get(pk=try_on.pk)
    assert (row.state, row.result_file, row.error_code) == (
        TryOn.State.COMPLETED,
        done.result_file,
        "",
    )
    assert hooks.state.count("GET", GETS) == gets  # a finished try-on costs no check
    assert list(WebhookDelivery.objects.order_by("pk").values_list("outcome", flat=True)) == [
        "processed",
        "ignored",
        "ignored",
    ]


def test_an_early_processing_hint_then_the_completion(hooks, submit, post):
    hooks.state.configure(generation_seconds=2.5)
    try_on, token = submit()

    early = post(token, {"id": try_on.generation_id, "status": "processing"})
    assert early.status_code == 202
    assert_no_result(try_on)  # Genlook says it is still running: nothing to record

    finished(try_on.generation_id)
    assert post(token, payload_of(hooks, try_on.generation_id)).status_code == 202
    assert TryOn.objects.get(pk=try_on.pk).state == TryOn.State.COMPLETED


# -- Refused -----------------------------------------------------------------------------------


@pytest.mark.parametrize("token", ["x" * 43, "short", "bad*chars" * 5])
def test_an_unknown_token_is_404(hooks, pending, post, token):
    try_on, _token = pending
    finished(try_on.generation_id)

    response = post(token, payload_of(hooks, try_on.generation_id))

    assert response.status_code == 404
    assert response.json() == {"status": "rejected", "reason": "unknown_token"}
    assert_no_result(try_on)
    delivery = only_delivery()
    assert (delivery.verdict, delivery.reason, delivery.outcome) == (
        "rejected",
        "unknown_token",
        "not_processed",
    )
    assert delivery.try_on_id is None


def test_the_stored_hash_is_not_a_token(hooks, pending, post):
    try_on, token = pending
    assert try_on.webhook_token_hash == webhooks.hash_token(token)
    response = post(try_on.webhook_token_hash, {"id": try_on.generation_id, "status": "completed"})
    assert response.status_code == 404


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        (None, "missing_signature"),
        ("v1=deadbeef", "malformed_signature"),
        ("wrong-secret", "bad_signature"),
        ("stale", "stale_timestamp"),
        ("future", "stale_timestamp"),
    ],
)
def test_a_bad_or_missing_signature_is_401(hooks, pending, post, settings, header, reason):
    signed(settings, SECRET)
    try_on, token = pending
    finished(try_on.generation_id)
    body = json.dumps(payload_of(hooks, try_on.generation_id)).encode()
    if header == "wrong-secret":
        header = signature_header(body, "whsec_guess")
    elif header == "stale":
        header = signature_header(body, SECRET, int(time.time()) - 301)
    elif header == "future":
        header = signature_header(body, SECRET, int(time.time()) + 301)
    headers = {"Genlook_Signature": header} if header else {}

    response = post(token, body, **headers)

    assert response.status_code == 401
    assert response.json() == {"status": "rejected", "reason": reason}
    assert_no_result(try_on)
    assert only_delivery().reason == reason


def test_a_signature_over_another_body_is_401(hooks, pending, post, settings):
    signed(settings, SECRET)
    try_on, token = pending
    finished(try_on.generation_id)
    body = json.dumps(payload_of(hooks, try_on.generation_id)).encode()
    header = signature_header(body.replace(b"completed", b"failed"), SECRET)
    assert post(token, body, Genlook_Signature=header).status_code == 401
    assert_no_result(try_on)


def test_secrets_rotate(hooks, pending, post, settings):
    signed(settings, "whsec_new", "whsec_old")
    try_on, token = pending
    finished(try_on.generation_id)
    body = json.dumps(payload_of(hooks, try_on.generation_id)).encode()

    response = post(token, body, Genlook_Signature=signature_header(body, "whsec_old"))

    assert response.status_code == 202
    assert TryOn.objects.get(pk=try_on.pk).state == TryOn.State.COMPLETED


def test_with_a_secret_an_unsigned_unknown_token_is_401_not_404(hooks, pending, post, settings):
    signed(settings, SECRET)  # no token oracle for whoever lacks the secret
    assert post("x" * 43, {"id": "cm1", "status": "completed"}).status_code == 401


def test_an_oversized_body_is_413(hooks, pending, post, settings):
    settings.GENLOOK = {**settings.GENLOOK, "WEBHOOK_MAX_BODY": 1024}
    try_on, token = pending
    finished(try_on.generation_id)
    payload = {**payload_of(hooks, try_on.generation_id), "padding": "x" * 2000}

    response = post(token, payload)

    assert response.status_code == 413
    assert response.json() == {"status": "rejected", "reason": "body_too_large"}
    assert_no_result(try_on)
    delivery = only_delivery()
    assert delivery.body_truncated and len(delivery.body) == 1024
    assert delivery.reason == "body_too_large"


def test_a_body_of_exactly_the_limit_is_read(hooks, pending, post, settings):
    try_on, token = pending
    finished(try_on.generation_id)
    body = json.dumps(payload_of(hooks, try_on.generation_id)).encode()
    settings.GENLOOK = {**settings.GENLOOK, "WEBHOOK_MAX_BODY": len(body)}
    assert post(token, body).status_code == 202


@pytest.mark.parametrize(
    "body",
    [b"{not json", b"", b'{"id": "cm1", "status": "compl', b"\xff\xfe{}", b"[" * 100_000],
)
def test_malformed_json_is_400(hooks, pending, post, settings, body):
    settings.GENLOOK = {**settings.GENLOOK, "WEBHOOK_MAX_BODY": 200_000}
    try_on, token = pending

    response = post(token, body)

    assert response.status_code == 400
    assert response.json() == {"status": "rejected", "reason": "malformed_json"}
    assert_no_result(try_on)
    assert only_delivery().try_on_id == try_on.pk


@pytest.mark.parametrize(
    "payload",
    [[], "completed", {}, {"status": "completed"}, {"id": "cm1"}, {"id": "x" * 300, "status": "c"}],
)
def test_an_unknown_shape_is_400(hooks, pending, post, payload):
    try_on, token = pending
    response = post(token, payload)
    assert response.status_code == 400
    assert response.json() == {"status": "rejected", "reason": "unknown_payload"}
    assert_no_result(try_on)


def test_nul_bytes_are_stored_safely(hooks, pending, post):
    _try_on, token = pending
    assert post(token, b'{"id": "\x00"}').status_code == 400
    assert "\x00" not in only_delivery().body


def test_another_generation_is_409(hooks, pending, post):
    """An unknown generation, or another try-on's: the token names the try-on."""
    try_on, token = pending
    finished(try_on.generation_id)
    forged = {**payload_of(hooks, try_on.generation_id), "id": "cmSomeoneElsesGeneration"}

    response = post(token, forged)

    assert response.status_code == 409
    assert response.json() == {"status": "rejected", "reason": "generation_mismatch"}
    assert_no_result(try_on)
    delivery = only_delivery()
    assert (delivery.verdict, delivery.generation_id) == ("rejected", "cmSomeoneElsesGeneration")


def test_a_generation_genlook_does_not_know_fails_the_try_on_as_polling_would(hooks, pending, post):
    try_on, token = pending
    TryOn.objects.filter(pk=try_on.pk).update(generation_id="cmUnknownToGenlook")

    response = post(token, {"id": "cmUnknownToGenlook", "status": "completed", "result_image": "x"})

    assert response.status_code == 202
    row = TryOn.objects.get(pk=try_on.pk)
    assert (row.state, row.error_code, row.result_file) == ("failed", "GENERATION_LOST", "")
    delivery = only_delivery()
    assert (delivery.outcome, delivery.reason) == ("processed", "generation_not_found")


def test_a_payload_contradicting_genlook_plants_nothing(hooks, submit, post, _media_server):
    hooks.state.configure(generation_seconds=30)  # still running at Genlook
    try_on, token = submit()
    forged = {
        "id": try_on.generation_id,
        "status": "completed",
        "result_image": f"{_media_server[0]}/forged.jpg",
    }

    response = post(token, forged)

    assert response.status_code == 202  # authenticated; the hint is checked afterwards
    assert_no_result(try_on)
    delivery = only_delivery()
    # Ahead of Genlook, not contradicted for good: it may yet come true.
    assert (delivery.outcome, delivery.reason) == ("ignored", "not_confirmed_yet")
    # Released: the true completion, when it comes, is not absorbed as a duplicate.
    assert delivery.dedupe_key is None


def test_a_forged_result_url_is_never_fetched(hooks, pending, post):
    try_on, token = pending
    genuine = finished(try_on.generation_id)
    forged = {
        "id": try_on.generation_id,
        "status": "completed",
        "result_image": "http://attacker.invalid/evil.jpg",
    }

    assert post(token, forged).status_code == 202

    row = TryOn.objects.get(pk=try_on.pk)
    assert row.state == TryOn.State.COMPLETED
    assert row.raw["resultImageUrl"] == genuine.result_image_url  # Genlook's, not the payload's


def test_a_failure_hint_for_a_completed_generation_completes_it(hooks, pending, post):
    try_on, token = pending
    finished(try_on.generation_id)

    response = post(token, {"generationId": try_on.generation_id, "status": "FAILED"})

    assert response.status_code == 202
    row = TryOn.objects.get(pk=try_on.pk)
    assert row.state == TryOn.State.COMPLETED and row.result_file  # what Genlook says
    assert only_delivery().reason == "contradicted_by_genlook"


def test_get_is_405_and_stores_nothing(hooks, pending, post):
    _try_on, token = pending
    response = post.client.get(f"/genlook/webhooks/{token}/")
    assert response.status_code == 405
    assert response["Allow"] == "POST"
    assert not WebhookDelivery.objects.exists()


def test_disabled_webhooks_answer_404_and_store_nothing(hooks, pending, post, settings):
    _try_on, token = pending
    settings.GENLOOK = {**settings.GENLOOK, "WEBHOOKS": False}
    response = post(token, {"id": "cm1", "status": "completed"})
    assert response.status_code == 404
    assert not WebhookDelivery.objects.exists()


def test_refusals_do_not_log_the_token(hooks, pending, post, caplog):
    _try_on, token = pending
    with caplog.at_level("DEBUG"):
        post(token, b"{oops")
        post(token, {"id": "cmOther", "status": "completed"})
    assert token not in caplog.text
    assert "malformed_json" in caplog.text


def test_an_internal_error_still_stores_the_delivery_and_asks_for_a_retry(
    hooks, pending, post, monkeypatch
):
    try_on, token = pending

    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    # A bug in the receiver's own code: no input or fault control makes one.
    monkeypatch.setattr(receiver, "_find_try_on", broken)
    response = post(token, {"id": try_on.generation_id, "status": "completed"})

    assert response.status_code == 500  # the sender tries again later
    assert response.json() == {"status": "rejected", "reason": "internal_error"}
    delivery = only_delivery()
    assert (delivery.verdict, delivery.outcome) == ("rejected", "not_processed")
    assert "RuntimeError: a bug" in delivery.error
    assert_no_result(try_on)


def test_a_try_on_not_submitted_yet_cannot_use_up_another_try_ons_key(hooks, submit, post):
    """A token of a try-on whose generation id is not recorded yet is accepted with any
    generation id; it must not absorb another try-on's true completion as a duplicate."""
    victim, victim_token = submit()
    other, other_token = submit()
    TryOn.objects.filter(pk=other.pk).update(state=TryOn.State.SUBMITTING, generation_id="")
    finished(victim.generation_id)
    payload = payload_of(hooks, victim.generation_id)

    assert post(other_token, payload).status_code == 202  # a hint for the other try-on
    response = post(victim_token, payload)

    assert (response.status_code, response.json()) == (202, {"status": "accepted"})
    assert TryOn.objects.get(pk=victim.pk).state == TryOn.State.COMPLETED
