"""Oscar's storefront with genlook: the button on standalone, parent and child pages, a
try-on started from a child, Oscar's basket feeding the funnel, the dashboard's menu and
the system check that notices a product page without the button."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.checks import run_checks
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from genlook_django.models import FunnelEvent, TryOn
from tests.oscar.conftest import external_id
from tests.support.storefront import TRY_ONS, follow

PRODUCT_REF = re.compile(r'data-product="([^"]+)"')


def button_refs(page) -> list[str]:
    assert page.status_code == 200
    return PRODUCT_REF.findall(page.content.decode())


def test_standalone_parent_and_child_pages_show_the_button(storefront, seeded, client):
    dress, parent, child = seeded["GL-DRESS-1"], seeded["GL-TEE-1"], seeded["GL-TEE-1-S"]

    assert button_refs(client.get(dress.get_absolute_url())) == [external_id(dress)]
    # A parent's page (its variants listed) and a child's page try the parent on.
    assert button_refs(client.get(parent.get_absolute_url())) == [external_id(parent)]
    page = client.get(child.get_absolute_url())
    assert button_refs(page) == [external_id(parent)]
    assert "btn btn-lg btn-outline-primary" in page.content.decode()  # Oscar's styling


def test_a_hidden_product_has_no_button(storefront, seeded, client):
    dress = seeded["GL-DRESS-1"]
    dress.is_public = False
    dress.save()
    staff = get_user_model().objects.create_user("staff", "staff@example.com", "pw")
    staff.is_staff = True
    staff.save()
    client.force_login(staff)  # Oscar shows hidden products to staff only

    assert button_refs(client.get(dress.get_absolute_url())) == []


def try_on(shopper: Client, product, photo: bytes) -> dict:
    upload = SimpleUploadedFile("me.jpg", photo, content_type="image/jpeg")
    response = shopper.post(
        TRY_ONS, {"product": external_id(product), "consent": "true", "photo": upload}
    )
    assert response.status_code == 202, response.content
    return follow(shopper, response.json())


@pytest.mark.django_db(transaction=True)  # the try-on is submitted when its row commits
def test_oscars_basket_records_the_add_to_cart_of_a_tried_on_product(
    storefront, seeded, person_photo
):
    parent, child = seeded["GL-TEE-1"], seeded["GL-TEE-1-M"]
    shopper = Client()
    # Started from the child's page (its reference), tried on as the parent.
    done = try_on(shopper, child, person_photo)
    assert done["status"] == "completed"
    row = TryOn.objects.get(public_id=done["id"])
    assert row.object_id == str(parent.pk)
    assert row.product_external_id == external_id(parent)

    response = shopper.post(reverse("basket:add", kwargs={"pk": child.pk}), {"quantity": 1})
    assert response.status_code == 302
    event = FunnelEvent.objects.get()
    assert event.kind == FunnelEvent.Kind.ADDED_TO_CART
    assert event.try_on == row
    assert event.object_id == str(parent.pk)

    # A shopper who did not try it on adds the same product: nothing is recorded.
    Client().post(reverse("basket:add", kwargs={"pk": child.pk}), {"quantity": 1})
    assert FunnelEvent.objects.count() == 1


@pytest.fixture
def staff(db):
    user = get_user_model().objects.create_user("clerk", "clerk@example.com", "pw")
    user.is_staff = True
    user.save()
    return user


def test_the_dashboard_shows_the_menu_to_a_superuser(admin_client):
    page = admin_client.get("/dashboard/")

    assert page.status_code == 200
    html = page.content.decode()
    assert "Virtual try-on" in html
    names = ("tryon", "syncedproduct", "creditsnapshot", "watermarksettings", "batchjob")
    for name in (*names, "webhookdelivery"):
        assert f'href="{reverse(f"admin:genlook_{name}_changelist")}"' in html
    # And the pages it links to open.
    for name in ("syncedproduct", "batchjob", "webhookdelivery"):
        assert admin_client.get(reverse(f"admin:genlook_{name}_changelist")).status_code == 200


def test_the_menu_shows_staff_only_the_pages_they_may_see(staff):
    client = Client()
    client.force_login(staff)
    html = client.get("/dashboard/").content.decode()
    assert "Virtual try-on" not in html  # no Genlook permission: no entry, no error

    staff.user_permissions.add(Permission.objects.get(codename="view_tryon"))
    html = client.get("/dashboard/").content.decode()
    assert "Virtual try-on" in html
    assert reverse("admin:genlook_tryon_changelist") in html
    assert reverse("admin:genlook_syncedproduct_changelist") not in html


def test_the_check_is_quiet_when_the_button_is_on_the_product_page(db):
    ids = {message.id for message in run_checks()}
    assert not ids & {"genlook.W050", "genlook.W051"}


def test_the_check_warns_when_the_shops_own_detail_template_lacks_the_button(settings, tmp_path):
    own = tmp_path / "oscar" / "catalogue"
    own.mkdir(parents=True)
    (own / "detail.html").write_text("<h1>{{ product.title }}</h1>")
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [str(tmp_path)]}]

    warnings = [m for m in run_checks() if m.id == "genlook.W050"]
    assert len(warnings) == 1
    assert "genlook/oscar/tryon_button.html" in warnings[0].hint

    (own / "detail.html").write_text('{% include "genlook/oscar/tryon_button.html" %}')
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [str(tmp_path)]}]  # no cache
    assert not [m for m in run_checks() if m.id == "genlook.W050"]
