"""The synced products admin: the list, and its four actions."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth.models import User
from django.urls import reverse

from genlook_django import ProductAdapter
from genlook_django.admin.products import SyncedProductAdmin
from genlook_django.client import NotFoundError
from genlook_django.models import SyncedProduct
from genlook_django.services import catalog
from tests.support.images import image_bytes

Status = SyncedProduct.Status
CHANGELIST = reverse("admin:genlook_syncedproduct_changelist")


@pytest.fixture
def act(admin_client, django_capture_on_commit_callbacks):
    def post(action: str, rows, **extra):
        data = {"action": action, ACTION_CHECKBOX_NAME: [row.pk for row in rows], **extra}
        with django_capture_on_commit_callbacks(execute=True):
            return admin_client.post(CHANGELIST, data, follow=True)

    return post


def test_changelist_shows_status_last_sync_error_and_expiry(genlook, admin_client, synced):
    synced("Sage Wrap Dress")
    genlook.state.set_faults(error_rates={500: 1.0})
    synced("Ochre Chore Jacket")

    page = admin_client.get(CHANGELIST).content.decode()
    assert "Synced" in page
    assert "Failed" in page
    assert "INTERNAL_ERROR" in page or "Injected fault" in page
    assert "expires at Genlook" in page.lower() or "Expires at Genlook" in page
    assert "/admin/shop/product/" in page  # a link to the shop's product

    row = SyncedProduct.objects.get(status=Status.SYNCED)
    detail = admin_client.get(reverse("admin:genlook_syncedproduct_change", args=[row.pk]))
    assert detail.status_code == 200
    assert row.external_id in detail.content.decode()


def test_nothing_to_add_or_delete_by_hand(admin_client, genlook, synced):
    synced()
    assert admin_client.get(reverse("admin:genlook_syncedproduct_add")).status_code == 403
    page = admin_client.get(CHANGELIST).content.decode()
    assert "delete_selected" not in page


def test_sync_now_pushes_even_unchanged_products(genlook, act, synced):
    synced()
    response = act("sync_now", SyncedProduct.objects.all())
    assert "Sync requested for 1 product" in response.content.decode()
    assert genlook.state.count("POST", "/products") == 2
    assert SyncedProduct.objects.get().status == Status.SYNCED


def test_delete_at_genlook_asks_first(genlook, genlook_client, act, synced):
    synced()
    rows = SyncedProduct.objects.all()
    confirm = act("delete_at_genlook", rows)
    assert "Yes, delete at Genlook" in confirm.content.decode()
    assert genlook.state.count("DELETE") == 0

    done = act("delete_at_genlook", rows, confirm="yes")
    assert "Deletion at Genlook requested for 1 product" in done.content.decode()
    assert genlook.state.count("DELETE") == 1
    assert SyncedProduct.objects.get().status == Status.DELETED


def test_refresh_from_genlook(genlook, genlook_client, act, synced):
    synced()
    row = SyncedProduct.objects.get()
    act("refresh_from_genlook", [row])
    row.refresh_from_db()
    assert row.status == Status.SYNCED
    assert genlook.state.count("GET") == 1

    genlook_client.delete_product(row.external_id)  # gone behind the shop's back
    act("refresh_from_genlook", [row])
    row.refresh_from_db()
    assert row.status == Status.PENDING
    assert row.content_hash == ""
    assert "no longer has" in row.last_error

    genlook_client.upsert_product(
        row.external_id, title="Edited elsewhere", images=["http://x/y.png"]
    )
    row.status, row.content_hash = Status.SYNCED, "0" * 64
    row.save()
    act("refresh_from_genlook", [row])
    row.refresh_from_db()
    assert row.status == Status.PENDING
    assert row.last_error_code == "REMOTE_DIFFERS"


def test_refresh_of_an_unchanged_product_keeps_it_synced(genlook, act, synced):
    synced()
    row = SyncedProduct.objects.get()
    act("refresh_from_genlook", [row])
    row.refresh_from_db()
    assert (row.status, row.last_error) == (Status.SYNCED, "")


def test_audit_images_action(genlook, act, admin_client, synced):
    synced("Big", image=image_bytes((600, 800)))
    synced("Tiny", image=image_bytes((40, 40)))
    act("audit_images", SyncedProduct.objects.all())

    ok = {row.remote["title"]: row.image_issues for row in SyncedProduct.objects.all()}
    assert ok["Big"] == []
    assert [issue["problem"] for issue in ok["Tiny"]] == ["too_small"]
    flagged = admin_client.get(CHANGELIST, {"images": "issues"})
    assert [row.remote["title"] for row in flagged.context["cl"].result_list] == ["Tiny"]
    assert SyncedProduct.objects.filter(images_checked_at__isnull=False).count() == 2
    assert genlook.state.count("POST", "/try-on") == 0


def test_editing_a_product_in_the_shop_admin_syncs_it(
    genlook, genlook_client, admin_client, synced, django_capture_on_commit_callbacks
):
    product = synced("Everyday Tee")
    url = reverse("admin:shop_product_change", args=[product.pk])
    form = {
        "name": "Everyday Organic Tee",
        "slug": product.slug,
        "description": "Mid-weight jersey.",
        "price": "35.00",
        "currency": "EUR",
        "category": "tops",
        "is_active": "on",
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(url, form)
    assert response.status_code == 302, response.content.decode()[:2000]
    remote = genlook_client.get_product(f"shop.product:{product.pk}")
    assert (remote.title, remote.description) == ("Everyday Organic Tee", "Mid-weight jersey.")


class _HiddenInputs(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.fields: dict[str, list[str]] = {}

    def handle_starttag(self, tag, attrs) -> None:
        attrs = dict(attrs)
        if tag == "input" and attrs.get("type") == "hidden":
            self.fields.setdefault(attrs["name"], []).append(attrs.get("value") or "")


def confirmation_form(page: str) -> dict[str, list[str]]:
    """What the confirmation page's form posts: its hidden inputs, as a browser sends them."""
    parser = _HiddenInputs()
    parser.feed(page)
    return parser.fields


class UserAdapter(ProductAdapter):
    title_field = "username"

    def get_images(self, instance):
        return ["https://cdn.example.com/user.jpg"]


def test_delete_at_genlook_of_all_products_across_pages(
    genlook,
    genlook_client,
    admin_client,
    adapter_for,
    synced,
    monkeypatch,
    django_capture_on_commit_callbacks,
):
    for _ in range(3):
        synced()
    adapter_for(User, UserAdapter)
    with django_capture_on_commit_callbacks(execute=True):
        User.objects.create(username="ada")
    catalog.unregister(User)  # an orphan: its model is no longer registered
    monkeypatch.setattr(SyncedProductAdmin, "list_per_page", 2)
    on_page = [row.pk for row in admin_client.get(CHANGELIST).context["cl"].result_list]
    assert len(on_page) == 2

    confirm = admin_client.post(  # "Select all 4 synced products", then the action
        CHANGELIST,
        {
            "action": "delete_at_genlook",
            "select_across": "1",
            "index": "0",
            ACTION_CHECKBOX_NAME: on_page,
        },
    )
    page = confirm.content.decode()
    assert page.count("<li><code>") == 4
    with django_capture_on_commit_callbacks(execute=True):
        done = admin_client.post(CHANGELIST, confirmation_form(page), follow=True)

    assert "Deletion at Genlook requested for 4 products" in done.content.decode()
    assert genlook.state.count("DELETE") == 4
    assert set(SyncedProduct.objects.values_list("status", flat=True)) == {Status.DELETED}
    with pytest.raises(NotFoundError):
        genlook_client.get_product(
            SyncedProduct.objects.get(external_id__startswith="auth.").external_id
        )


def test_the_confirmation_acts_on_the_listed_products_only(
    genlook, admin_client, synced, django_capture_on_commit_callbacks
):
    synced()
    listed = SyncedProduct.objects.get()
    confirm = admin_client.post(
        CHANGELIST, {"action": "delete_at_genlook", ACTION_CHECKBOX_NAME: [listed.pk]}
    )
    synced()  # added meanwhile: not on the page the merchant confirmed
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(CHANGELIST, confirmation_form(confirm.content.decode()))
    assert genlook.state.count("DELETE") == 1
    assert SyncedProduct.objects.get(pk=listed.pk).status == Status.DELETED
    assert SyncedProduct.objects.exclude(pk=listed.pk).get().status == Status.SYNCED
