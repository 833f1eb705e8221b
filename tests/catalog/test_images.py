"""Where product images come from: related models, moved rows, signed storage URLs."""

from __future__ import annotations

import itertools

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.files.storage import FileSystemStorage
from django.core.files.uploadedfile import SimpleUploadedFile

from example_shop.shop.models import Product
from genlook_django.client import ProductReference
from genlook_django.models import SyncedProduct
from genlook_django.services import catalog
from genlook_django.services.catalog import stable_image_url
from genlook_django.services.tryons import products
from tests.catalog.gallery import Garment, GarmentNote, GarmentPhoto
from tests.support.images import image_bytes

Status = SyncedProduct.Status


def upload(name: str, colour: str = "tan") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, image_bytes(colour=colour), content_type="image/png")


def garment_id(garment: Garment) -> str:
    return f"gallery.garment:{garment.pk}"


@pytest.fixture
def garments(gallery, adapter_for):
    """Garment registered with its gallery as images, watching the photos."""
    return adapter_for(Garment, image_fields=["photos"], watch={GarmentPhoto: "garment"})


def test_a_related_manager_gives_its_objects_images(
    genlook, genlook_client, garments, public_base_url, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        garment = Garment.objects.create(name="Linen Shirt", description="Airy.")
        back = GarmentPhoto.objects.create(garment=garment, position=2, picture=upload("b.png"))
        front = GarmentPhoto.objects.create(garment=garment, position=1, picture=upload("f.png"))

    expected = [public_base_url + front.picture.url, public_base_url + back.picture.url]
    assert garments.get_image_urls(garment) == expected  # the gallery's own ordering
    remote = genlook_client.get_product(garment_id(garment))
    assert [image.source_url for image in remote.images] == expected
    assert genlook.state.count("POST", "/products") == 1


def test_a_related_object_without_a_file_field_is_refused(gallery, adapter_for):
    with pytest.raises(ImproperlyConfigured, match=r"gallery\.GarmentNote.*no ImageField"):
        adapter_for(Garment, image_fields=["notes"])


def test_a_method_giving_related_objects_without_files_fails_clearly(gallery, adapter_for):
    adapter = adapter_for(Garment, image_fields=["get_notes"])
    garment = Garment.objects.create(name="Noted")
    garment.get_notes = lambda: [GarmentNote(garment=garment, text="hi")]
    with pytest.raises(ImproperlyConfigured, match="override get_images"):
        adapter.get_payload(garment)


def test_moving_a_watched_row_resyncs_both_products(
    genlook, genlook_client, garments, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        first = Garment.objects.create(name="First")
        second = Garment.objects.create(name="Second")
        GarmentPhoto.objects.create(garment=first, picture=upload("1.png"))
        GarmentPhoto.objects.create(garment=second, picture=upload("2.png", "navy"))
    assert genlook.state.count("POST", "/products") == 2

    photo = GarmentPhoto.objects.get(garment=first)  # as a form or the admin loads it
    with django_capture_on_commit_callbacks(execute=True):
        photo.garment = second
        photo.save()

    # The first garment lost its only photo: it leaves Genlook; the second has both.
    assert genlook.state.count("DELETE", f"/products/{garment_id(first)}") == 1
    assert len(genlook_client.get_product(garment_id(second)).images) == 2
    rows = {row.object_id: row.status for row in SyncedProduct.objects.all()}
    assert rows == {str(first.pk): Status.DELETED, str(second.pk): Status.SYNCED}

    with django_capture_on_commit_callbacks(execute=True):
        photo.caption = "Saved again, not moved"
        photo.save()
    assert genlook.state.count("DELETE") == 1  # the first garment is not touched again


# -- Signed storage URLs ------------------------------------------------------------------


class SigningStorage(FileSystemStorage):
    """Like S3 with ``querystring_auth``: every ``url()`` is signed anew."""

    counter = itertools.count(1)

    def url(self, name):
        n = next(self.counter)
        return super().url(name) + (
            "?X-Amz-Algorithm=AWS4-HMAC-SHA256"
            f"&X-Amz-Credential=AKIAEXAMPLE%2F2025{n:04d}%2Fs3%2Faws4_request"
            f"&X-Amz-Date=20250101T{n:06d}Z&X-Amz-Expires=3600&X-Amz-SignedHeaders=host"
            f"&X-Amz-Signature={n:064x}"
        )


@pytest.fixture
def signed_images(settings, monkeypatch):
    storage = SigningStorage(location=settings.MEDIA_ROOT, base_url=settings.MEDIA_URL)
    monkeypatch.setattr(Product._meta.get_field("image"), "storage", storage)
    return storage


def test_signed_storage_urls_do_not_make_products_look_changed(
    genlook, shop_adapter, signed_images, synced, django_capture_on_commit_callbacks
):
    product = synced()
    first, second = shop_adapter.get_image_urls(product), shop_adapter.get_image_urls(product)
    assert first != second  # the storage does sign each read anew
    assert genlook.state.count("POST", "/products") == 1

    with django_capture_on_commit_callbacks(execute=True):
        product.save()
    assert genlook.state.count("POST", "/products") == 1  # unchanged: no call
    report = catalog.sync_catalog([Product])
    assert (report.counts["unchanged"], report.requests) == (1, 0)
    row = SyncedProduct.objects.get()
    assert catalog.refresh_from_genlook(row).status == Status.SYNCED
    assert products.product_for_try_on(product) == ProductReference(row.external_id)

    with django_capture_on_commit_callbacks(execute=True):
        product.image = upload("replaced.png", "navy")  # a real change is still seen
        product.save()
    assert genlook.state.count("POST", "/products") == 2


@pytest.mark.parametrize(
    ("url", "stable"),
    [
        ("https://cdn.example.com/a.jpg", "https://cdn.example.com/a.jpg"),
        ("https://cdn.example.com/a.jpg?v=3", "https://cdn.example.com/a.jpg?v=3"),
        (
            "https://b.s3.amazonaws.com/a.jpg?X-Amz-Signature=ab&X-Amz-Date=1&w=800",
            "https://b.s3.amazonaws.com/a.jpg?w=800",
        ),
        (
            "https://b.s3.amazonaws.com/a.jpg?AWSAccessKeyId=K&Signature=s&Expires=9",
            "https://b.s3.amazonaws.com/a.jpg",
        ),
        (
            "https://storage.googleapis.com/b/a.jpg?X-Goog-Signature=s&X-Goog-Expires=60",
            "https://storage.googleapis.com/b/a.jpg",
        ),
        (
            "https://d.cloudfront.net/a.jpg?Expires=1&Signature=s&Key-Pair-Id=K",
            "https://d.cloudfront.net/a.jpg",
        ),
        (
            "https://x.blob.core.windows.net/c/a.jpg?sv=1&se=2&sp=r&sig=s",
            "https://x.blob.core.windows.net/c/a.jpg",
        ),
        ("https://shop.example.com/a.jpg?sp=front", "https://shop.example.com/a.jpg?sp=front"),
    ],
)
def test_stable_image_url(url, stable):
    assert stable_image_url(url) == stable
