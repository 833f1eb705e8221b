"""The storefront API against the sandbox, over real HTTP, with Celery run eagerly (no worker:
the status view polls the result through)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from genlook_django.models import ShopperPhoto, TryOn, UsageRecord
from genlook_django.services import files
from genlook_django.services.tryons import shoppers
from genlook_django.signals import credits_exhausted, tryon_completed, tryon_failed
from tests.support import images
from tests.support.catalog import API_KEY
from tests.support.storefront import ME, TRY_ONS, follow, product_ref, start

pytestmark = pytest.mark.django_db(transaction=True)


def detail(try_on: dict) -> str:
    return reverse("genlook:tryon-detail", kwargs={"public_id": try_on["id"]})


def try_on_calls(sandbox) -> int:
    """Uploads and try-ons that reached the sandbox (product syncs are not counted)."""
    return sum(
        sandbox.state.count("POST", path) for path in ("/images/upload", "/try-on", "/try-on/sync")
    )


def generation_of(sandbox, try_on_id) -> object:
    row = TryOn.objects.get(public_id=try_on_id)
    return sandbox.state.engine.get(API_KEY, row.generation_id)


@pytest.fixture
def signals():
    received: dict[str, list] = {"completed": [], "failed": [], "credits": []}

    def on_completed(sender, try_on, **kwargs):
        received["completed"].append(try_on)

    def on_failed(sender, try_on, error_code, **kwargs):
        received["failed"].append((try_on, error_code))

    def on_credits(sender, try_on, error, **kwargs):
        received["credits"].append((try_on, error))

    tryon_completed.connect(on_completed)
    tryon_failed.connect(on_failed)
    credits_exhausted.connect(on_credits)
    yield received
    tryon_completed.disconnect(on_completed)
    tryon_failed.disconnect(on_failed)
    credits_exhausted.disconnect(on_credits)


# -- the happy path ------------------------------------------------------------------------


def test_a_shopper_tries_a_product_on(storefront, shopper, product, person_photo, signals):
    response = start(shopper, product, person_photo)

    assert response.status_code == 202
    created = response.json()
    # Submitted within the request (eager), but not waited for: Genlook is still working.
    assert created["status"] == "pending"
    # Come back just after the next check with Genlook is due (STATUS_POLL_INTERVAL 0.1 s).
    assert 50 <= created["poll_after_ms"] <= 150
    assert created["result_url"] is None

    done = follow(shopper, created)
    assert done["status"] == "completed"
    assert done["error"] is None
    assert done["poll_after_ms"] is None

    result = shopper.get(done["result_url"])
    assert result.status_code == 200
    assert result["Content-Type"] == "image/jpeg"
    assert b"".join(result.streaming_content).startswith(b"\xff\xd8\xff")
    assert "private" in result["Cache-Control"]
    download = shopper.get(done["download_url"])
    assert download["Content-Disposition"].startswith("attachment")
    before = shopper.get(done["photo_url"])
    assert before.status_code == 200

    # One upload, one try-on, sent with the shopper's pseudonymous key and the settings.
    row = TryOn.objects.get(public_id=done["id"])
    assert row.state == TryOn.State.COMPLETED
    assert row.consent_version == "1"
    assert row.submitted_at and row.finished_at and row.remote_finished_at
    assert storefront.state.count("POST", "/images/upload") == 1
    assert storefront.state.count("POST", "/try-on") == 1
    generation = generation_of(storefront, done["id"])
    assert generation.customer_id == row.shopper_key
    assert generation.keep_for_days == 1  # KEEP_FOR_DAYS
    assert generation.watermark is True  # WATERMARK None: the account's default
    assert signals["completed"] == [row]
    assert files.exists(files.results_storage(), row.result_file)


def test_settings_reach_genlook(storefront, settings, shopper, product, person_photo):
    settings.GENLOOK = {**settings.GENLOOK, "WATERMARK": False, "KEEP_FOR_DAYS": 3}
    done = follow(shopper, start(shopper, product, person_photo).json())

    generation = generation_of(storefront, done["id"])
    assert generation.watermark is False
    assert generation.keep_for_days == 3
    photo = ShopperPhoto.objects.get()
    assert photo.genlook_image_expires_at > timezone.now() + timedelta(days=2)


def test_the_last_photo_is_reused_without_uploading_again(
    storefront, shopper, product, person_photo
):
    follow(shopper, start(shopper, product, person_photo).json())
    me = shopper.get(ME).json()
    assert me["photo"]["url"]
    assert me["available"] is True

    again = start(shopper, product, reuse_photo="true")
    assert again.status_code == 202
    assert follow(shopper, again.json())["status"] == "completed"

    assert storefront.state.count("POST", "/images/upload") == 1
    assert storefront.state.count("POST", "/try-on") == 2
    assert ShopperPhoto.objects.count() == 1
    assert UsageRecord.objects.filter(kind="upload").count() == 1


def test_an_expired_image_id_is_uploaded_again(storefront, shopper, product, person_photo):
    follow(shopper, start(shopper, product, person_photo).json())
    ShopperPhoto.objects.update(genlook_image_expires_at=timezone.now() - timedelta(minutes=1))

    follow(shopper, start(shopper, product, reuse_photo="true").json())

    assert storefront.state.count("POST", "/images/upload") == 2


def test_an_image_id_genlook_forgot_is_uploaded_again(storefront, shopper, product, person_photo):
    follow(shopper, start(shopper, product, person_photo).json())
    storefront.state.advance_clock(2 * 86_400)  # Genlook's copy is gone; ours says valid

    done = follow(shopper, start(shopper, product, reuse_photo="true").json())

    assert done["status"] == "completed"
    assert storefront.state.count("POST", "/images/upload") == 2
    assert storefront.state.count("POST", "/try-on", status=400) == 1  # refused once...
    assert storefront.state.count("POST", "/try-on", status=200) == 2  # ...then accepted


def test_the_status_view_asks_genlook_at_most_once_per_interval(
    storefront, settings, shopper, product, person_photo
):
    settings.GENLOOK = {**settings.GENLOOK, "STATUS_POLL_INTERVAL": 30}
    created = start(shopper, product, person_photo).json()
    for _ in range(5):
        body = shopper.get(detail(created)).json()
        assert body["status"] == "pending"
        assert 29_000 < body["poll_after_ms"] <= 30_050  # the widget waits for the check
    # Submission counts as a check: the next one is due in 30 s.
    assert storefront.state.count("GET", "/generations/{generationId}") == 0

    TryOn.objects.update(last_checked_at=timezone.now() - timedelta(seconds=31))
    shopper.get(detail(created))
    shopper.get(detail(created))
    assert storefront.state.count("GET", "/generations/{generationId}") == 1


# -- consent, products, photos --------------------------------------------------------------


def test_consent_is_required(storefront, shopper, product, person_photo):
    response = start(shopper, product, person_photo, consent="false")

    assert response.status_code == 400
    assert response.json()["code"] == "CONSENT_REQUIRED"
    assert response.json()["message"]
    assert not TryOn.objects.exists()
    assert not ShopperPhoto.objects.exists()
    assert try_on_calls(storefront) == 0


def test_a_photo_is_required(storefront, shopper, product):
    assert start(shopper, product).json()["code"] == "PHOTO_REQUIRED"
    # Asking to reuse a photo the shopper never gave:
    assert start(shopper, product, reuse_photo="true").json()["code"] == "PHOTO_REQUIRED"


@pytest.mark.parametrize("reference", ["shop.product:999999", "auth.user:1", "nonsense", ""])
def test_only_registered_try_on_able_products(storefront, shopper, person_photo, reference):
    response = shopper.post(
        TRY_ONS,
        {
            "product": reference,
            "consent": "true",
            "photo": SimpleUploadedFile("me.png", person_photo),
        },
    )
    assert response.status_code in (400, 404)
    assert response.json()["code"] in ("PRODUCT_UNAVAILABLE", "INVALID_REQUEST")


def test_an_inactive_product_cannot_be_tried_on(storefront, shopper, make_product, person_photo):
    hidden = make_product(is_active=False)
    response = start(shopper, hidden, person_photo)
    assert (response.status_code, response.json()["code"]) == (404, "PRODUCT_UNAVAILABLE")


@pytest.mark.parametrize(
    ("content", "code", "status"),
    [
        (b"just some text", "PHOTO_UNSUPPORTED_TYPE", 415),
        (images.gif(), "PHOTO_UNSUPPORTED_TYPE", 415),
        (images.heic_header(), "PHOTO_HEIC_UNSUPPORTED", 415),
        (images.jpeg()[:500], "PHOTO_INVALID", 400),
        (b"", "PHOTO_INVALID", 400),
        (images.png_bomb(), "PHOTO_TOO_MANY_PIXELS", 413),
        (images.jpeg((120, 90)), "PHOTO_TOO_SMALL", 400),
        (images.jpeg((1600, 1200)), "PHOTO_TOO_LARGE", 413),  # over the 20 kB set below
    ],
    ids=["text", "gif", "heic", "truncated", "empty", "bomb", "small", "large"],
)
def test_each_bad_photo_gets_its_code(
    storefront, settings, shopper, product, monkeypatch, content, code, status
):
    from genlook_django.services.tryons import photos

    # pillow-heif is installed here: only this stands for a shop without the extra.
    monkeypatch.setattr(photos, "heif_supported", lambda: False)
    settings.GENLOOK = {**settings.GENLOOK, "PHOTO_MAX_BYTES": 20_000}
    response = start(shopper, product, content)

    assert response.status_code == status
    body = response.json()
    assert (body["code"], body["status"]) == (code, status)
    assert body["message"]
    assert not TryOn.objects.exists()
    assert try_on_calls(storefront) == 0  # nothing reached Genlook


def test_a_body_far_over_the_limit_is_refused_before_it_is_parsed(
    storefront, settings, product, parsers_must_not_run
):
    settings.GENLOOK = {**settings.GENLOOK, "PHOTO_MAX_BYTES": 1000}
    browser = Client(enforce_csrf_checks=True)  # as a browser: the CSRF check runs for real
    browser.get(ME)
    token = browser.cookies["csrftoken"].value

    def body() -> dict:
        return {
            "product": product_ref(product),
            "consent": "true",
            "photo": SimpleUploadedFile("me.jpg", b"\xff\xd8\xff" + b"\x00" * 200_000),
        }

    signed = browser.post(TRY_ONS, body(), headers={"X-CSRFToken": token})
    unsigned = browser.post(TRY_ONS, body())  # no token: still not read to find one

    for response in (signed, unsigned):
        assert response.status_code == 413
        assert response.json()["code"] == "PHOTO_TOO_LARGE"
    assert parsers_must_not_run == []
    assert not TryOn.objects.exists() and not UsageRecord.objects.exists()


# -- ownership and erasure ---------------------------------------------------------------------


def test_one_shopper_cannot_see_or_delete_anothers_try_on(
    storefront, shopper, other_shopper, product, person_photo
):
    done = follow(shopper, start(shopper, product, person_photo).json())
    other_shopper.get(ME)  # a session of their own

    for url in (detail(done), done["result_url"], done["photo_url"]):
        response = other_shopper.get(url)
        assert response.status_code == 404, url
        assert response.json()["code"] == "NOT_FOUND"
    assert other_shopper.delete(detail(done)).status_code == 404
    assert other_shopper.delete(done["photo_url"]).status_code == 404
    # A visitor without any session is a stranger too.
    assert Client().get(detail(done)).status_code == 404

    assert TryOn.objects.filter(public_id=done["id"]).exists()
    assert shopper.get(detail(done)).status_code == 200


def test_the_shopper_erases_their_try_on_and_photo(storefront, shopper, product, person_photo):
    done = follow(shopper, start(shopper, product, person_photo).json())
    row = TryOn.objects.get(public_id=done["id"])
    photo = row.photo
    result_name, photo_name = row.result_file, photo.file_name

    response = shopper.delete(detail(done))

    assert response.status_code == 204
    assert not TryOn.objects.exists()
    assert not ShopperPhoto.objects.exists()
    assert not files.exists(files.results_storage(), result_name)
    assert not files.exists(files.photos_storage(), photo_name)
    # ...and Genlook was asked to erase this shopper (eager: at once).
    assert storefront.state.count("DELETE", f"/customers/{row.shopper_key}") == 1
    assert shopper.get(detail(done)).status_code == 404
    assert shopper.get(ME).json()["photo"] is None
    # The quota is not given back by deleting.
    assert UsageRecord.objects.filter(shopper_key=row.shopper_key).count() == 2


def test_deleting_a_photo_keeps_the_try_ons_made_with_it(
    storefront, shopper, product, person_photo
):
    done = follow(shopper, start(shopper, product, person_photo).json())

    assert shopper.delete(done["photo_url"]).status_code == 204

    again = shopper.get(detail(done)).json()
    assert again["status"] == "completed"
    assert again["photo_url"] is None
    assert shopper.get(again["result_url"]).status_code == 200


def test_signed_in_shoppers_are_known_by_a_keyed_hash(storefront, product, person_photo):
    user = get_user_model().objects.create_user("ada", "ada@example.com", "pw")
    laptop, phone = Client(), Client()
    laptop.force_login(user)
    phone.force_login(user)

    done = follow(laptop, start(laptop, product, person_photo).json())

    key = TryOn.objects.get().shopper_key
    assert key == shoppers.user_key(user.pk)
    assert key.startswith("u_") and "ada" not in key and key != str(user.pk)
    assert phone.get(detail(done)).status_code == 200  # the same shopper on another device


def test_anonymous_shoppers_get_a_random_key_in_their_session(
    storefront, shopper, product, person_photo
):
    start(shopper, product, person_photo)
    key = TryOn.objects.get().shopper_key
    assert key.startswith("a_") and len(key) == 42
    assert shopper.session[shoppers.SESSION_KEY] == key


# -- CSRF ------------------------------------------------------------------------------------


def test_anonymous_posts_and_deletes_need_the_csrf_token(storefront, product, person_photo):
    browser = Client(enforce_csrf_checks=True)

    refused = start(browser, product, person_photo)
    assert refused.status_code == 403
    assert refused.json()["code"] == "CSRF_FAILED"
    assert not TryOn.objects.exists()

    browser.get(ME)  # sets the CSRF cookie, as the widget's page does
    token = browser.cookies["csrftoken"].value
    accepted = browser.post(
        TRY_ONS,
        {
            "product": product_ref(product),
            "consent": "true",
            "photo": SimpleUploadedFile("me.png", person_photo),
        },
        headers={"X-CSRFToken": token},
    )
    assert accepted.status_code == 202

    url = detail(accepted.json())
    assert browser.delete(url).status_code == 403
    assert browser.delete(url, headers={"X-CSRFToken": token}).status_code == 204


# -- quotas ------------------------------------------------------------------------------------


def test_uploads_per_shopper_are_limited(storefront, settings, shopper, product, person_photo):
    settings.GENLOOK = {**settings.GENLOOK, "UPLOAD_QUOTA": (2, 300)}
    assert start(shopper, product, person_photo).status_code == 202
    assert start(shopper, product, person_photo).status_code == 202

    refused = start(shopper, product, person_photo)

    assert refused.status_code == 429
    body = refused.json()
    assert body["code"] == "UPLOAD_QUOTA_EXCEEDED"
    assert "2 photos in 5 minutes" in body["message"]
    assert 0 < body["retry_after"] <= 300
    assert refused["Retry-After"] == str(body["retry_after"])
    # The last photo may still be used; other shoppers are not affected.
    assert start(shopper, product, reuse_photo="true").status_code == 202
    assert start(Client(), product, person_photo).status_code == 202


def test_try_ons_per_shopper_are_limited(storefront, settings, shopper, product, person_photo):
    settings.GENLOOK = {**settings.GENLOOK, "TRY_ON_QUOTA": (2, 7 * 86_400)}
    start(shopper, product, person_photo)
    first = TryOn.objects.get()
    start(shopper, product, reuse_photo="true")
    shopper.delete(reverse("genlook:tryon-detail", kwargs={"public_id": first.public_id}))

    refused = start(shopper, product, person_photo)  # deleting gave nothing back

    assert refused.status_code == 429
    assert refused.json()["code"] == "TRY_ON_QUOTA_EXCEEDED"
    assert "2 try-ons in a week" in refused.json()["message"]


def test_the_shop_has_a_daily_budget(storefront, settings, product, person_photo):
    settings.GENLOOK = {**settings.GENLOOK, "DAILY_TRY_ON_BUDGET": 2}
    assert start(Client(), product, person_photo).status_code == 202
    assert start(Client(), product, person_photo).status_code == 202

    refused = start(Client(), product, person_photo)

    assert refused.status_code == 429
    assert refused.json()["code"] == "DAILY_BUDGET_EXCEEDED"
    UsageRecord.objects.update(created_at=timezone.now() - timedelta(hours=25))
    assert start(Client(), product, person_photo).status_code == 202


def test_quotas_can_be_turned_off(storefront, settings, shopper, product, person_photo):
    settings.GENLOOK = {
        **settings.GENLOOK,
        "UPLOAD_QUOTA": None,
        "TRY_ON_QUOTA": None,
        "DAILY_TRY_ON_BUDGET": None,
    }
    for _ in range(3):
        assert start(shopper, product, person_photo).status_code == 202


# -- failures ------------------------------------------------------------------------------------


def test_no_credits_left(storefront, shopper, product, person_photo, signals, admin_client):
    storefront.state.set_credits(API_KEY, 0)

    response = start(shopper, product, person_photo)

    assert response.status_code == 202
    body = response.json()
    assert body["status"] == "failed"
    # The shopper is told "temporarily unavailable", not why.
    assert body["error"]["code"] == "TRY_ON_UNAVAILABLE"
    assert "temporarily unavailable" in body["error"]["message"]
    assert "credit" not in body["error"]["message"].lower()
    row = TryOn.objects.get()
    assert (row.state, row.error_code) == (TryOn.State.FAILED, "INSUFFICIENT_CREDITS")
    assert [try_on for try_on, _ in signals["credits"]] == [row]
    assert signals["failed"] == [(row, "INSUFFICIENT_CREDITS")]

    # New try-ons are paused (no upload wasted), and the widget knows at once.
    paused = start(shopper, product, person_photo)
    assert (paused.status_code, paused.json()["code"]) == (503, "TRY_ON_UNAVAILABLE")
    assert shopper.get(ME).json()["available"] is False
    assert storefront.state.count("POST", "/try-on") == 1

    # The merchant sees it in the admin.
    page = admin_client.get(reverse("admin:genlook_tryon_changelist"))
    assert page.status_code == 200
    assert "Genlook has no credits left" in page.content.decode()
    assert "INSUFFICIENT_CREDITS" in page.content.decode()


def test_after_a_top_up_try_ons_resume(storefront, settings, shopper, product, person_photo):
    settings.GENLOOK = {**settings.GENLOOK, "CREDITS_RETRY_AFTER": 0}
    storefront.state.set_credits(API_KEY, 0)
    start(shopper, product, person_photo)
    storefront.state.set_credits(API_KEY, 10)

    done = follow(shopper, start(shopper, product, reuse_photo="true").json())
    assert done["status"] == "completed"


def test_a_create_that_may_have_been_processed_is_not_sent_again(
    storefront, shopper, product, person_photo, signals
):
    follow(shopper, start(shopper, product, person_photo).json())  # the photo is uploaded
    storefront.state.set_faults(error_rates={502: 1.0})  # a gateway lost Genlook's answer

    body = start(shopper, product, reuse_photo="true").json()

    assert body["status"] == "failed"
    assert body["error"]["code"] == "TRY_ON_FAILED"
    row = TryOn.objects.filter(state=TryOn.State.FAILED).get()
    assert row.error_code == "SUBMISSION_UNCERTAIN"
    assert "not sent again" in row.error_message
    assert storefront.state.count("POST", "/try-on", status=502) == 1  # once, never re-sent


def test_a_create_whose_answer_timed_out_is_not_sent_again(
    storefront, settings, shopper, product, person_photo
):
    follow(shopper, start(shopper, product, person_photo).json())
    settings.GENLOOK = {**settings.GENLOOK, "READ_TIMEOUT": 0.3}
    storefront.state.set_faults(timeout_rate=1.0, timeout_seconds=1.5)

    body = start(shopper, product, reuse_photo="true").json()

    assert body["status"] == "failed"
    assert TryOn.objects.get(state=TryOn.State.FAILED).error_code == "SUBMISSION_UNCERTAIN"
    assert storefront.state.count("POST", "/try-on") == 2  # the first try-on, and this one


def test_genlook_down_fails_the_try_on_quickly(storefront, shopper, product, person_photo):
    storefront.state.set_faults(error_rates={503: 1.0})

    body = start(shopper, product, person_photo).json()

    assert body["status"] == "failed"
    assert body["error"]["code"] == "SERVICE_BUSY"
    assert TryOn.objects.get().error_code == "GENLOOK_UNAVAILABLE"


def test_a_failed_generation(storefront, shopper, product, person_photo, signals):
    storefront.state.set_faults(fail_generations=1.0, fail_error_code="GENERATION_FAILED")

    done = follow(shopper, start(shopper, product, person_photo).json())

    assert done["status"] == "failed"
    assert done["error"]["code"] == "TRY_ON_FAILED"
    assert done["result_url"] is None
    row = TryOn.objects.get()
    assert row.error_code == "GENERATION_FAILED"
    assert signals["failed"] == [(row, "GENERATION_FAILED")]


def test_a_try_on_that_never_finishes_is_given_up(
    storefront, settings, shopper, product, person_photo
):
    storefront.state.configure(generation_seconds=30)
    created = start(shopper, product, person_photo).json()
    settings.GENLOOK = {**settings.GENLOOK, "RESULT_TIMEOUT": 0}

    body = shopper.get(detail(created)).json()

    assert body["status"] == "failed"
    assert body["error"]["code"] == "TIMED_OUT"


# -- the rest of the API --------------------------------------------------------------------------


def test_errors_have_genlooks_shape(storefront, shopper):
    response = shopper.put(TRY_ONS)
    assert response.status_code == 405
    assert response.json()["code"] == "METHOD_NOT_ALLOWED"
    missing = shopper.post(TRY_ONS, {"consent": "true"})
    assert missing.status_code == 400
    assert missing.json()["code"] == "INVALID_REQUEST"
    assert missing.json()["details"][0]["path"] == "product"


def test_the_openapi_schema(storefront, client, capsys):
    response = client.get(reverse("genlook:schema"), {"format": "json"})

    assert "Warning" not in capsys.readouterr().err  # drf-spectacular understood every view
    assert response.status_code == 200
    schema = response.json()
    assert schema["info"]["title"] == "genlook-django storefront API"
    assert set(schema["paths"]) == {
        "/genlook/api/me/",
        "/genlook/api/tryons/",
        "/genlook/api/tryons/{public_id}/",
        "/genlook/api/tryons/{public_id}/result/",
        "/genlook/api/photos/{public_id}/",
        "/genlook/api/tryons/{public_id}/shares/",
        "/genlook/api/shares/{public_id}/",
    }
    assert {"201", "404", "409", "410", "429"} <= set(
        schema["paths"]["/genlook/api/tryons/{public_id}/shares/"]["post"]["responses"]
    )
    create = schema["paths"]["/genlook/api/tryons/"]["post"]
    assert "multipart/form-data" in create["requestBody"]["content"]
    assert {"202", "400", "413", "415", "429", "503"} <= set(create["responses"])


def test_images_are_served_whatever_the_accept_header(storefront, shopper, product, person_photo):
    done = follow(shopper, start(shopper, product, person_photo).json())
    response = shopper.get(done["result_url"], headers={"Accept": "image/avif,image/webp"})
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    download = shopper.get(done["download_url"])
    assert 'filename="try-on.jpg"' in download["Content-Disposition"]
