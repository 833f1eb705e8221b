"""The try-ons admin: thumbnails, filters, timings, product links, "retry" and "erase this
shopper", and who may do what."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from genlook_django.models import FunnelEvent, ShopperPhoto, TryOn, UsageRecord
from genlook_django.services import files
from tests.support.images import grey_jpeg

pytestmark = pytest.mark.django_db

State = TryOn.State
CHANGELIST = reverse("admin:genlook_tryon_changelist")


def result_url(try_on: TryOn, thumb: bool = False) -> str:
    url = reverse("admin:genlook_tryon_result", args=[try_on.pk])
    return url + ("?thumb=1" if thumb else "")


@pytest.fixture
def act(admin_client, django_capture_on_commit_callbacks):
    def post(action: str, rows, client=None, **extra):
        data = {"action": action, ACTION_CHECKBOX_NAME: [row.pk for row in rows], **extra}
        with django_capture_on_commit_callbacks(execute=True):
            return (client or admin_client).post(CHANGELIST, data, follow=True)

    return post


# -- The list ----------------------------------------------------------------------------------


def test_list_shows_thumbnails_timings_errors_and_product_links(admin_client, make_try_on, product):
    done = make_try_on(result=grey_jpeg(), took=7.5)
    make_try_on(State.FAILED, error_code="PHOTO_REJECTED")
    make_try_on(State.PENDING)

    page = admin_client.get(CHANGELIST).content.decode()

    assert f'src="{result_url(done, thumb=True)}"' in page
    assert "7.5 s" in page and "6.5 s" in page  # total, and from acceptance to result
    assert "PHOTO_REJECTED" in page
    assert reverse("admin:shop_product_change", args=[product.pk]) in page
    assert "genlook-state--failed" in page
    assert "delete_selected" not in page
    assert "retry_failed" in page and "erase_shoppers" in page


def test_state_and_date_filters(admin_client, make_try_on):
    make_try_on(State.FAILED, error_code="TIMED_OUT")
    make_try_on(at=timezone.now() - timedelta(days=20))
    failed = admin_client.get(CHANGELIST, {"state__exact": "failed"})
    assert failed.context["cl"].result_count == 1
    midnight = timezone.now().replace(hour=0, minute=0, second=0, microsecond=0)
    since = str(midnight - timedelta(days=7))  # as the filter's "Past 7 days" link has it
    recent = admin_client.get(CHANGELIST, {"created_at__gte": since})
    assert recent.context["cl"].result_count == 1


def test_the_result_is_streamed_to_staff_who_may_view_try_ons(make_try_on, staff):
    done = make_try_on(result=grey_jpeg((600, 800)))
    viewer = staff("view_tryon")

    full = viewer.get(result_url(done))
    thumb = viewer.get(result_url(done, thumb=True))

    assert full.status_code == 200 and b"".join(full.streaming_content).startswith(b"\xff\xd8")
    with Image.open(io.BytesIO(thumb.content)) as image:
        assert max(image.size) <= 128
    assert staff("view_creditsnapshot").get(result_url(done)).status_code == 403
    assert viewer.get(CHANGELIST).status_code == 200
    page = viewer.get(reverse("admin:genlook_tryon_change", args=[done.pk])).content.decode()
    assert f'src="{result_url(done)}"' in page
    assert "Erase this shopper" not in page  # view only


def test_no_result_no_thumbnail(admin_client, make_try_on):
    failed = make_try_on(State.FAILED)
    assert admin_client.get(result_url(failed)).status_code == 404


# -- Retry -------------------------------------------------------------------------------------


def test_retry_sends_a_failed_try_on_again(storefront, real_try_on, act, settings):
    storefront.state.set_faults(fail_generations=1.0)
    failed = real_try_on()
    assert failed.state == State.FAILED
    storefront.state.clear_faults()
    creates = storefront.state.count("POST", "/try-on")

    response = act("retry_failed", [failed])

    assert "1 try-on sent to Genlook again" in response.content.decode()
    retry = TryOn.objects.get(retry_of=failed)
    assert (retry.photo_id, retry.object_id) == (failed.photo_id, failed.object_id)
    assert retry.shopper_key == failed.shopper_key
    assert retry.state == State.PENDING
    assert storefront.state.count("POST", "/try-on") == creates + 1
    assert UsageRecord.objects.filter(kind="try_on").count() == 2


def test_retry_skips_what_did_not_fail_and_keeps_to_the_budget(
    storefront, act, make_try_on, settings
):
    settings.GENLOOK = {**settings.GENLOOK, "DAILY_TRY_ON_BUDGET": 0}
    failed = make_try_on(State.FAILED, photo=True)
    done = make_try_on()

    response = act("retry_failed", [failed, done]).content.decode()

    assert "1 try-on skipped: only failed ones are retried." in response
    assert "not retried: Virtual try-on is very popular today" in response
    assert not TryOn.objects.filter(retry_of__isnull=False).exists()


def test_retry_needs_the_photo(act, make_try_on):
    failed = make_try_on(State.FAILED)  # no photo kept
    response = act("retry_failed", [failed]).content.decode()
    assert "photo is no longer kept" in response


def test_retry_button_on_a_failed_try_on(storefront, admin_client, make_try_on, person_photo):
    failed = make_try_on(State.FAILED, photo=True)
    change = reverse("admin:genlook_tryon_change", args=[failed.pk])
    page = admin_client.get(change).content.decode()
    retry_url = reverse("admin:genlook_tryon_retry", args=[failed.pk])
    assert f'action="{retry_url}"' in page
    assert admin_client.get(retry_url).status_code == 405

    response = admin_client.post(retry_url)

    retry = TryOn.objects.get(retry_of=failed)
    assert response["Location"] == reverse("admin:genlook_tryon_change", args=[retry.pk])


def test_staff_without_add_permission_cannot_retry(staff, make_try_on, act):
    failed = make_try_on(State.FAILED, photo=True)
    viewer = staff("view_tryon")
    assert "retry_failed" not in viewer.get(CHANGELIST).content.decode()
    assert viewer.post(reverse("admin:genlook_tryon_retry", args=[failed.pk])).status_code == 403
    act("retry_failed", [failed], client=viewer)
    assert not TryOn.objects.filter(retry_of=failed).exists()


# -- Erase this shopper ------------------------------------------------------------------------


def test_erase_this_shopper_asks_first_then_erases_here_and_at_genlook(
    storefront, real_try_on, act, shopper
):
    first = real_try_on(shopper)
    second = real_try_on(shopper, new_photo=False, reuse_photo="true")
    someone_else = real_try_on()
    key = first.shopper_key
    FunnelEvent.objects.create(
        kind="added_to_cart",
        shopper_key=key,
        content_type=first.content_type,
        object_id=first.object_id,
        try_on=first,
    )
    stored = [first.result_file, second.result_file, first.photo.file_name]

    confirm = act("erase_shoppers", [first, second]).content.decode()
    assert "Yes, erase" in confirm and "2 try-ons" in confirm and "1 photo" in confirm
    assert TryOn.objects.count() == 3 and storefront.state.count("DELETE") == 0

    done = act("erase_shoppers", [first], confirm="yes", genlook_shoppers=key).content.decode()

    assert "1 shopper erased here (try-ons: 2, photos: 1)" in done
    assert list(TryOn.objects.all()) == [someone_else]
    assert not ShopperPhoto.objects.filter(shopper_key=key).exists()
    assert not FunnelEvent.objects.exists()
    assert not UsageRecord.objects.filter(shopper_key=key).exists()
    for name in stored:
        assert not files.exists(files.photos_storage(), name)
    assert files.exists(files.results_storage(), someone_else.result_file)
    assert storefront.state.count("DELETE", f"/customers/{key}") == 1


def test_erase_from_the_try_on_page(
    storefront, admin_client, make_try_on, django_capture_on_commit_callbacks
):
    try_on = make_try_on(result=grey_jpeg(), photo=True)
    url = reverse("admin:genlook_tryon_erase_shopper", args=[try_on.pk])
    page = admin_client.get(reverse("admin:genlook_tryon_change", args=[try_on.pk]))
    assert url in page.content.decode()
    assert "Yes, erase" in admin_client.get(url).content.decode()
    assert TryOn.objects.exists()

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(url, {"confirm": "yes"})

    assert response["Location"] == CHANGELIST
    assert not TryOn.objects.exists() and not ShopperPhoto.objects.exists()
    assert storefront.state.count("DELETE", f"/customers/{try_on.shopper_key}") == 1


def test_erasing_needs_the_delete_permission(staff, make_try_on):
    try_on = make_try_on()
    viewer = staff("view_tryon")
    url = reverse("admin:genlook_tryon_erase_shopper", args=[try_on.pk])
    assert viewer.get(url).status_code == 403
    assert viewer.post(url, {"confirm": "yes"}).status_code == 403
    assert "erase_shoppers" not in viewer.get(CHANGELIST).content.decode()
    assert TryOn.objects.exists()

    eraser = staff("view_tryon", "delete_tryon")
    assert eraser.get(url).status_code == 200


def test_anonymised_try_ons_have_no_shopper_to_erase(act, make_try_on):
    anonymous = make_try_on(shopper_key="")
    response = act("erase_shoppers", [anonymous]).content.decode()
    assert "anonymised already" in response
    assert TryOn.objects.exists()


def test_no_retry_while_genlook_has_no_credits(act, make_try_on):
    make_try_on(State.FAILED, error_code="INSUFFICIENT_CREDITS")  # just now: paused
    failed = make_try_on(State.FAILED, photo=True, error_code="GENLOOK_UNAVAILABLE")
    response = act("retry_failed", [failed]).content.decode()
    assert "Genlook has no credits left: top up before retrying." in response
    assert not TryOn.objects.filter(retry_of=failed).exists()
