"""R5's surfaces where the API key could show: the pages shoppers see, the storefront API's
answers (errors too), Genlook failing in every way, crashes (DEBUG pages, tracebacks),
webhook deliveries carrying the key, the admin and the commands. ``Surfaces`` drives them
and hands every output to a ``LeakScan``; one method per family of surfaces."""

from __future__ import annotations

import io
import logging
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from django.core.files.storage import FileSystemStorage
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from genlook_django.client import GenlookError
from genlook_django.conf import DEFAULTS
from genlook_django.models import TryOn
from genlook_django.services.genlook import get_client
from tests.support import images
from tests.support.storefront import ME, TRY_ONS, follow, product_ref, start

from ..figures import full_run
from ..leak_scan import LeakScan
from .routes import admin_kwargs, classify, project_routes
from .strangers import detail_url, uuid4

CANARY = "gk_live_R5CANARY_5f0c9a7e3d1b48a6c2e0f4d8b6a3c1e9"
WRONG_KEY = "gk_live_R5WRONGKEY_9e1c3a6b8d4f0e2c6a8b4d1f3e7c9a0b"  # configured by mistake


def host_project_reads_the_balance() -> None:
    """A host project's own call, its failure logged with the traceback."""
    try:
        get_client().get_credits()
    except GenlookError:
        logging.getLogger("host_project").exception("Could not read the balance")


class NetworkStackFailure(RuntimeError):
    """Something nobody expected, deep inside requests."""


@dataclass(repr=False)  # its repr would show the scan's keys in the tracebacks it scans
class Surfaces:
    """The app with the canary key (``sandbox``), and who looks at it: a superuser in the
    admin (``admin``), a signed-in customer (``member``), shoppers made on the way."""

    scan: LeakScan
    settings: Any  # pytest-django's settings fixture
    sandbox: Any
    monkeypatch: pytest.MonkeyPatch
    tmp_path: Any
    shirt: Any
    person_photo: bytes
    admin: Client
    member: Any

    def configure(self, **genlook: Any) -> None:
        self.settings.GENLOOK = {**self.settings.GENLOOK, **genlook}

    def use_key(self, key: str) -> None:
        self.configure(API_KEY=key)

    def faults(self, **options: Any) -> None:
        self.sandbox.state.clear_faults()
        if options:
            self.sandbox.state.set_faults(**options)

    def try_on(self, client: Client, where: str, **fields: Any) -> dict | None:
        """A try-on through the storefront, followed to its end; every answer scanned."""
        photo = fields.pop("photo", self.person_photo)
        response = self.scan.response(
            "api answers", where, start(client, self.shirt, photo, **fields)
        )
        if response.status_code != 202:
            return None
        body = response.json()
        deadline = time.monotonic() + 10
        while True:
            status = self.scan.response("api answers", where, client.get(detail_url(body["id"])))
            if status.status_code != 200 or status.json()["poll_after_ms"] is None:
                break
            assert time.monotonic() < deadline, where
            time.sleep(0.05)
        done = status.json() if status.status_code == 200 else body
        for url in (done.get("result_url"), done.get("photo_url")):
            if url:
                self.scan.response("api answers", where, client.get(url))
        return done

    def shopper_pages(self, client: Client, where: str) -> None:
        for url in (
            reverse("shop:catalog"),
            self.shirt.get_absolute_url(),
            reverse("shop:cart"),
            reverse("genlook:privacy"),
            reverse("genlook:jsi18n"),
            reverse("genlook:widget-button") + f"?product={product_ref(self.shirt)}",
            reverse("genlook:schema"),
            reverse("genlook:schema") + "?format=json",
            ME,
        ):
            self.scan.response("pages and widget", f"{where} {url}", client.get(url))

    def api_errors(self, where: str) -> None:
        client = Client()
        form = {"product": product_ref(self.shirt), "consent": "true", "photo": io.BytesIO(b"x")}
        answers = [
            start(client, self.shirt, self.person_photo, consent="false"),
            start(client, self.shirt),
            start(client, self.shirt, b"not a photo at all"),
            start(client, self.shirt, images.jpeg((120, 90))),
            start(client, self.shirt, images.gif()),
            client.post(TRY_ONS, form, CONTENT_LENGTH=str(50 * 1024 * 1024)),
            client.post(TRY_ONS, form, CONTENT_LENGTH=""),
            client.post(TRY_ONS, {"product": "shop.product:999999", "consent": "true"}),
            client.post(TRY_ONS, "{not json", content_type="application/json"),
            client.get(TRY_ONS),
            client.put(ME),
            client.get(detail_url(uuid4())),
            client.get(f"/genlook/api/tryons/{uuid4()}/nothing-here/"),
            Client(enforce_csrf_checks=True).post(TRY_ONS, {"product": product_ref(self.shirt)}),
            client.post(reverse("genlook:webhook", args=["A" * 43]), b"{}", "application/json"),
        ]
        self.configure(UPLOAD_QUOTA=(1, 300))
        answers += [
            start(client, self.shirt, self.person_photo),
            start(client, self.shirt, self.person_photo),
        ]
        self.configure(UPLOAD_QUOTA=DEFAULTS["UPLOAD_QUOTA"])
        assert {a.status_code for a in answers} >= {400, 403, 404, 405, 411, 413, 415, 429}
        for answer in answers:
            self.scan.response("api answers", f"{where} error", answer)

    def genlook_failures(self, where: str, faults_too: bool) -> None:
        """Every way Genlook or the way to it can fail, while shoppers try things on (the
        failures of Genlook's own need no error page: scaled down, with DEBUG on only, its
        SQL log a superset of the other's)."""
        shopper = Client()
        if faults_too:
            self.genlook_faults(shopper)
        # A key Genlook does not know; one with a stray newline (pasted from a file).
        for name, key in (
            ("wrong key", WRONG_KEY),
            ("key with a newline", CANARY + "\n"),
            ("key with a space", CANARY.replace("_", " ", 1)),
        ):
            self.use_key(key)
            self.try_on(shopper, f"{where} {name}")
            self.admin_pages(f"{where} {name}", every_object=full_run())
            self.run_commands(f"{where} {name}", calling_genlook_only=not full_run())
        self.use_key(CANARY)

    def genlook_faults(self, shopper: Client) -> None:
        where = "DEBUG" if self.settings.DEBUG else "production"
        for name, options in (
            ("500", {"error_rates": {500: 1.0}}),
            ("503", {"error_rates": {503: 1.0}}),
            ("429", {"error_rates": {429: 1.0}}),
            ("401", {"error_rates": {401: 1.0}}),
            ("403", {"error_rates": {403: 1.0}}),
            ("failed generation", {"fail_generations": 1.0}),
        ):
            self.faults(**options)
            self.try_on(shopper, f"{where} Genlook {name}")
        self.faults()
        # Slow answers: the create's answer times out (SUBMISSION_UNCERTAIN).
        self.configure(READ_TIMEOUT=0.2)
        self.faults(latency=0.4)
        self.try_on(shopper, f"{where} Genlook too slow")
        self.faults()
        self.configure(READ_TIMEOUT=10.0)
        # No credits left: the try-on fails, the next one is refused while paused.
        self.sandbox.state.set_credits(CANARY, 0)
        self.try_on(shopper, f"{where} no credits")
        self.configure(CREDITS_RETRY_AFTER=120)
        self.try_on(shopper, f"{where} paused")
        self.configure(CREDITS_RETRY_AFTER=0)
        self.sandbox.state.set_credits(CANARY, 10_000)
        # Genlook unreachable.
        base_url = self.settings.GENLOOK["BASE_URL"]
        self.configure(BASE_URL="http://127.0.0.1:9/tryon/v1")
        self.try_on(shopper, f"{where} Genlook unreachable")
        self.configure(BASE_URL=base_url)

    def crashes(self, where: str) -> None:
        """Unexpected exceptions: inside requests while a key is on its way (submitting,
        polling through, reading the balance), in get_client(), in a storage."""
        client = Client(raise_request_exception=False)
        done = self.try_on(client, f"{where} before the crash")
        assert done and done["status"] == "completed", done
        self.sandbox.state.configure(generation_seconds=60)
        polled = self.scan.response(
            "api answers", where, start(client, self.shirt, self.person_photo)
        ).json()
        self.sandbox.state.configure(generation_seconds=0.3)
        time.sleep(0.15)  # STATUS_POLL_INTERVAL: the next status request asks Genlook

        def explode(*args: Any, **kwargs: Any) -> None:
            raise NetworkStackFailure("the network stack failed")

        with self.monkeypatch.context() as patch:
            patch.setattr(requests.adapters.HTTPAdapter, "send", explode)
            self.try_on(client, f"{where} crash inside requests")
            crashed = client.get(detail_url(polled["id"]))
            assert crashed.status_code == 500
            self.scan.response("error pages (500)", f"{where} crash polling through", crashed)
            self.scan.response(
                "admin pages",
                f"{where} crash inside requests: credits refresh",
                self.admin.post(reverse("admin:genlook_creditsnapshot_refresh")),
            )
        # A host project logging a failed call with its traceback (its cause: the socket
        # error, whose frames hold the request as it was sent).
        base_url = self.settings.GENLOOK["BASE_URL"]
        self.configure(BASE_URL="http://127.0.0.1:9/tryon/v1")
        host_project_reads_the_balance()
        self.configure(BASE_URL=base_url)
        # A misconfigured request budget: get_client() itself raises.
        self.configure(RATE_LIMIT_BACKEND="cache")
        self.try_on(client, f"{where} misconfigured budget")
        self.scan.response(
            "admin pages",
            f"{where} misconfigured budget: credits refresh",
            self.admin.post(reverse("admin:genlook_creditsnapshot_refresh"), follow=True),
        )
        self.configure(RATE_LIMIT_BACKEND="local")
        # A storage failing as no file system does (a cloud storage's own error).
        with self.monkeypatch.context() as patch:
            patch.setattr(FileSystemStorage, "open", explode)
            response = client.get(reverse("genlook:tryon-result", args=[done["id"]]))
            assert response.status_code == 500
            self.scan.response("error pages (500)", f"{where} crash in a view", response)
        # Django's own error pages.
        for url in ("/no/such/page/", f"/genlook/api/tryons/{uuid4()}/"):
            self.scan.response("error pages (404)", f"{where} {url}", client.get(url))

    def webhooks(self, where: str) -> None:
        """Deliveries carrying the key in headers (a misconfigured sender): never stored."""
        self.configure(WEBHOOKS=True, STATUS_POLL_THROUGH=False)
        self.faults(drop_webhooks=1.0)
        client = Client()
        created = self.scan.response(
            "api answers", where, start(client, self.shirt, self.person_photo)
        )
        row = TryOn.objects.get(public_id=created.json()["id"])
        hook = self.sandbox.state.engine.get(CANARY, row.generation_id).webhook_url
        path = urlsplit(hook).path
        get_client().wait_for_generation(row.generation_id, timeout=10, interval=0.05)
        payload = {"generationId": row.generation_id, "status": "COMPLETED"}
        for headers in (
            {"x-api-key": CANARY},
            {"X-API-KEY": CANARY, "Authorization": f"Bearer {CANARY}"},
            {"Api-Key": CANARY, "X-Genlook-Api-Key": CANARY, "Cookie": f"k={CANARY}"},
        ):
            self.scan.response(
                "webhook answers",
                where,
                Client().post(path, payload, content_type="application/json", headers=headers),
            )
        self.scan.response("webhook answers", where, Client().post(path, b"\xff", "text/plain"))
        self.faults()
        self.configure(WEBHOOKS=False, STATUS_POLL_THROUGH="auto")
        follow(client, created.json())

    def admin_pages(self, where: str, every_object: bool = True) -> None:
        """Every page of the Genlook admin, for every object there is (or only the index
        and the credits dashboard, refreshed)."""
        self.scan.response("admin pages", f"{where} index", self.admin.get(reverse("admin:index")))
        self.scan.response(
            "admin pages",
            f"{where} credits refresh",
            self.admin.post(reverse("admin:genlook_creditsnapshot_refresh"), follow=True),
        )
        if not every_object:
            return
        for route in project_routes("tests.urls"):
            if classify(route) != "staff":
                continue
            for kwargs in admin_kwargs(route):
                url = reverse(f"admin:{route.name}", kwargs=kwargs)
                self.scan.response("admin pages", f"{where} {url}", self.admin.get(url))

    def run_commands(self, where: str, calling_genlook_only: bool = False) -> None:
        photo = self.tmp_path / "model.png"
        photo.write_bytes(self.person_photo)
        key = TryOn.objects.exclude(shopper_key="").values_list("shopper_key", flat=True).first()
        for args in (
            ["genlook_sync", "--no-progress"],
            ["genlook_sync", "--force", "--no-progress"],
            ["genlook_sync", "--dry-run", "--no-progress"],
            ["genlook_reconcile"],
            ["genlook_reconcile", "--dry-run"],
            ["genlook_purge", "--dry-run"],
            ["genlook_replay_webhooks", "--dry-run"],
            ["genlook_replay_webhooks", "--failed"],
            ["genlook_batch", product_ref(self.shirt), "--photo", str(photo), "--no-progress"],
            ["genlook_erase", "--key", key or "a_nobody", "--dry-run"],
            ["check"],
            ["check", "--deploy"],
        ):
            if calling_genlook_only and args[0] not in ("genlook_sync", "genlook_batch"):
                continue
            out, err = io.StringIO(), io.StringIO()
            try:
                call_command(*args, stdout=out, stderr=err)
            except BaseException as exc:  # CommandError, SystemExit: what the user reads
                err.write(f"{type(exc).__name__}: {exc}")
            self.scan.check("command output", f"{where} {' '.join(args)}", out.getvalue())
            self.scan.check("command output", f"{where} {' '.join(args)} (stderr)", err.getvalue())

    def shoppers(self, where: str) -> None:
        """Pages and answers as anonymous, returning and signed-in shoppers see them."""
        anonymous, returning, signed_in = Client(), Client(), Client()
        signed_in.force_login(self.member)
        self.try_on(returning, f"{where} a try-on")
        self.try_on(signed_in, f"{where} a signed-in try-on")
        for name, client in (("anonymous", anonymous), ("returning", returning)):
            self.shopper_pages(client, f"{where} {name}")
        self.shopper_pages(signed_in, f"{where} signed in")
        self.api_errors(where)
