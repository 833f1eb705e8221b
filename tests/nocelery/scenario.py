"""``DJANGO_SETTINGS_MODULE=tests.nocelery.settings python -m tests.nocelery.scenario``

A merchant's day in a project with no Celery app: a product is saved, a shopper completes a
try-on. Any broker connection or Celery publish is recorded (and refused) on the way. Prints
one JSON object with what happened; ``tests/test_no_celery_project.py`` asserts on it.
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import threading
import time
from pathlib import Path

import django
import kombu
from celery.app.base import Celery

MEDIA = Path(__file__).resolve().parent.parent / "media"
broker_uses: list[str] = []


def _refuse(what: str):
    def refuse(*args, **kwargs):
        broker_uses.append(f"{what} {args[1:2]!r}")
        raise RuntimeError(f"{what}: no broker in this project")

    return refuse


# Installed before anything runs: whatever tries to reach a broker is caught in the act.
kombu.Connection.__init__ = _refuse("kombu.Connection")
Celery.send_task = _refuse("Celery.send_task")


def serve_media() -> http.server.ThreadingHTTPServer:
    """The shop's product images, at a URL the sandbox fetches."""

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, format, *args):
            pass

    handler = functools.partial(Quiet, directory=str(MEDIA))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def main() -> dict:
    os.makedirs(os.environ["GENLOOK_NOCELERY_DIR"], exist_ok=True)
    django.setup()
    from celery import _state
    from django.conf import settings
    from django.core import checks
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.core.management import call_command
    from django.db import transaction
    from django.test import Client, override_settings
    from django.test.utils import setup_test_environment
    from django.urls import reverse

    from genlook_django import jobs
    from genlook_django.models import SyncedProduct, TryOn
    from genlook_django.sandbox.testing import SandboxServer
    from genlook_django.services.genlook import get_client
    from tests.nocelery.catalogue.models import Product

    setup_test_environment()
    call_command("migrate", run_syncdb=True, verbosity=0)
    media = serve_media()
    report: dict = {}
    with SandboxServer(generation_seconds=0.3, sync_wait_seconds=5) as sandbox:
        settings.GENLOOK["BASE_URL"] = sandbox.base_url
        report["mode"] = jobs.mode()
        report["checks"] = [message.id for message in checks.run_checks()]

        with transaction.atomic():  # as a view or the admin saves it
            product = Product.objects.create(
                title="Linen Shirt",
                picture_url=f"http://127.0.0.1:{media.server_port}/person-astronaut.png",
            )
        row = SyncedProduct.objects.get(object_id=str(product.pk))
        report["synced_status"] = row.status
        report["at_genlook"] = get_client().get_product(row.external_id).title

        shopper = Client()
        photo = (MEDIA / "person-astronaut.png").read_bytes()
        response = shopper.post(
            reverse("genlook:tryon-list"),
            {
                "product": f"catalogue.product:{product.pk}",
                "consent": "true",
                "photo": SimpleUploadedFile("me.png", photo, content_type="image/png"),
            },
        )
        report["start_status"] = response.status_code
        url = reverse("genlook:tryon-detail", kwargs={"public_id": response.json()["id"]})
        deadline = time.monotonic() + 30
        body = shopper.get(url).json()
        while body["poll_after_ms"] is not None and time.monotonic() < deadline:
            time.sleep(body["poll_after_ms"] / 1000)
            body = shopper.get(url).json()
        report["try_on_status"] = body["status"]
        report["result_stored"] = bool(TryOn.objects.get().result_file)

        with override_settings(GENLOOK={**settings.GENLOOK, "TASKS": "celery"}):
            report["checks_when_celery_asked"] = [message.id for message in checks.run_checks()]

    media.shutdown()
    report["celery_apps"] = sorted(
        app.main for app in _state._get_active_apps() if app.set_as_current
    )
    report["broker_uses"] = broker_uses
    return report


if __name__ == "__main__":
    print(json.dumps(main()))
