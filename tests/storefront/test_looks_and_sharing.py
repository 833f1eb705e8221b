"""What a shopper notices after a try-on: the look shown again (no new try-on), share
links to it, consent once per session, and the browser's photo checks matching the
server's. Against the sandbox over real HTTP."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import override

from genlook_django.checks import check_sharing
from genlook_django.models import ShareLink, TryOn
from genlook_django.services.tryons import photos, sharing, upload_rules
from tests.support import images
from tests.support.storefront import ME, follow, product_ref, start

pytestmark = pytest.mark.django_db(transaction=True)


def finished(client: Client, product, photo: bytes) -> dict:
    response = start(client, product, photo)
    assert response.status_code == 202, response.content
    done = follow(client, response.json())
    assert done["status"] == "completed"
    return done


def me(client: Client, product=None) -> dict:
    if product is None:
        query = {}
    else:
        query = {"product": product if isinstance(product, str) else product_ref(product)}
    response = client.get(ME, query)
    assert response.status_code == 200
    return response.json()


def shares_url(try_on: dict) -> str:
    return reverse("genlook:tryon-shares", kwargs={"public_id": try_on["id"]})


def path_of(url: str) -> str:
    return urlsplit(url).path


# -- the look, shown again ---------------------------------------------------------------------


def test_the_latest_look_for_the_product_comes_back_without_a_new_try_on(
    storefront, shopper, product, make_product, person_photo
):
    assert me(shopper, product)["look"] is None
    first = finished(shopper, product, person_photo)
    second = finished(shopper, product, person_photo)
    calls = storefront.state.count("POST", "/try-on")

    look = me(shopper, product)["look"]
    assert look["id"] == second["id"] != first["id"]
    assert look["result_url"] == second["result_url"]
    assert shopper.get(look["result_url"]).status_code == 200
    # Asking costs nothing: no try-on row, no call to Genlook.
    assert TryOn.objects.count() == 2
    assert storefront.state.count("POST", "/try-on") == calls

    other_product = make_product("Wool Scarf")
    assert me(shopper, other_product)["look"] is None
    assert me(Client(), product)["look"] is None  # another shopper sees nothing
    assert me(shopper)["look"] is None  # no product asked about
    assert me(shopper, "shop.product:not-a-number")["look"] is None


def test_no_look_past_retention_or_once_withdrawn(
    storefront, settings, shopper, product, person_photo
):
    done = finished(shopper, product, person_photo)
    row = TryOn.objects.get(public_id=done["id"])
    TryOn.objects.filter(pk=row.pk).update(created_at=timezone.now() - timedelta(days=8))
    assert me(shopper, product)["look"] is None  # RETENTION_DAYS 7: its result is going
    settings.GENLOOK = {**settings.GENLOOK, "RETENTION_DAYS": None}
    assert me(shopper, product)["look"]["id"] == done["id"]
    TryOn.objects.filter(pk=row.pk).update(result_file="")  # purged
    assert me(shopper, product)["look"] is None


# -- consent, once per session and version -------------------------------------------------------


def test_consent_is_asked_once_per_session_and_version(
    storefront, settings, shopper, product, make_product, person_photo
):
    other = make_product("Wool Scarf")
    assert me(shopper)["consent_given"] is False
    refused = start(shopper, other, person_photo, consent="false")
    assert refused.status_code == 400
    assert refused.json()["code"] == "CONSENT_REQUIRED"

    assert start(shopper, product, person_photo).status_code == 202  # consent=true
    assert me(shopper)["consent_given"] is True
    again = start(shopper, other, reuse_photo="true", consent="false")
    assert again.status_code == 202, again.content
    # Each try-on still records the version it was made under.
    assert set(TryOn.objects.values_list("consent_version", flat=True)) == {"1"}

    # Another session has not agreed.
    stranger = start(Client(), other, person_photo, consent="false")
    assert stranger.json()["code"] == "CONSENT_REQUIRED"
    # A new consent text asks again.
    settings.GENLOOK = {**settings.GENLOOK, "CONSENT_VERSION": "2026-12"}
    assert me(shopper)["consent_given"] is False
    assert start(shopper, other, reuse_photo="true", consent="false").status_code == 400
    assert start(shopper, other, reuse_photo="true").status_code == 202
    assert TryOn.objects.order_by("-created_at").first().consent_version == "2026-12"


def test_a_refused_try_on_does_not_remember_consent(storefront, shopper, product):
    response = start(shopper, product, b"not a photo")
    assert response.json()["code"] == "PHOTO_UNSUPPORTED_TYPE"
    assert me(shopper)["consent_given"] is False


# -- share links -------------------------------------------------------------------------------


def test_a_share_link_opens_the_look_for_anyone_until_revoked(
    storefront, settings, shopper, product, person_photo
):
    settings.GENLOOK = {**settings.GENLOOK, "SHOP_NAME": "Maison Test"}
    done = finished(shopper, product, person_photo)
    response = shopper.post(shares_url(done))
    assert response.status_code == 201, response.content
    link = response.json()
    assert link["url"].startswith("http://testserver/genlook/shared/")
    token = link["url"].rstrip("/").rsplit("/", 1)[1]
    assert len(token) >= 43  # 32 random bytes
    row = ShareLink.objects.get()
    assert row.token_hash == sharing.token_hash(token) and token not in row.token_hash
    expires = timezone.now() + timedelta(days=7)
    assert abs((row.expires_at - expires).total_seconds()) < 60

    anyone = Client()
    page = anyone.get(path_of(link["url"]))
    assert page.status_code == 200
    html = page.content.decode()
    assert "Maison Test" in html
    assert "Linen Shirt" in html
    assert f'href="{product.get_absolute_url()}"' in html
    assert "no-store" in page["Cache-Control"]
    assert page["Referrer-Policy"] == "no-referrer"
    assert "noindex" in page["X-Robots-Tag"]
    # The result only, through the link: never the shopper's photo.
    row_photo = TryOn.objects.get(public_id=done["id"]).photo
    assert str(row_photo.public_id) not in html and "/photos/" not in html
    image = anyone.get(path_of(link["url"]) + "image/")
    assert image.status_code == 200
    assert b"".join(image.streaming_content) == b"".join(
        shopper.get(done["result_url"]).streaming_content
    )

    # Only the owner revokes it.
    assert anyone.delete(link["revoke_url"]).status_code == 404
    assert shopper.delete(link["revoke_url"]).status_code == 204
    gone = anyone.get(path_of(link["url"]))
    assert gone.status_code == 404
    assert "no longer works" in gone.content.decode()
    assert anyone.get(path_of(link["url"]) + "image/").status_code == 404


def test_share_links_expire_follow_retention_and_go_with_the_try_on(
    storefront, settings, shopper, product, person_photo
):
    done = finished(shopper, product, person_photo)
    link = shopper.post(shares_url(done)).json()
    url = path_of(link["url"])
    ShareLink.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert Client().get(url).status_code == 404

    # Never past the result's retention.
    settings.GENLOOK = {**settings.GENLOOK, "SHARE_LINK_DAYS": 30, "RETENTION_DAYS": 2}
    longer = shopper.post(shares_url(done)).json()
    created = TryOn.objects.get(public_id=done["id"]).created_at
    assert ShareLink.objects.get(public_id=longer["id"]).expires_at == created + timedelta(days=2)
    # The result about to be purged: no new link.
    TryOn.objects.filter(public_id=done["id"]).update(created_at=created - timedelta(days=2))
    refused = shopper.post(shares_url(done))
    assert (refused.status_code, refused.json()["code"]) == (410, "SHARE_UNAVAILABLE")
    assert Client().get(path_of(longer["url"])).status_code == 404

    # Deleting the try-on revokes its links.
    TryOn.objects.filter(public_id=done["id"]).update(created_at=created)
    assert Client().get(path_of(longer["url"])).status_code == 200
    assert (
        shopper.delete(
            reverse("genlook:tryon-detail", kwargs={"public_id": done["id"]})
        ).status_code
        == 204
    )
    assert not ShareLink.objects.exists()
    assert Client().get(path_of(longer["url"])).status_code == 404


def test_share_links_are_the_owners_and_capped(
    storefront, settings, shopper, product, person_photo
):
    settings.GENLOOK = {**settings.GENLOOK, "SHARE_LINKS_PER_TRY_ON": 2}
    done = finished(shopper, product, person_photo)
    assert Client().post(shares_url(done)).status_code == 404  # not theirs
    first = shopper.post(shares_url(done)).json()
    assert shopper.post(shares_url(done)).status_code == 201
    capped = shopper.post(shares_url(done))
    assert (capped.status_code, capped.json()["code"]) == (429, "SHARE_LIMIT")
    assert shopper.delete(first["revoke_url"]).status_code == 204
    assert shopper.post(shares_url(done)).status_code == 201
    assert Client().get("/genlook/shared/not-a-real-token/").status_code == 404


def test_only_a_finished_look_is_shared(
    storefront, shopper, product, person_photo, submissions_held
):
    pending = start(shopper, product, person_photo).json()
    refused = shopper.post(shares_url(pending))
    assert (refused.status_code, refused.json()["code"]) == (409, "NOT_READY")


def test_the_shop_name_falls_back_to_the_host(storefront, settings):
    settings.GENLOOK = {**settings.GENLOOK, "SHOP_NAME": None}
    assert sharing.shop_name("shop.example") == "shop.example"


def test_sharing_settings_are_checked(settings):
    assert check_sharing() == []
    settings.GENLOOK = {
        **settings.GENLOOK,
        "SHARE_LINK_DAYS": 0,
        "SHARE_LINKS_PER_TRY_ON": "5",
        "SHOP_NAME": 3,
    }
    assert [m.id for m in check_sharing()] == ["genlook.E080", "genlook.E081", "genlook.E082"]
    settings.GENLOOK = {
        **settings.GENLOOK,
        "SHARE_LINK_DAYS": 30,
        "SHARE_LINKS_PER_TRY_ON": 5,
        "SHOP_NAME": "Shop",
        "RETENTION_DAYS": 7,
    }
    assert [m.id for m in check_sharing()] == ["genlook.W080"]


# -- the browser's checks say what the server says -------------------------------------------


@pytest.mark.parametrize("language", ["en", "fr", "ja"])
def test_the_browser_checks_carry_the_servers_messages(storefront, monkeypatch, language):
    monkeypatch.setattr(photos, "heif_supported", lambda: False)  # without pillow-heif
    limits = photos.PhotoLimits.from_settings()
    with override(language):
        checks = upload_rules.browser_checks(heif=False)
        cases = {
            "empty": b"",
            "type": b"%PDF-1.4 not a photo at all, whatever its name says",
            "heif": images.heic_header(),
        }
        for name, content in cases.items():
            with pytest.raises(photos.PhotoError) as refused:
                photos.inspect(content, limits)
            expected = checks["messages"][name]
            assert (refused.value.code, str(refused.value.message)) == (
                expected["code"],
                expected["message"],
            )
        too_large = photos.too_large_error(limits)
        assert checks["messages"]["size"] == {
            "code": too_large.code,
            "message": str(too_large.message),
        }
    assert checks["max_bytes"] == limits.max_bytes
    assert {brand.encode() for brand in checks["heif_brands"]} == upload_rules.HEIF_BRANDS


def test_the_server_still_refuses_what_the_browser_would(storefront, shopper, product):
    empty = shopper.post(
        reverse("genlook:tryon-list"),
        {
            "product": product_ref(product),
            "consent": "true",
            "photo": SimpleUploadedFile("me.jpg", b"", content_type="image/jpeg"),
        },
    )
    assert empty.json()["code"] == "PHOTO_INVALID"
    assert empty.json()["message"] == str(upload_rules.EMPTY_MESSAGE)


def test_the_privacy_notice_tells_how_long_a_shared_look_stays(storefront, client, settings):
    settings.GENLOOK = {**settings.GENLOOK, "SHARE_LINK_DAYS": 30, "RETENTION_DAYS": 5}
    html = client.get(reverse("genlook:privacy")).content.decode()
    assert "never published unless you share one" in html
    assert "never your photo, for 5 days at most" in html
    with override("fr"):
        page = client.get(reverse("genlook:privacy"), headers={"Accept-Language": "fr"})
    assert "pendant 5 jours au plus" in page.content.decode()


def test_the_shared_page_links_the_product_as_its_adapter_says(
    storefront, shopper, product, person_photo, adapter_for
):
    from example_shop.shop.models import Product
    from genlook_django import ProductAdapter

    done = finished(shopper, product, person_photo)
    url = path_of(shopper.post(shares_url(done)).json()["url"])

    class ByUrlField(ProductAdapter):
        url_field = "slug"  # any field spec: a field, a method, a callable

    adapter_for(Product, ByUrlField)
    html = Client().get(url).content.decode()
    assert f'href="{product.slug}"' in html and "See the product" in html

    # Hidden since: the look is still shown, without the product.
    Product.objects.filter(pk=product.pk).update(is_active=False)
    page = Client().get(url)
    assert page.status_code == 200
    assert "Linen Shirt" not in page.content.decode()
    assert "See the product" not in page.content.decode()
    assert "A virtual try-on" in page.content.decode()


def test_a_product_model_without_a_page_is_told(storefront, adapter_for):
    from django.contrib.auth.models import Group

    from genlook_django import ProductAdapter

    class Nowhere(ProductAdapter):
        image_fields = ()
        active_field = False

    adapter_for(Group, Nowhere)  # a model with no page of its own
    assert [m.id for m in check_sharing()] == ["genlook.W081"]

    class Somewhere(Nowhere):
        url_field = "name"

    adapter_for(Group, Somewhere)
    assert check_sharing() == []
