"""The product admin a merchant works in."""

import pytest
from django.db.models.signals import post_save
from django.urls import reverse

from example_shop.shop.models import Product

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client, admin_user):
    client.force_login(admin_user)
    return client


def test_changelist_shows_thumbnails(staff_client, product_with_image, make_product):
    make_product("No Picture")

    response = staff_client.get(reverse("admin:shop_product_changelist"))

    assert response.status_code == 200
    html = response.content.decode()
    assert f'class="shop-thumb" src="{product_with_image.image.url}"' in html
    assert "shop-thumb--empty" in html
    assert "shop/admin.css" in html


def test_change_form_has_slug_prepopulation_and_preview(staff_client, product_with_image):
    response = staff_client.get(reverse("admin:shop_product_change", args=[product_with_image.pk]))

    assert response.status_code == 200
    html = response.content.decode()
    assert "prepopulated_fields" in html or "data-prepopulated-field" in html
    assert 'class="shop-preview"' in html


def test_search_and_filter(staff_client, make_product):
    make_product("Wool Coat", category="outerwear")
    make_product("Silk Dress", category="dresses")
    url = reverse("admin:shop_product_changelist")

    assert staff_client.get(url, {"q": "wool"}).context["cl"].result_count == 1
    assert staff_client.get(url, {"category__exact": "dresses"}).context["cl"].result_count == 1


def test_hide_and_publish_actions_save_each_product(staff_client, make_product):
    coat = make_product("Wool Coat")
    url = reverse("admin:shop_product_changelist")
    saved = []

    def on_save(sender, instance, **kwargs):
        saved.append(instance.pk)

    post_save.connect(on_save, sender=Product)
    try:
        staff_client.post(url, {"action": "unpublish", "_selected_action": [coat.pk]})
    finally:
        post_save.disconnect(on_save, sender=Product)
    coat.refresh_from_db()
    assert not coat.is_active
    assert Product.objects.active().count() == 0
    assert saved == [coat.pk]  # post_save receivers (e.g. a catalogue sync) heard about it

    response = staff_client.post(
        url, {"action": "publish", "_selected_action": [coat.pk]}, follow=True
    )
    coat.refresh_from_db()
    assert coat.is_active
    assert "1 product published." in response.content.decode()
