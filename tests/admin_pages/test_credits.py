"""The credits dashboard and its services: balance, snapshots, low-balance alert, projection,
per-day statistics, the banner across the admin, and who may see any of it."""

from __future__ import annotations

from datetime import timedelta

import django
import pytest
from django.core import mail
from django.core.management import call_command
from django.template import Context, Template
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone

from genlook_django.checks import check_admin
from genlook_django.models import CreditAlert, CreditSnapshot, FunnelEvent, TryOn
from genlook_django.services import credits
from genlook_django.signals import credits_low
from tests.support.catalog import API_KEY

pytestmark = pytest.mark.django_db

State = TryOn.State
DASHBOARD = reverse("admin:genlook_creditsnapshot_changelist")
REFRESH = reverse("admin:genlook_creditsnapshot_refresh")
INDEX = reverse("admin:index")


@pytest.fixture
def low_signals():
    received = []

    def on_low(sender, balance, threshold, **kwargs):
        received.append((sender, balance, threshold))

    credits_low.connect(on_low)
    yield received
    credits_low.disconnect(on_low)


def credit_reads(sandbox) -> int:
    return sandbox.state.count("GET", "/account/credits")


# -- The balance -------------------------------------------------------------------------------


def test_the_balance_is_read_once_then_cached(storefront):
    storefront.state.set_credits(API_KEY, 80)

    first = credits.get_balance()
    storefront.state.set_credits(API_KEY, 70)
    second = credits.get_balance()

    assert (first.credits, first.cached) == (80, False)
    assert (second.credits, second.cached) == (80, True)
    assert credit_reads(storefront) == 1
    assert credits.get_balance(refresh=True).credits == 70
    assert credit_reads(storefront) == 2


def test_a_snapshot_at_most_once_per_interval(storefront, settings):
    settings.GENLOOK = {**settings.GENLOOK, "CREDITS_SNAPSHOT_INTERVAL": 900}
    storefront.state.set_credits(API_KEY, 80)
    credits.get_balance(refresh=True)
    storefront.state.set_credits(API_KEY, 79)
    credits.get_balance(refresh=True)
    # Within the interval, the latest snapshot moves to the balance just read.
    assert list(CreditSnapshot.objects.values_list("balance", flat=True)) == [79]

    CreditSnapshot.objects.update(taken_at=timezone.now() - timedelta(minutes=16))
    storefront.state.set_credits(API_KEY, 78)
    credits.get_balance(refresh=True)
    assert list(CreditSnapshot.objects.values_list("balance", flat=True)) == [78, 79]


def test_genlook_unreachable_shows_the_last_snapshot(storefront):
    CreditSnapshot.objects.create(balance=42, taken_at=timezone.now() - timedelta(hours=2))
    storefront.state.set_faults(error_rates={500: 1.0})

    balance = credits.get_balance(refresh=True)

    assert balance.credits == 42 and balance.stale and balance.error
    assert CreditSnapshot.objects.count() == 1


# -- Low balance: signal once per crossing, mail, banner ---------------------------------------


def test_credits_low_is_sent_once_per_crossing(storefront, settings, low_signals):
    settings.GENLOOK = {**settings.GENLOOK, "LOW_BALANCE_THRESHOLD": 20}
    storefront.state.set_credits(API_KEY, 25)
    credits.get_balance(refresh=True)
    assert low_signals == []

    storefront.state.set_credits(API_KEY, 19)
    credits.get_balance(refresh=True)
    storefront.state.set_credits(API_KEY, 12)
    credits.get_balance(refresh=True)
    assert low_signals == [(CreditSnapshot, 19, 20)]  # once, not for every read below it
    assert CreditAlert.objects.get().low_since is not None

    storefront.state.set_credits(API_KEY, 500)  # topped up: re-armed
    credits.get_balance(refresh=True)
    assert CreditAlert.objects.get().low_since is None
    storefront.state.set_credits(API_KEY, 3)
    credits.get_balance(refresh=True)
    assert [balance for _sender, balance, _threshold in low_signals] == [19, 3]


def test_low_balance_mails_the_admins_when_asked(storefront, settings, mailoutbox):
    # Django 6 takes plain addresses; 5.2 only (name, address) pairs.
    settings.ADMINS = (
        ["ops@example.com"] if django.VERSION >= (6,) else [("Ops", "ops@example.com")]
    )
    settings.GENLOOK = {**settings.GENLOOK, "LOW_BALANCE_THRESHOLD": 20}
    storefront.state.set_credits(API_KEY, 5)
    credits.get_balance(refresh=True)
    assert mailoutbox == []  # off by default

    CreditAlert.objects.update(low_since=None)
    settings.GENLOOK = {**settings.GENLOOK, "LOW_BALANCE_MAIL_ADMINS": True}
    credits.get_balance(refresh=True)
    credits.get_balance(refresh=True)

    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["ops@example.com"]
    assert "5 left" in mail.outbox[0].subject


def test_a_threshold_of_none_turns_the_alert_off(storefront, settings, low_signals):
    settings.GENLOOK = {**settings.GENLOOK, "LOW_BALANCE_THRESHOLD": None}
    storefront.state.set_credits(API_KEY, 0)
    credits.get_balance(refresh=True)
    assert low_signals == [] and not credits.alerts()


def test_the_low_balance_banner_is_on_every_admin_page(storefront, admin_client, staff):
    storefront.state.set_credits(API_KEY, 7)
    admin_client.get(DASHBOARD)  # reads the balance: below the default threshold of 20

    for url in (INDEX, reverse("admin:auth_user_changelist"), DASHBOARD):
        page = admin_client.get(url).content.decode()
        assert "Genlook credits are running low: 7 credits left" in page, url
        assert page.count("genlook-banner") == 1, url  # once, not once per template

    # Staff who may not see the credits page are not told.
    other = staff("auth.view_user")
    assert "genlook-banner" not in other.get(reverse("admin:auth_user_changelist")).content.decode()


def test_the_banner_says_when_genlook_has_no_credits_left(admin_client, make_try_on):
    make_try_on(State.FAILED, error_code="INSUFFICIENT_CREDITS")
    page = admin_client.get(INDEX).content.decode()
    assert "Genlook has no credits left" in page
    assert 'href="https://platform.genlook.app/topup"' in page


def test_hosts_can_place_the_banner_with_the_template_tag(storefront, admin_user):
    CreditAlert.objects.create(pk=1, low_since=timezone.now(), balance=3)
    request = RequestFactory().get("/admin/")
    request.user = admin_user
    template = Template(
        "{% load genlook_admin %}{% genlook_admin_banner %}{% genlook_admin_banner %}"
    )
    html = template.render(Context({"request": request}))
    assert html.count("running low: 3 credits left") == 1


def test_system_check_warns_when_the_banner_is_not_on_every_page(settings, tmp_path):
    assert not [m for m in check_admin() if m.id == "genlook.W021"]
    (tmp_path / "admin").mkdir()
    (tmp_path / "admin" / "base_site.html").write_text('{% extends "admin/base.html" %}')
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [str(tmp_path)]}]
    assert [m.id for m in check_admin() if m.id == "genlook.W021"] == ["genlook.W021"]

    snippet = tmp_path / "with_tag"
    (snippet / "admin").mkdir(parents=True)
    (snippet / "admin" / "base_site.html").write_text(
        '{% extends "admin/base.html" %}{% load genlook_admin %}'
        "{% block messages %}{% genlook_admin_banner %}{{ block.super }}{% endblock %}"
    )
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [str(snippet)]}]
    assert not [m for m in check_admin() if m.id == "genlook.W021"]


@pytest.mark.parametrize(
    ("name", "value"), [("RETENTION_DAYS", -1), ("LOW_BALANCE_THRESHOLD", "20")]
)
def test_system_check_refuses_bad_admin_settings(settings, name, value):
    settings.GENLOOK = {**settings.GENLOOK, name: value}
    assert "genlook.E020" in [m.id for m in check_admin()]


# -- Statistics --------------------------------------------------------------------------------


def test_projection_is_the_balance_over_the_daily_rate_of_the_last_week(make_try_on):
    now = timezone.now()
    for day in range(7):
        for _ in range(2):
            make_try_on(at=now - timedelta(days=day, hours=1))
    make_try_on(at=now - timedelta(days=9))  # outside the window
    make_try_on(State.FAILED, at=now - timedelta(days=1))  # failures cost nothing

    projection = credits.projection(100, now=now)

    assert projection.completed == 14
    assert projection.per_day == 2
    assert projection.days_left == 50


def test_no_usage_no_projection(db):
    projection = credits.projection(100)
    assert projection.completed == 0 and projection.days_left is None


def test_per_day_statistics_and_success_rate(make_try_on):
    now = timezone.now().replace(hour=12)
    make_try_on(at=now)
    make_try_on(at=now)
    make_try_on(State.FAILED, at=now)
    make_try_on(State.PENDING, at=now)
    make_try_on(at=now - timedelta(days=2))

    days = credits.daily_stats(days=3, now=now)

    assert [(d.started, d.completed, d.failed) for d in days] == [(1, 1, 0), (0, 0, 0), (4, 2, 1)]
    assert credits.success_rate(days) == 3 / 4
    assert credits.success_rate(days[1:2]) is None


def test_balance_history_keeps_each_days_closing_balance(db):
    now = timezone.now().replace(hour=12)
    CreditSnapshot.objects.create(balance=100, taken_at=now - timedelta(days=40))
    CreditSnapshot.objects.create(balance=90, taken_at=now - timedelta(days=2, hours=3))
    CreditSnapshot.objects.create(balance=85, taken_at=now - timedelta(days=2, hours=1))
    CreditSnapshot.objects.create(balance=60, taken_at=now)

    history = credits.balance_history(days=4, now=now)

    assert [value for _day, value in history] == [100, 85, 85, 60]


def test_timings_and_top_errors(make_try_on):
    for seconds in (4, 6, 8, 30):
        make_try_on(took=seconds)
    make_try_on(State.FAILED, error_code="TIMED_OUT")
    make_try_on(State.FAILED, error_code="TIMED_OUT")
    make_try_on(State.FAILED, error_code="PHOTO_REJECTED")

    timings = credits.timings()
    assert (timings.count, timings.median_seconds, timings.p90_seconds) == (4, 7, 30)
    assert credits.top_errors() == [("TIMED_OUT", 2), ("PHOTO_REJECTED", 1)]


# -- The page ----------------------------------------------------------------------------------


def test_dashboard_shows_balance_projection_and_charts(storefront, admin_client, make_try_on):
    storefront.state.set_credits(API_KEY, 120)
    now = timezone.now()
    for day in range(7):
        make_try_on(at=now - timedelta(days=day, hours=1))
    failed = make_try_on(State.FAILED, error_code="TIMED_OUT")
    FunnelEvent.objects.create(
        kind=FunnelEvent.Kind.ADDED_TO_CART,
        shopper_key=failed.shopper_key,
        content_type=failed.content_type,
        object_id=failed.object_id,
        try_on=TryOn.objects.filter(state=State.COMPLETED).first(),
    )

    response = admin_client.get(DASHBOARD)

    assert response.status_code == 200
    page = response.content.decode()
    assert "Credits and usage" in page
    assert "data-genlook-balance>120<" in page
    assert "120 days" in page  # one completed try-on a day
    assert page.count('<svg class="genlook-chart"') == 3  # try-ons per day, balance, funnel
    assert "Try-ons per day, last 30 days" in page
    assert "TIMED_OUT" in page
    assert CreditSnapshot.objects.get().balance == 120


def test_the_app_index_links_to_the_credits_page(admin_client):
    page = admin_client.get(INDEX).content.decode()
    assert f'href="{DASHBOARD}"' in page
    assert "Credits and usage" in page


def test_refresh_is_a_post_with_csrf(storefront, admin_user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)
    storefront.state.set_credits(API_KEY, 50)
    client.get(DASHBOARD)
    assert client.get(REFRESH).status_code == 405
    assert client.post(REFRESH).status_code == 403  # no CSRF token

    storefront.state.set_credits(API_KEY, 45)
    page = client.get(DASHBOARD)
    token = page.cookies["csrftoken"].value
    response = client.post(REFRESH, {"csrfmiddlewaretoken": token}, follow=True)
    assert "Balance refreshed: 45 credits." in response.content.decode()
    assert credit_reads(storefront) == 2


def test_refresh_says_when_genlook_cannot_be_reached(storefront, admin_client):
    storefront.state.set_faults(error_rates={503: 1.0})
    response = admin_client.post(REFRESH, follow=True)
    assert "Genlook could not be reached" in response.content.decode()


# -- Permissions -------------------------------------------------------------------------------


def test_staff_without_the_apps_permissions_see_nothing_of_it(storefront, staff):
    client = staff("auth.view_user")
    index = client.get(INDEX).content.decode()
    assert "Genlook" not in index and "genlook" not in index
    for url in (
        DASHBOARD,
        reverse("admin:genlook_tryon_changelist"),
        reverse("admin:genlook_watermarksettings_changelist"),
        reverse("admin:genlook_watermarksettings_preview"),
    ):
        assert client.get(url).status_code == 403, url
    assert client.post(REFRESH).status_code == 403
    assert credit_reads(storefront) == 0


def test_the_view_permission_is_enough_for_the_dashboard(storefront, staff):
    client = staff("view_creditsnapshot")
    assert client.get(DASHBOARD).status_code == 200
    index = client.get(INDEX).content.decode()
    assert "Credits and usage" in index
    assert "Watermark settings" not in index and "Try-ons" not in index


def test_the_refresh_task_stores_a_snapshot(storefront):
    from genlook_django import tasks

    storefront.state.set_credits(API_KEY, 64)
    assert tasks.refresh_credits.apply().result == 64
    assert CreditSnapshot.objects.get().balance == 64


def test_snapshots_are_read_only(admin_client, db):
    snapshot = CreditSnapshot.objects.create(balance=1)
    change = reverse("admin:genlook_creditsnapshot_change", args=[snapshot.pk])
    assert admin_client.get(change).status_code == 302
    assert admin_client.get(reverse("admin:genlook_creditsnapshot_add")).status_code == 403
    call_command("check")  # nothing else to configure


def test_without_an_api_key_the_page_says_why(admin_client, settings):
    settings.GENLOOK = {"BASE_URL": "http://127.0.0.1:9/tryon/v1"}
    page = admin_client.get(DASHBOARD)
    assert page.status_code == 200
    assert "API_KEY is missing" in page.content.decode()
