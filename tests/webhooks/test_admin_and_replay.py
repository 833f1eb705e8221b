"""The delivery log in the admin (read-only, with "Reprocess"), and the replay command."""

from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth.models import Permission, User
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

from genlook_django.models import TryOn, WebhookDelivery
from tests.support.webhooks import finished, payload_of

pytestmark = pytest.mark.django_db(transaction=True)

CHANGELIST = reverse("admin:genlook_webhookdelivery_changelist")


@pytest.fixture
def failed_delivery(hooks, pending, post):
    """An accepted delivery whose processing failed (Genlook was down); Genlook is back."""
    try_on, token = pending
    finished(try_on.generation_id)
    hooks.state.set_faults(drop_webhooks=1.0, error_rates={503: 1.0})
    post(token, payload_of(hooks, try_on.generation_id))
    hooks.state.set_faults(drop_webhooks=1.0)
    delivery = WebhookDelivery.objects.get()
    assert delivery.outcome == "failed"
    return delivery


@pytest.fixture
def rejected_delivery(hooks, post):
    post("x" * 43, {"id": "cm1", "status": "completed"})
    return WebhookDelivery.objects.get(verdict="rejected")


@pytest.fixture
def admin_client() -> Client:
    client = Client()
    client.force_login(User.objects.create_superuser("boss", "boss@example.com", "pw"))
    return client


def test_the_log_is_listed_filtered_and_shown_read_only(
    admin_client, failed_delivery, rejected_delivery
):
    response = admin_client.get(CHANGELIST)
    assert response.status_code == 200
    body = response.content.decode()
    assert "genlook_unavailable" in body and "unknown_token" in body
    for query in ("?verdict__exact=rejected", "?outcome__exact=failed", "?reason=unknown_token"):
        assert admin_client.get(CHANGELIST + query).status_code == 200
    assert admin_client.get(CHANGELIST + "?reason=unknown_token").context["cl"].result_count == 1

    detail = admin_client.get(
        reverse("admin:genlook_webhookdelivery_change", args=[failed_delivery.pk])
    )
    assert detail.status_code == 200
    page = detail.content.decode()
    assert "Traceback" in page and failed_delivery.generation_id in page
    assert 'name="_save"' not in page  # nothing to edit
    assert admin_client.get(reverse("admin:genlook_webhookdelivery_add")).status_code == 403
    delete = reverse("admin:genlook_webhookdelivery_delete", args=[failed_delivery.pk])
    assert admin_client.post(delete, {"post": "yes"}).status_code == 403
    assert WebhookDelivery.objects.count() == 2


def test_reprocess_processes_accepted_deliveries_only(
    admin_client, failed_delivery, rejected_delivery
):
    response = admin_client.post(
        CHANGELIST,
        {
            "action": "reprocess",
            ACTION_CHECKBOX_NAME: [failed_delivery.pk, rejected_delivery.pk],
        },
        follow=True,
    )

    assert response.status_code == 200
    text = response.content.decode()
    assert "Reprocessing requested for 1 delivery" in text
    assert "1 rejected delivery skipped" in text
    failed_delivery.refresh_from_db()
    rejected_delivery.refresh_from_db()
    assert (failed_delivery.outcome, failed_delivery.attempts) == ("processed", 2)
    assert rejected_delivery.outcome == "not_processed"
    assert TryOn.objects.get(pk=failed_delivery.try_on_id).state == TryOn.State.COMPLETED


def test_reprocess_needs_the_change_permission(failed_delivery):
    viewer = User.objects.create_user("viewer", password="pw", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_webhookdelivery"))
    client = Client()
    client.force_login(viewer)
    page = client.get(CHANGELIST)
    assert page.status_code == 200
    assert "reprocess" not in page.content.decode()
    client.post(CHANGELIST, {"action": "reprocess", ACTION_CHECKBOX_NAME: [failed_delivery.pk]})
    failed_delivery.refresh_from_db()
    assert failed_delivery.outcome == "failed"


def test_replay_defaults_to_failed_deliveries(failed_delivery, rejected_delivery):
    out = StringIO()
    call_command("genlook_replay_webhooks", "-v", "2", stdout=out)
    assert f"#{failed_delivery.pk}: processed" in out.getvalue()
    assert "Replayed 1 deliveries: 1 processed." in out.getvalue()
    failed_delivery.refresh_from_db()
    assert failed_delivery.outcome == "processed"
    assert TryOn.objects.get(pk=failed_delivery.try_on_id).state == TryOn.State.COMPLETED

    out = StringIO()
    call_command("genlook_replay_webhooks", stdout=out)
    assert "No delivery to replay." in out.getvalue()


def test_replay_by_ids_since_and_dry_run(failed_delivery, rejected_delivery):
    out = StringIO()
    call_command("genlook_replay_webhooks", "--since", "1h", "--dry-run", stdout=out)
    assert f"#{failed_delivery.pk}" in out.getvalue()
    assert WebhookDelivery.objects.get(pk=failed_delivery.pk).outcome == "failed"

    out, err = StringIO(), StringIO()
    call_command(
        "genlook_replay_webhooks",
        "--ids",
        str(failed_delivery.pk),
        str(rejected_delivery.pk),
        stdout=out,
        stderr=err,
    )
    assert f"Skipped (unknown, rejected, or not matching the filters): {rejected_delivery.pk}" in (
        err.getvalue()
    )
    assert WebhookDelivery.objects.get(pk=failed_delivery.pk).outcome == "processed"

    out = StringIO()
    call_command("genlook_replay_webhooks", "--since", "2099-01-01", stdout=out)
    assert "No delivery to replay." in out.getvalue()
    with pytest.raises(CommandError, match="--since"):
        call_command("genlook_replay_webhooks", "--since", "yesterday-ish")


def test_replay_reports_what_still_fails(hooks, failed_delivery):
    hooks.state.set_faults(drop_webhooks=1.0, error_rates={503: 1.0})
    with pytest.raises(CommandError, match="1 still failed"):
        call_command("genlook_replay_webhooks", "--failed", stdout=StringIO())
    assert WebhookDelivery.objects.get().attempts == 2


def test_replay_can_enqueue(failed_delivery):
    out = StringIO()
    call_command("genlook_replay_webhooks", "--enqueue", stdout=out)
    assert "1 deliveries handed to Celery." in out.getvalue()
    assert WebhookDelivery.objects.get().outcome == "processed"  # eager in the tests
