"""What webhook deliveries can make the API budget pay: repeats of a body Genlook
contradicted for good cost no ``GET /generations/{id}``, and each try-on's deliveries are
confirmed at most ``WEBHOOK_MAX_CONFIRMATIONS`` times; genuine completions still land."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from django.utils import timezone

from genlook_django.models import TryOn, WebhookDelivery
from genlook_django.services import webhooks
from genlook_django.services.tryons import reconcile
from tests.support.webhooks import finished, payload_of

pytestmark = pytest.mark.django_db(transaction=True)

GETS = "/generations/{generationId}"


def gets(hooks) -> int:
    return hooks.state.count("GET", GETS)


def reasons() -> list[str]:
    return list(WebhookDelivery.objects.order_by("pk").values_list("reason", flat=True))


def test_a_body_contradicted_for_good_costs_one_get_however_often_it_is_sent(hooks, submit, post):
    hooks.state.configure(generation_seconds=30)  # still running at Genlook
    try_on, token = submit()
    forged = {"id": try_on.generation_id, "status": "exploded"}  # no status Genlook uses
    before = gets(hooks)

    assert post(token, forged).status_code == 202
    assert gets(hooks) == before + 1
    for _ in range(5):
        response = post(token, forged)
        assert response.status_code == 200
        assert response.json() == {"status": "ignored", "reason": "contradicted_repeat"}

    assert gets(hooks) == before + 1  # the repeats asked nothing
    assert reasons() == ["contradicted_by_genlook"] + ["contradicted_repeat"] * 5
    assert TryOn.objects.get(pk=try_on.pk).state == TryOn.State.PENDING


def test_a_repeat_processed_again_is_settled_without_asking(hooks, submit, post):
    hooks.state.configure(generation_seconds=30)
    try_on, token = submit()
    post(token, {"id": try_on.generation_id, "status": "exploded"})
    post(token, {"id": try_on.generation_id, "status": "exploded"})
    repeat = WebhookDelivery.objects.order_by("pk").last()
    before = gets(hooks)

    webhooks.mark_for_reprocessing([repeat.pk])  # e.g. genlook_replay_webhooks
    assert webhooks.process(repeat.pk) == "ignored"

    repeat.refresh_from_db()
    assert repeat.reason == "contradicted_repeat"
    assert gets(hooks) == before


def test_confirmations_per_try_on_are_capped_and_the_result_still_comes_by_polling(
    hooks, submit, post, settings, caplog
):
    settings.GENLOOK = {**settings.GENLOOK, "WEBHOOK_MAX_CONFIRMATIONS": 3}
    hooks.state.configure(generation_seconds=2)
    try_on, token = submit()
    before = gets(hooks)

    # Ahead of Genlook, each with a body of its own: each a "not yet", never final.
    with caplog.at_level(logging.WARNING, logger="genlook_django.webhooks"):
        for n in range(6):
            forged = {"id": try_on.generation_id, "status": "completed", "result_image": f"{n}"}
            assert post(token, forged).status_code in (200, 202)

    assert gets(hooks) == before + 3
    # The first one past the cap keeps its key: the next ones are its duplicates.
    assert reasons() == ["not_confirmed_yet"] * 3 + ["confirmations_exhausted"] + ["duplicate"] * 2
    assert TryOn.objects.get(pk=try_on.pk).webhook_confirmations == 3
    capped = [r for r in caplog.records if "WEBHOOK_MAX_CONFIRMATIONS" in r.getMessage()]
    assert len(capped) == 1  # warned once
    assert TryOn.objects.get(pk=try_on.pk).state == TryOn.State.PENDING

    # Even the genuine delivery is stored, not confirmed; polling brings the result.
    finished(try_on.generation_id)  # (the test itself asks Genlook, until it is done)
    before = gets(hooks)
    assert post(token, payload_of(hooks, try_on.generation_id)).status_code == 200
    assert reasons()[-1] == "duplicate"
    assert gets(hooks) == before
    TryOn.objects.filter(pk=try_on.pk).update(
        last_checked_at=timezone.now() - timedelta(seconds=150)
    )
    report = reconcile.reconcile()
    assert report.completed == 1
    assert TryOn.objects.get(pk=try_on.pk).state == TryOn.State.COMPLETED


def test_a_genuine_completion_retried_after_a_not_yet_answer_still_lands(hooks, submit, post):
    """Genlook's sender may post before its own API says COMPLETED: the answer is "not
    yet", not a contradiction for good, so the same body sent again is confirmed again."""
    hooks.state.configure(generation_seconds=1.5)
    try_on, token = submit()
    early = {"generationId": try_on.generation_id, "status": "COMPLETED"}

    assert post(token, early).status_code == 202
    assert reasons() == ["not_confirmed_yet"]
    assert TryOn.objects.get(pk=try_on.pk).state == TryOn.State.PENDING

    finished(try_on.generation_id)
    before = gets(hooks)
    assert post(token, early).status_code == 202  # the same body, retried

    assert gets(hooks) == before + 1
    assert reasons() == ["not_confirmed_yet", ""]
    row = TryOn.objects.get(pk=try_on.pk)
    assert row.state == TryOn.State.COMPLETED and row.result_file


def test_a_delivery_retried_after_an_outage_keeps_its_slot(hooks, submit, post, settings):
    settings.GENLOOK = {**settings.GENLOOK, "WEBHOOK_MAX_CONFIRMATIONS": 1}
    try_on, token = submit()
    finished(try_on.generation_id)
    hooks.state.set_faults(drop_webhooks=1.0, error_rates={503: 1.0})
    assert post(token, payload_of(hooks, try_on.generation_id)).status_code == 202
    delivery = WebhookDelivery.objects.get()
    assert (delivery.outcome, delivery.reason) == ("failed", "genlook_unavailable")
    hooks.state.set_faults(drop_webhooks=1.0)  # Genlook is back

    assert webhooks.process(delivery.pk) == "processed"  # the slot its first attempt took
    assert TryOn.objects.get(pk=try_on.pk).state == TryOn.State.COMPLETED
    assert TryOn.objects.get(pk=try_on.pk).webhook_confirmations == 1
