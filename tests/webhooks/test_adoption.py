"""A try-on whose create's answer was lost (SUBMISSION_UNCERTAIN, SUBMISSION_INTERRUPTED)
adopts the generation that create made when Genlook's webhook names it at the try-on's
own URL, confirmed with GET /generations/{id}: the credit was spent, the shopper gets
the result. Nothing else can make a finished try-on move."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from genlook_django.models import TryOn, WebhookDelivery
from genlook_django.services.tryons import results
from genlook_django.services.webhooks.signatures import signature_header
from genlook_django.signals import tryon_completed
from tests.support.webhooks import finished, payload_of

pytestmark = pytest.mark.django_db(transaction=True)
State = TryOn.State


def lose_the_answer(try_on: TryOn, code: str = "SUBMISSION_UNCERTAIN", **fields) -> None:
    """As if the create's answer had been lost: failed, no generation id recorded."""
    TryOn.objects.filter(pk=try_on.pk).update(
        state=State.FAILED,
        error_code=code,
        error_message="Genlook may have accepted this try-on but its answer was lost.",
        generation_id="",
        finished_at=timezone.now(),
        **{"create_sent_at": timezone.now(), **fields},
    )


@pytest.mark.parametrize("code", ["SUBMISSION_UNCERTAIN", "SUBMISSION_INTERRUPTED"])
def test_the_webhook_brings_the_result_of_a_lost_answer(hooks, pending, post, code):
    try_on, token = pending
    generation_id = try_on.generation_id
    lose_the_answer(try_on, code)
    finished(generation_id)
    completed = []

    def record(try_on, **kwargs):
        completed.append(try_on.pk)

    tryon_completed.connect(record)
    try:
        response = post(token, payload_of(hooks, generation_id))
    finally:
        tryon_completed.disconnect(record)

    assert (response.status_code, response.json()) == (202, {"status": "accepted"})
    row = TryOn.objects.get(pk=try_on.pk)
    assert (row.state, row.generation_id, row.error_code) == (
        State.COMPLETED,
        generation_id,
        "",
    )
    assert row.result_file
    assert completed == [try_on.pk]
    delivery = WebhookDelivery.objects.get()
    assert (delivery.outcome, delivery.reason) == ("processed", "adopted")


def test_other_failures_never_move(hooks, pending, post):
    try_on, token = pending
    generation_id = try_on.generation_id
    lose_the_answer(try_on, "GENERATION_FAILED")
    finished(generation_id)

    response = post(token, payload_of(hooks, generation_id))

    assert (response.status_code, response.json()["status"]) == (200, "ignored")
    assert TryOn.objects.get(pk=try_on.pk).state == State.FAILED


def test_a_generation_of_another_try_on_is_not_adopted(hooks, submit, post):
    lost, token = submit()
    other, _ = submit()
    lose_the_answer(lost)
    finished(other.generation_id)

    response = post(token, payload_of(hooks, other.generation_id))

    assert response.status_code == 202
    assert TryOn.objects.get(pk=lost.pk).state == State.FAILED
    assert TryOn.objects.get(pk=other.pk).generation_id == other.generation_id
    delivery = WebhookDelivery.objects.get()
    assert (delivery.outcome, delivery.reason) == ("ignored", "not_adoptable")


def test_a_generation_made_long_before_the_create_left_is_not_adopted(hooks, pending, post):
    try_on, token = pending
    generation_id = try_on.generation_id
    lose_the_answer(try_on, create_sent_at=timezone.now() + timedelta(hours=1))
    finished(generation_id)

    post(token, payload_of(hooks, generation_id))

    assert TryOn.objects.get(pk=try_on.pk).state == State.FAILED
    assert WebhookDelivery.objects.get().reason == "not_adoptable"


def test_an_unknown_generation_is_not_adopted(hooks, pending, post):
    try_on, token = pending
    payload = payload_of(hooks, try_on.generation_id)
    lose_the_answer(try_on)
    payload["id"] = "cmNeverMadeByGenlook0000000"

    post(token, payload)

    assert TryOn.objects.get(pk=try_on.pk).state == State.FAILED
    assert WebhookDelivery.objects.get().reason == "generation_not_found"


def test_without_confirmation_nothing_is_adopted(hooks, pending, post, settings):
    settings.GENLOOK = {
        **settings.GENLOOK,
        "WEBHOOK_CONFIRM": False,
        "WEBHOOK_SIGNING_SECRETS": ["whsec_test"],
    }
    try_on, token = pending
    generation_id = try_on.generation_id
    lose_the_answer(try_on)
    finished(generation_id)
    body = json.dumps(payload_of(hooks, generation_id)).encode()
    post(token, body, **{"Genlook-Signature": signature_header(body, "whsec_test")})

    assert TryOn.objects.get(pk=try_on.pk).state == State.FAILED


def test_a_webhook_that_came_during_the_submission_is_adopted_once_it_fails(hooks, pending, post):
    """Genlook's webhook can come while the create's answer is still awaited (a long
    /try-on/sync): it gives up waiting (not_submitted_yet), and is processed again when
    the try-on then fails for a lost answer."""
    try_on, token = pending
    generation_id = try_on.generation_id
    TryOn.objects.filter(pk=try_on.pk).update(
        state=State.SUBMITTING, generation_id="", create_sent_at=timezone.now()
    )
    finished(generation_id)
    post(token, payload_of(hooks, generation_id))
    assert WebhookDelivery.objects.get().reason == "not_submitted_yet"

    results.fail(TryOn.objects.get(pk=try_on.pk), "SUBMISSION_UNCERTAIN", "answer lost")

    row = TryOn.objects.get(pk=try_on.pk)
    assert (row.state, row.generation_id) == (State.COMPLETED, generation_id)
    assert WebhookDelivery.objects.get().reason == "adopted"
