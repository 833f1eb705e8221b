"""Share links in the admin: which looks are open to anyone with their link, and revoking."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from genlook_django.models import ShareLink, TryOn
from genlook_django.services.tryons import sharing
from tests.support.images import grey_jpeg

pytestmark = pytest.mark.django_db

LIST = "admin:genlook_sharelink_changelist"


@pytest.fixture
def shared(make_try_on) -> tuple[TryOn, ShareLink, str]:
    try_on = make_try_on(result=grey_jpeg())
    link, token = sharing.create(try_on)
    return try_on, link, token


def test_the_list_shows_each_link_and_whether_it_still_opens_the_look(
    admin_client, shared, make_try_on
):
    try_on, link, _token = shared
    other = make_try_on(result=grey_jpeg())
    expired, _ = sharing.create(other)
    ShareLink.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - timedelta(hours=1))

    page = admin_client.get(reverse(LIST)).content.decode()
    assert str(link.public_id) in page and str(expired.public_id) in page
    assert reverse("admin:genlook_tryon_change", args=[try_on.pk]) in page
    assert "token_hash" not in page and link.token_hash not in page

    open_only = admin_client.get(reverse(LIST), {"open": "yes"}).content.decode()
    assert str(link.public_id) in open_only and str(expired.public_id) not in open_only
    expired_only = admin_client.get(reverse(LIST), {"open": "no"}).content.decode()
    assert str(expired.public_id) in expired_only and str(link.public_id) not in expired_only


def test_a_search_finds_a_link_by_its_id_or_its_try_on_id(admin_client, shared, make_try_on):
    try_on, link, _token = shared
    other, _ = sharing.create(make_try_on(result=grey_jpeg()))

    for term in (str(link.public_id), str(try_on.public_id)):
        page = admin_client.get(reverse(LIST), {"q": term}).content.decode()
        assert str(link.public_id) in page and str(other.public_id) not in page
    page = admin_client.get(reverse(LIST), {"q": "not an id"}).content.decode()
    assert str(link.public_id) not in page and str(other.public_id) not in page


def test_stop_sharing_revokes_the_selected_links(admin_client, client, shared):
    _try_on, link, token = shared
    shared_page = reverse("genlook:shared", kwargs={"token": token})
    assert client.get(shared_page).status_code == 200

    response = admin_client.post(
        reverse(LIST), {"action": "stop_sharing", "_selected_action": [link.pk]}, follow=True
    )

    assert "1 link revoked" in response.content.decode()
    assert not ShareLink.objects.exists()
    assert client.get(shared_page).status_code == 404


def test_staff_without_the_delete_permission_can_look_but_not_revoke(shared, staff):
    _try_on, link, _token = shared
    viewer = staff("view_sharelink")

    page = viewer.get(reverse(LIST)).content.decode()
    assert str(link.public_id) in page and "stop_sharing" not in page
    viewer.post(reverse(LIST), {"action": "stop_sharing", "_selected_action": [link.pk]})
    assert ShareLink.objects.filter(pk=link.pk).exists()
    assert viewer.get(reverse("admin:genlook_sharelink_add")).status_code == 403


def test_the_try_on_page_counts_the_links_that_still_open_it(admin_client, shared):
    try_on, _link, _token = shared
    page = admin_client.get(reverse("admin:genlook_tryon_change", args=[try_on.pk]))
    assert "1 open link" in page.content.decode()
    assert f"{reverse(LIST)}?q={try_on.public_id}" in page.content.decode()
