"""R5, the API key shows nowhere (docs/reliability.md).

The app runs with a distinctive key (and, for a while, a wrong one, one with a stray line
break, one with a space); every output of a family of surfaces, with ``DEBUG`` off then on,
is scanned for it: pages, static files, API answers (errors and crashes), admin pages,
command output, every log record at DEBUG (tracebacks with their locals, admin e-mails), and
afterwards every stored row, session and cache entry.

One case per family of surfaces (``-k shopper_pages``, ``-k unexpected_errors``...); the
surfaces are driven by ``tests/reliability/inputs/key_surfaces.py``, the scan is
``tests/reliability/leak_scan.py``. Scaled down by default (CI);
``GENLOOK_RELIABILITY=full`` scans every admin page of every object in every family.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.contrib.staticfiles import finders
from django.core.cache import caches
from django.core.serializers import serialize
from django.test import Client

from genlook_django.models import WebhookDelivery
from genlook_django.services import batches

from .figures import full_run
from .inputs.key_surfaces import CANARY, WRONG_KEY, Surfaces
from .leak_scan import LeakScan, every_log_record, scan_log_record

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("fast_passwords")]


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


@pytest.fixture
def surfaces(canary, settings, make_product, person_photo, monkeypatch, tmp_path) -> Surfaces:
    users = get_user_model()
    admin = Client(raise_request_exception=False)
    admin.force_login(users.objects.create_superuser("boss", "boss@example.com", None))
    run_in_process = batches.run_in_process
    # genlook_batch polls every 2 s, and no option of the command changes that.
    monkeypatch.setattr(
        batches,
        "run_in_process",
        lambda *args, **kwargs: run_in_process(*args, **kwargs, poll_interval=0.1),
    )
    return Surfaces(
        scan=LeakScan([CANARY, WRONG_KEY]),
        settings=settings,
        sandbox=canary,
        monkeypatch=monkeypatch,
        tmp_path=tmp_path,
        shirt=make_product("Canary Shirt"),
        person_photo=person_photo,
        admin=admin,
        member=users.objects.create_user("member"),
    )


def shopper_pages(s: Surfaces, where: str) -> None:
    s.shoppers(where)


def genlook_failures(s: Surfaces, where: str) -> None:
    s.genlook_failures(where, faults_too=s.settings.DEBUG or full_run())


def unexpected_errors(s: Surfaces, where: str) -> None:
    s.crashes(where)


def webhook_headers(s: Surfaces, where: str) -> None:
    s.webhooks(where)


def every_admin_page(s: Surfaces, where: str) -> None:
    """Every admin page of every object: try-ons, webhook deliveries and a batch first."""
    s.try_on(Client(), f"{where} a try-on")
    s.webhooks(where)
    s.run_commands(where, calling_genlook_only=True)
    s.admin_pages(where, every_object=True)


def commands(s: Surfaces, where: str) -> None:
    s.try_on(Client(), f"{where} a try-on")  # a shopper for genlook_erase
    s.run_commands(where)


FAMILIES: dict[str, Callable[[Surfaces, str], None]] = {
    "shopper_pages": shopper_pages,
    "genlook_failures": genlook_failures,
    "unexpected_errors": unexpected_errors,
    "webhook_headers": webhook_headers,
    "every_admin_page": every_admin_page,
    "commands": commands,
}


def scan_what_is_kept(scan: LeakScan) -> None:
    """What the app keeps: every row of its tables, the sessions, the cache."""
    for model in [*apps.get_app_config("genlook").get_models(), get_user_model()]:
        for row in model.objects.all():
            scan.check("stored rows", model._meta.label, serialize("json", [row]))
    for session in Session.objects.all():
        scan.check("stored rows", "session", repr(session.get_decoded()))
    cache = caches["default"]
    for key, value in getattr(cache, "_cache", {}).items():
        scan.check("cache entries", "default", repr(key) + repr(value))


def scan_static_files(scan: LeakScan) -> None:
    """The widget's files, and the shop's."""
    for finder in finders.get_finders():
        for path, storage in finder.list([]):
            if path.startswith(("genlook/", "shop/")):
                with storage.open(path) as handle:
                    scan.check("static files", path, handle.read())


@pytest.mark.parametrize("family", FAMILIES)
def test_the_api_key_shows_nowhere(family, surfaces, settings, figures):
    began = time.monotonic()
    scan = surfaces.scan
    with every_log_record() as records:
        for debug in (False, True):
            settings.DEBUG = debug
            FAMILIES[family](surfaces, "DEBUG" if debug else "production")
        settings.DEBUG = False
    ran = round(time.monotonic() - began, 1)

    reported: set = set()
    for record in records:
        scan_log_record(scan, record, reported)
    scan_what_is_kept(scan)
    if family == "shopper_pages":
        scan_static_files(scan)
    if family in ("webhook_headers", "every_admin_page"):
        # The deliveries' headers were stored, x-api-key redacted.
        api_key_headers = [
            value
            for row in WebhookDelivery.objects.all()
            for name, value in row.headers.items()
            if name.lower().endswith("api-key")
        ]
        assert api_key_headers and set(api_key_headers) == {"[redacted]"}
        figures["webhook_api_key_headers_redacted"] = len(api_key_headers)

    figures.update(
        key=CANARY[:16] + "…",
        scanned=dict(scan.scanned),
        pages_and_answers=sum(n for k, n in scan.scanned.items() if "page" in k or "answer" in k),
        log_records=len(records),
        leaks=len(scan.leaks),
        seconds_running=ran,
        seconds=round(time.monotonic() - began, 1),
    )
    assert scan.scanned
    assert not scan.leaks, "\n".join(scan.leaks[:15])
