"""Regression tests of the storefront's security review, against the sandbox over real HTTP:
bodies refused before they are read, bounded photo decoding, quotas per network and for the
shop that cannot be raced, try-ons that always end, short status requests, erasures that
wait for try-ons in flight, and anonymous try-ons kept across signing in."""

from __future__ import annotations

import dataclasses
import http.server
import threading
import time
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from genlook_django.client import GenlookClient, GenlookTimeoutError
from genlook_django.models import ErasureDebt, ShopperPhoto, TryOn, UsageRecord
from genlook_django.services import files
from genlook_django.services.genlook import get_client
from genlook_django.services.tryons import photos, quotas, results, shoppers, submission
from tests.support import images
from tests.support.catalog import API_KEY
from tests.support.concurrency import in_parallel
from tests.support.storefront import ME, TRY_ONS, follow, hold_submissions, product_ref, start

pytestmark = pytest.mark.django_db(transaction=True)


def detail(try_on: dict | TryOn) -> str:
    public_id = try_on["id"] if isinstance(try_on, dict) else try_on.public_id
    return reverse("genlook:tryon-detail", kwargs={"public_id": public_id})


def photo_url(photo: ShopperPhoto) -> str:
    return reverse("genlook:photo-detail", kwargs={"public_id": photo.public_id})


@pytest.fixture(scope="module")
def huge_png() -> bytes:
    """7070x7070 RGBA: 209 kB on disk, 200 MB decoded."""
    return images.png_rgba_streamed(7070, 7070)


# -- 1. A body too large is refused before anything reads it ------------------------------------


@pytest.mark.parametrize("length", ["", "12abc", "-5"], ids=["missing", "garbage", "negative"])
def test_a_multipart_body_without_a_usable_length_is_refused(
    storefront, product, person_photo, parsers_must_not_run, length
):
    shopper = Client()
    response = shopper.post(
        TRY_ONS,
        {
            "product": product_ref(product),
            "consent": "true",
            "photo": SimpleUploadedFile("me.jpg", person_photo),
        },
        CONTENT_LENGTH=length,
    )

    assert response.status_code == 411
    assert response.json()["code"] == "LENGTH_REQUIRED"
    assert parsers_must_not_run == []


def test_a_body_within_the_limit_is_still_accepted_with_the_csrf_check(
    storefront, product, person_photo
):
    browser = Client(enforce_csrf_checks=True)
    browser.get(ME)
    response = browser.post(
        TRY_ONS,
        {
            "product": product_ref(product),
            "consent": "true",
            "photo": SimpleUploadedFile("me.png", person_photo),
        },
        headers={"X-CSRFToken": browser.cookies["csrftoken"].value},
    )
    assert response.status_code == 202


def test_the_upload_view_is_never_atomic(settings):
    from genlook_django.api.views import TryOnListView

    # Its quota reservation must commit on its own, ATOMIC_REQUESTS or not.
    assert "default" in TryOnListView.as_view()._non_atomic_requests


# -- 2. Photos decoded at full size: a lower bound, and a cap on concurrent decodes -------------


def test_a_tiny_png_of_50_megapixels_is_refused_before_decoding(
    storefront, shopper, product, huge_png
):
    assert len(huge_png) < 250_000

    response = start(shopper, product, huge_png)

    assert response.status_code == 413
    assert response.json()["code"] == "PHOTO_TOO_MANY_PIXELS"
    assert not TryOn.objects.exists() and not ShopperPhoto.objects.exists()
    assert storefront.state.count("POST", "/images/upload") == 0


def test_a_busy_photo_pipeline_answers_503_and_costs_no_quota(
    storefront, settings, shopper, product, person_photo
):
    settings.GENLOOK = {
        **settings.GENLOOK,
        "PHOTO_PIPELINE_CONCURRENCY": 1,
        "PHOTO_PIPELINE_WAIT": 0.1,
        "UPLOAD_QUOTA": (1, 300),
    }
    holding, release = threading.Event(), threading.Event()

    def occupy() -> None:
        with photos.pipeline_slot(photos.PhotoLimits.from_settings()):
            holding.set()
            release.wait(10)

    thread = threading.Thread(target=occupy)
    thread.start()
    try:
        assert holding.wait(5)
        busy = start(shopper, product, person_photo)
    finally:
        release.set()
        thread.join(5)

    assert busy.status_code == 503
    assert busy.json()["code"] == "UPLOADS_BUSY"
    assert busy["Retry-After"] == "1"
    assert not UsageRecord.objects.exists()  # nothing counted: the shopper may try again
    assert start(shopper, product, person_photo).status_code == 202  # the one upload allowed


# -- 3. Quotas per client network, and for the whole shop ---------------------------------------


def test_cookieless_clients_from_one_address_are_stopped(
    storefront, settings, product, person_photo
):
    settings.GENLOOK = {**settings.GENLOOK, "IP_UPLOAD_QUOTA": (3, 3600)}
    answers = [start(Client(), product, person_photo) for _ in range(5)]  # a fresh session each

    assert [a.status_code for a in answers] == [202, 202, 202, 429, 429]
    refused = answers[3]
    assert refused.json()["code"] == "IP_UPLOAD_QUOTA_EXCEEDED"
    assert 3500 < refused.json()["retry_after"] <= 3600
    assert refused["Retry-After"] == str(refused.json()["retry_after"])
    assert TryOn.objects.count() == 3
    # Someone elsewhere is not affected; the address itself is never stored.
    elsewhere = Client(REMOTE_ADDR="203.0.113.7")
    assert start(elsewhere, product, person_photo).status_code == 202
    assert not UsageRecord.objects.filter(shopper_key__contains="127.0.0.1").exists()


def test_try_ons_per_address_are_limited_too(storefront, settings, product, person_photo):
    settings.GENLOOK = {**settings.GENLOOK, "IP_TRY_ON_QUOTA": (2, 86_400)}
    answers = [start(Client(), product, person_photo) for _ in range(3)]

    assert [a.status_code for a in answers] == [202, 202, 429]
    assert answers[2].json()["code"] == "IP_TRY_ON_QUOTA_EXCEEDED"


def test_an_ipv6_network_counts_as_one_address(storefront, settings, product, person_photo):
    settings.GENLOOK = {**settings.GENLOOK, "IP_UPLOAD_QUOTA": (2, 3600)}
    hosts = ["2001:db8:5:7::1", "2001:db8:5:7:ffff::2", "2001:db8:5:7:abcd::3"]
    answers = [start(Client(REMOTE_ADDR=host), product, person_photo) for host in hosts]

    assert [a.status_code for a in answers] == [202, 202, 429]
    other = Client(REMOTE_ADDR="2001:db8:5:8::1")  # another /64
    assert start(other, product, person_photo).status_code == 202


def test_behind_a_proxy_the_address_it_saw_counts(storefront, settings, product, person_photo):
    settings.GENLOOK = {
        **settings.GENLOOK,
        "IP_UPLOAD_QUOTA": (2, 3600),
        "CLIENT_IP_HEADER": "X-Forwarded-For",
        "TRUSTED_PROXY_COUNT": 1,
    }

    def via_proxy(forwarded_for: str) -> int:
        client = Client(headers={"X-Forwarded-For": forwarded_for})  # REMOTE_ADDR: the proxy
        return start(client, product, person_photo).status_code

    # The client makes up the left part; the proxy appends the address it saw.
    assert via_proxy("1.1.1.1, 198.51.100.4") == 202
    assert via_proxy("2.2.2.2, 198.51.100.4") == 202
    assert via_proxy("3.3.3.3, 198.51.100.4") == 429  # the same shopper, however disguised
    assert via_proxy("198.51.100.5") == 202  # another shopper, behind the same proxy


def test_without_the_setting_forwarded_headers_are_ignored(
    storefront, settings, product, person_photo
):
    settings.GENLOOK = {**settings.GENLOOK, "IP_UPLOAD_QUOTA": (1, 3600)}
    first = Client(headers={"X-Forwarded-For": "198.51.100.1"})
    second = Client(headers={"X-Forwarded-For": "198.51.100.2"})
    assert start(first, product, person_photo).status_code == 202
    assert start(second, product, person_photo).status_code == 429  # both 127.0.0.1


def test_client_addresses_are_parsed_defensively(rf, settings):
    settings.GENLOOK = {
        **settings.GENLOOK,
        "CLIENT_IP_HEADER": "X-Forwarded-For",
        "TRUSTED_PROXY_COUNT": 2,
    }

    def ip(forwarded: str, remote: str = "10.0.0.1") -> str | None:
        request = rf.get("/", REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=forwarded)
        return quotas.client_ip(request)

    assert ip("6.6.6.6, 198.51.100.4, 10.1.1.1") == "198.51.100.4"  # 2 proxies appended
    assert ip("198.51.100.4") == "198.51.100.4"  # fewer entries than proxies: the first
    assert ip("[2001:db8::1]:443, 10.1.1.1") == "2001:db8::1"
    assert ip("203.0.113.9:51234, 10.1.1.1") == "203.0.113.9"
    assert ip("not-an-address, 10.1.1.1") == "10.0.0.1"  # unusable: REMOTE_ADDR
    assert ip("", remote="::ffff:192.0.2.1") == "192.0.2.1"
    assert quotas.network_key("2001:db8::1") == quotas.network_key("2001:db8::ffff:1")
    assert quotas.network_key("192.0.2.1") != quotas.network_key("192.0.2.2")
    assert quotas.network_key(None) is None


def test_the_shop_has_an_upload_budget(storefront, settings, product, person_photo):
    settings.GENLOOK = {**settings.GENLOOK, "UPLOAD_BUDGET": (2, 60)}
    shoppers_ = [Client(REMOTE_ADDR=f"198.51.100.{i}") for i in (1, 2, 3)]
    answers = [start(client, product, person_photo) for client in shoppers_]

    assert [a.status_code for a in answers] == [202, 202, 429]
    assert answers[2].json()["code"] == "UPLOAD_BUDGET_EXCEEDED"
    assert 0 < int(answers[2]["Retry-After"]) <= 60
    # Reusing a photo is no new upload.
    assert start(shoppers_[0], product, reuse_photo="true").status_code == 202


def test_a_refused_photo_still_counts_as_an_upload_but_not_as_a_try_on(
    storefront, settings, shopper, product
):
    settings.GENLOOK = {**settings.GENLOOK, "IP_UPLOAD_QUOTA": (2, 3600)}
    for _ in range(2):
        assert start(Client(), product, images.jpeg((120, 90))).json()["code"] == "PHOTO_TOO_SMALL"

    assert start(Client(), product, images.jpeg()).json()["code"] == "IP_UPLOAD_QUOTA_EXCEEDED"
    assert not UsageRecord.objects.filter(kind__in=["try_on", quotas.IP_TRY_ON]).exists()


# -- 5. Parallel requests cannot all pass a quota -----------------------------------------------


@pytest.mark.parametrize(
    ("setting", "code"),
    [
        ({"DAILY_TRY_ON_BUDGET": 2}, "DAILY_BUDGET_EXCEEDED"),
        ({"IP_UPLOAD_QUOTA": (2, 3600)}, "IP_UPLOAD_QUOTA_EXCEEDED"),
    ],
    ids=["daily-budget", "per-address"],
)
def test_parallel_requests_cannot_overshoot_a_quota(
    storefront, settings, product, person_photo, monkeypatch, sqlite_waits_for_locks, setting, code
):
    settings.GENLOOK = {**settings.GENLOOK, **setting}
    normalise = photos.normalise

    def slow_normalise(*args, **kwargs):  # a big photo: the window between check and record
        time.sleep(0.3)
        return normalise(*args, **kwargs)

    monkeypatch.setattr(photos, "normalise", slow_normalise)

    answers = in_parallel(6, lambda i: start(Client(), product, person_photo))

    assert not [a for a in answers if isinstance(a, BaseException)], answers
    accepted = [a for a in answers if a.status_code == 202]
    refused = [a for a in answers if a.status_code == 429]
    assert len(accepted) + len(refused) == 6
    assert len(accepted) <= 2, f"{len(accepted)} passed a limit of 2"
    assert {a.json()["code"] for a in refused} == {code}
    assert TryOn.objects.count() == len(accepted)
    # Refused reservations were given back: what is left of the limit can still be used.
    assert UsageRecord.objects.filter(kind="try_on").count() == len(accepted)
    for _ in range(2 - len(accepted)):
        assert start(Client(), product, person_photo).status_code == 202
    assert start(Client(), product, person_photo).status_code == 429


# -- 6. Every open try-on ends: RESULT_TIMEOUT whatever its state -------------------------------


@pytest.mark.parametrize("state", ["received", "submitting"])
@pytest.mark.parametrize("worker", [False, True], ids=["eager", "worker"])
def test_a_try_on_stuck_before_genlook_times_out_in_the_status_view(
    storefront, settings, shopper, product, person_photo, submissions_held, state, worker
):
    settings.GENLOOK = {**settings.GENLOOK, "STATUS_POLL_THROUGH": not worker}
    created = start(shopper, product, person_photo).json()
    TryOn.objects.update(state=state)
    assert shopper.get(detail(created)).json()["status"] == state  # not yet due

    settings.GENLOOK = {**settings.GENLOOK, "RESULT_TIMEOUT": 0}
    body = shopper.get(detail(created)).json()

    assert body["status"] == "failed"
    assert body["error"]["code"] == "TIMED_OUT"
    assert body["poll_after_ms"] is None  # the widget stops
    assert TryOn.objects.get().error_code == "TIMED_OUT"


def test_the_widget_is_told_when_to_stop_polling(storefront, settings, client, product):
    settings.GENLOOK = {**settings.GENLOOK, "RESULT_TIMEOUT": 120}
    page = client.get(product.get_absolute_url()).content.decode()
    assert 'data-max-wait-ms="180000"' in page  # RESULT_TIMEOUT and a minute


# -- 7. A status request stays short, whatever Genlook does -------------------------------------


def test_a_slow_genlook_does_not_hold_a_status_request(
    storefront, settings, shopper, product, person_photo
):
    settings.GENLOOK = {
        **settings.GENLOOK,
        "STATUS_POLL_CONNECT_TIMEOUT": 0.5,
        "STATUS_POLL_READ_TIMEOUT": 0.5,
    }
    created = start(shopper, product, person_photo).json()
    storefront.state.set_faults(latency=4.0)  # every answer 4 s late
    TryOn.objects.update(last_checked_at=timezone.now() - timedelta(minutes=1))  # a check due

    began = time.monotonic()
    body = shopper.get(detail(created)).json()
    took = time.monotonic() - began

    assert took < 2.0, f"the status request took {took:.1f}s"
    assert body["status"] == "pending"  # asked again on a later request
    storefront.state.clear_faults()
    assert follow(shopper, created)["status"] == "completed"


class TrickleHandler(http.server.BaseHTTPRequestHandler):
    """Sends a 25 MB "image" a kilobyte every 50 ms: never idle long enough for a read
    timeout, and hours to finish."""

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "image/jpeg")
        self.send_header("Content-Length", str(25 * 1024 * 1024))
        self.end_headers()
        try:
            for _ in range(2000):
                self.wfile.write(b"\xff" * 1024)
                self.wfile.flush()
                time.sleep(0.05)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def log_message(self, *args):
        pass


@pytest.fixture
def trickle_url():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), TrickleHandler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/result.jpg"
    server.shutdown()
    server.server_close()


def test_a_slow_result_download_does_not_hold_a_status_request(
    storefront, settings, shopper, product, person_photo, monkeypatch, trickle_url
):
    settings.GENLOOK = {**settings.GENLOOK, "STATUS_POLL_DOWNLOAD_TIMEOUT": 0.5}
    created = start(shopper, product, person_photo).json()
    row = TryOn.objects.get()
    get_client().wait_for_generation(row.generation_id, timeout=5, interval=0.05)
    real_get_generation = GenlookClient.get_generation

    def result_on_a_slow_host(self, generation_id):
        generation = real_get_generation(self, generation_id)
        return dataclasses.replace(generation, result_image_url=trickle_url)

    monkeypatch.setattr(GenlookClient, "get_generation", result_on_a_slow_host)

    began = time.monotonic()
    body = shopper.get(detail(created)).json()
    took = time.monotonic() - began

    assert took < 2.5, f"the status request took {took:.1f}s"
    assert body["status"] == "pending"  # the download is tried again on a later check
    monkeypatch.setattr(GenlookClient, "get_generation", real_get_generation)
    assert follow(shopper, created)["status"] == "completed"


def test_every_client_variant_spends_the_one_request_budget(storefront):
    short = results.poll_through_client()
    assert short._transport.connect_timeout == 2.0 and short._transport.read_timeout == 3.0
    assert short.download_timeout == 5.0
    assert short._transport._limiter is get_client()._transport._limiter
    assert short._transport._limiter is get_client(max_retries=0)._transport._limiter


def test_the_worker_download_is_not_cut_short(storefront, trickle_url):
    with pytest.raises(GenlookTimeoutError):
        results.poll_through_client().download(trickle_url, timeout=0.3)
    assert get_client().download_timeout is None  # a worker may take its time


# -- 8. Erasing while a try-on is in flight -----------------------------------------------------


def _erasures(sandbox, key: str) -> int:
    return sandbox.state.count("DELETE", f"/customers/{key}")


def test_deleting_a_try_on_keeps_the_photo_another_open_try_on_uses(
    storefront, shopper, product, person_photo, monkeypatch
):
    done = follow(shopper, start(shopper, product, person_photo).json())
    key = TryOn.objects.get().shopper_key
    photo = ShopperPhoto.objects.get()
    hold_submissions(monkeypatch)  # the next one is queued for a worker
    second = start(shopper, product, reuse_photo="true").json()
    assert second["status"] == "received"

    assert shopper.delete(detail(done)).status_code == 204

    # The photo waits for the open try-on; Genlook is not asked to erase anything yet.
    assert files.exists(files.photos_storage(), photo.file_name)
    assert _erasures(storefront, key) == 0
    assert shopper.get(photo_url(photo)).status_code == 404  # gone, for the shopper
    assert shopper.get(ME).json()["photo"] is None

    # The worker submits the open try-on: it works, and then the owed erasures are made.
    assert (
        submission.submit_try_on(TryOn.objects.get(public_id=second["id"]).pk, wait=True) == "done"
    )
    remaining = TryOn.objects.get()
    assert remaining.state == TryOn.State.COMPLETED
    assert not ShopperPhoto.objects.exists()
    assert not files.exists(files.photos_storage(), photo.file_name)
    assert _erasures(storefront, key) == 1
    assert shopper.get(detail(second)).json()["status"] == "completed"


def test_a_try_on_erased_while_generating_is_erased_at_genlook_once_it_ends(
    storefront, shopper, product, person_photo
):
    storefront.state.configure(generation_seconds=1.0)
    created = start(shopper, product, person_photo).json()
    row = TryOn.objects.get()
    key, generation_id = row.shopper_key, row.generation_id
    assert row.state == TryOn.State.PENDING

    assert shopper.delete(detail(created)).status_code == 204

    assert shopper.get(detail(created)).status_code == 404  # gone, for the shopper
    assert _erasures(storefront, key) == 0  # it would detach the running generation
    withdrawn = TryOn.objects.get()
    assert withdrawn.withdrawn_at is not None
    assert withdrawn.consent_version == row.consent_version  # the consent given stays

    # The generation ends; whoever checks it next (here the poll task) settles the rest.
    client = get_client()
    client.wait_for_generation(generation_id, timeout=10, interval=0.05)
    results.poll_once(TryOn.objects.get(), client=client)

    assert not TryOn.objects.exists() and not ShopperPhoto.objects.exists()
    assert (
        not files.results_storage().exists("genlook/results")
        or not (files.results_storage().listdir("genlook/results")[1])
    )
    assert _erasures(storefront, key) == 1
    generation = storefront.state.engine.get(API_KEY, generation_id)
    assert generation.customer_id is None
    assert storefront.state.files.get_by_url(generation.result_url) is None  # erased too


def test_a_shopper_erased_while_generating_keeps_the_charge_on_the_books(
    storefront, shopper, product, person_photo
):
    from genlook_django.models import ChargedGeneration
    from genlook_django.services import retention

    storefront.state.configure(generation_seconds=1.0)
    created = start(shopper, product, person_photo).json()
    row = TryOn.objects.get()
    key, generation_id = row.shopper_key, row.generation_id
    assert row.state == TryOn.State.PENDING

    report = retention.erase_shopper(key)

    assert (report.try_ons, report.photos) == (1, 1)
    assert shopper.get(detail(created)).status_code == 404  # gone, for the shopper
    assert TryOn.objects.get().withdrawn_at is not None  # kept until Genlook ends it
    assert _erasures(storefront, key) == 0  # it would detach the running generation

    client = get_client()
    client.wait_for_generation(generation_id, timeout=10, interval=0.05)
    results.poll_once(TryOn.objects.get(), client=client)

    assert not TryOn.objects.exists() and not ShopperPhoto.objects.exists()
    charged = ChargedGeneration.objects.get()  # Genlook charged for it: on the books
    assert (charged.generation_id, charged.erased_at is not None) == (generation_id, True)
    assert _erasures(storefront, key) == 1
    assert not ErasureDebt.objects.exists()


def test_a_try_on_deleted_before_its_submission_is_never_sent(
    storefront, shopper, product, person_photo, submissions_held
):
    created = start(shopper, product, person_photo).json()
    pk, key = TryOn.objects.values_list("pk", "shopper_key").get()

    assert shopper.delete(detail(created)).status_code == 204

    assert submission.submit_try_on(pk, wait=True) == "missing"  # the worker finds nothing to send
    assert storefront.state.count("POST", "/try-on/sync") == 0
    assert _erasures(storefront, key) == 1  # nothing open: erased at once
    assert not ShopperPhoto.objects.exists()


def test_owed_erasures_survive_a_failure_too(storefront, shopper, product, person_photo):
    storefront.state.configure(generation_seconds=30)
    created = start(shopper, product, person_photo).json()
    key = TryOn.objects.get().shopper_key
    assert shopper.delete(detail(created)).status_code == 204
    assert _erasures(storefront, key) == 0

    results.give_up(TryOn.objects.get())  # RESULT_TIMEOUT, or the reconciler

    assert not TryOn.objects.exists()
    assert _erasures(storefront, key) == 1
    assert not ErasureDebt.objects.exists()


# -- 9. Signing in keeps the try-ons made anonymously -------------------------------------------


def test_an_anonymous_try_on_is_kept_after_signing_in(storefront, shopper, product, person_photo):
    done = follow(shopper, start(shopper, product, person_photo).json())
    anonymous_key = shopper.session[shoppers.SESSION_KEY]
    user = get_user_model().objects.create_user("ada", "ada@example.com", "pw")
    calls_before = len(storefront.state.requests)

    shopper.force_login(user)

    assert len(storefront.state.requests) == calls_before  # Genlook is told nothing
    user_key = shoppers.user_key(user.pk)
    assert shopper.get(detail(done)).json()["status"] == "completed"
    assert shopper.get(done["result_url"]).status_code == 200
    assert shopper.get(ME).json()["photo"] is not None
    assert not TryOn.objects.filter(shopper_key=anonymous_key).exists()
    assert not ShopperPhoto.objects.filter(shopper_key=anonymous_key).exists()
    assert not UsageRecord.objects.filter(shopper_key=anonymous_key).exists()
    assert UsageRecord.objects.filter(shopper_key=user_key, kind="try_on").count() == 1
    assert shoppers.aliases(user_key) == [anonymous_key]
    # The same user on another device sees it too.
    phone = Client()
    phone.force_login(user)
    assert phone.get(detail(done)).status_code == 200

    # Erasing the user at Genlook erases what was sent under the visitor's key as well.
    assert shopper.delete(detail(done)).status_code == 204
    assert _erasures(storefront, user_key) == 1
    assert _erasures(storefront, anonymous_key) == 1
    assert shoppers.aliases(user_key) == []


def test_a_try_on_in_progress_follows_its_shopper_signing_in(
    storefront, shopper, product, person_photo
):
    storefront.state.configure(generation_seconds=1.0)
    created = start(shopper, product, person_photo).json()
    user = get_user_model().objects.create_user("grace", "grace@example.com", "pw")

    shopper.force_login(user)

    assert follow(shopper, created)["status"] == "completed"
    # The photo is uploaded again under the user's key next time (not reused from the old).
    assert ShopperPhoto.objects.get().genlook_image_id == ""
    follow(shopper, start(shopper, product, reuse_photo="true").json())
    assert storefront.state.count("POST", "/images/upload") == 2


def test_the_admins_erasure_of_a_user_reaches_the_old_key(
    storefront, shopper, product, person_photo
):
    from genlook_django.services import retention

    follow(shopper, start(shopper, product, person_photo).json())
    anonymous_key = shopper.session[shoppers.SESSION_KEY]
    user = get_user_model().objects.create_user("ada", "ada@example.com", "pw")
    shopper.force_login(user)
    user_key = shoppers.user_key(user.pk)

    retention.erase_shopper(user_key)

    assert not TryOn.objects.exists()
    assert _erasures(storefront, user_key) == 1
    assert _erasures(storefront, anonymous_key) == 1


def test_signing_in_without_anything_anonymous_records_nothing(storefront):
    user = get_user_model().objects.create_user("ada", "ada@example.com", "pw")
    browser = Client()
    browser.get(ME)
    browser.force_login(user)
    assert not UsageRecord.objects.exists()


def test_the_new_windows_are_checked(settings):
    from genlook_django.checks import check_storefront

    settings.GENLOOK = {**settings.GENLOOK, "IP_UPLOAD_QUOTA": 30, "UPLOAD_BUDGET": (10, 0)}
    assert [m.id for m in check_storefront()] == ["genlook.E005", "genlook.E005"]
    settings.GENLOOK = {**settings.GENLOOK, "IP_UPLOAD_QUOTA": None, "UPLOAD_BUDGET": None}
    assert check_storefront() == []
