"""Every v1 endpoint through GenlookClient, against the sandbox over real HTTP."""

import io

import pytest
from PIL import Image

from genlook_django.client import (
    KEEP,
    GenerationStatus,
    ImageFile,
    InlineProduct,
    NotFoundError,
    OneShotProduct,
    PersonImage,
    ProductNotFoundError,
    ProductReference,
)


@pytest.fixture(autouse=True)
def fast_generations(genlook_sandbox):
    genlook_sandbox.state.configure(generation_seconds=0.3, sync_wait_seconds=5)


def test_upload_image_returns_a_reusable_id(client, person_bytes):
    uploaded = client.upload_image(person_bytes, external_user_id="shopper-1", keep_for_days=3)

    assert uploaded.image_id
    assert uploaded.image_url.startswith("http://127.0.0.1")
    assert uploaded.raw["imageId"] == uploaded.image_id


def test_upload_accepts_a_binary_file(client, tmp_path, person_bytes):
    path = tmp_path / "me.png"
    path.write_bytes(person_bytes)
    with path.open("rb") as handle:
        uploaded = client.upload_image(handle, crop=False)
    assert uploaded.image_id


def test_reference_to_unknown_product_raises_product_not_found(client, person_bytes):
    photo = client.upload_image(person_bytes)
    with pytest.raises(ProductNotFoundError) as caught:
        client.create_try_on(product="never-seen", person=photo)
    assert caught.value.code == "PRODUCT_NOT_FOUND"
    assert caught.value.status == 404


def test_inline_product_with_url_image_completes(client, person_bytes, garment_url):
    photo = client.upload_image(person_bytes, external_user_id="shopper-1")
    product = InlineProduct("shirt-42", title="Red tee", description="Cotton", images=[garment_url])

    generation = client.create_try_on(product=product, person=photo, external_user_id="shopper-1")

    assert generation.status in (GenerationStatus.PENDING, GenerationStatus.PROCESSING)
    assert generation.product_external_id == "shirt-42"
    finished = client.wait_for_generation(generation.id, interval=0.1, timeout=10)
    assert finished.is_completed
    assert finished.result_image_url
    assert finished.created_at is not None and finished.updated_at is not None
    result = Image.open(io.BytesIO(client.download(finished.result_image_url)))
    assert result.size[0] > 100


def test_reference_works_once_the_product_exists(client, person_bytes, garment_bytes):
    photo = client.upload_image(person_bytes)
    inline = InlineProduct("shirt-7", title="Tee", images=[ImageFile(garment_bytes)])
    client.create_try_on(product=inline, person=photo)

    generation = client.create_try_on(product=ProductReference("shirt-7"), person=photo.image_id)
    assert generation.product_external_id == "shirt-7"


def test_one_shot_product_gets_a_generated_id(client, person_bytes, garment_bytes):
    generation = client.create_try_on(
        product=OneShotProduct(title="Scarf", images=[ImageFile(garment_bytes)]),
        person=person_bytes,  # bytes travel as a multipart part
    )
    assert generation.product_external_id.startswith("_anon_")
    assert client.get_product(generation.product_external_id).external_id == (
        generation.product_external_id
    )
    listed = [product.external_id for product in client.list_products()]
    assert generation.product_external_id not in listed


def test_person_by_url(client, person_bytes, garment_bytes):
    photo = client.upload_image(person_bytes)
    generation = client.create_try_on(
        product=InlineProduct("p-url", title="Tee", images=[ImageFile(garment_bytes)]),
        person=PersonImage(url=photo.image_url),
    )
    assert client.wait_for_generation(generation.id, interval=0.1, timeout=10).is_completed


def test_sync_try_on_returns_the_finished_generation(client, person_bytes, garment_bytes):
    photo = client.upload_image(person_bytes)
    generation = client.create_try_on_sync(
        product=InlineProduct("sync-1", title="Tee", images=[ImageFile(garment_bytes)]),
        person=photo,
        watermark=False,
        keep_for_days=1,
    )
    assert generation.is_completed
    assert generation.result_image_url


def test_sync_try_on_answers_pending_when_genlook_needs_longer(
    client, genlook_sandbox, person_bytes, garment_bytes
):
    genlook_sandbox.state.configure(generation_seconds=3, sync_wait_seconds=0.2)
    photo = client.upload_image(person_bytes)
    generation = client.create_try_on_sync(
        product=InlineProduct("sync-2", title="Tee", images=[ImageFile(garment_bytes)]),
        person=photo,
    )
    assert not generation.is_finished
    assert client.get_generation(generation.id).id == generation.id


def test_failed_generation_reports_its_error_code(
    client, genlook_sandbox, person_bytes, garment_bytes
):
    genlook_sandbox.state.set_faults(
        fail_generations=1.0, fail_error_code="PRODUCT_IMAGE_FETCH_FAILED"
    )
    generation = client.create_try_on(
        product=InlineProduct("fails", title="Tee", images=[ImageFile(garment_bytes)]),
        person=person_bytes,
    )
    finished = client.wait_for_generation(generation.id, interval=0.1, timeout=10)
    assert finished.is_failed
    assert finished.error_code == "PRODUCT_IMAGE_FETCH_FAILED"
    assert finished.error_message


def test_credits_go_down_by_exactly_one_per_completed_try_on(client, person_bytes, garment_bytes):
    before = client.get_credits()
    generation = client.create_try_on(
        product=InlineProduct("credit-1", title="Tee", images=[ImageFile(garment_bytes)]),
        person=person_bytes,
    )
    client.wait_for_generation(generation.id, interval=0.1, timeout=10)
    assert client.get_credits() == before - 1


def test_product_catalog_endpoints(client, garment_url):
    created = client.upsert_product(
        "cat-1",
        title="Jacket",
        description="Wool",
        images=[garment_url],
        metadata={"cat": "outerwear"},
    )
    assert created.external_id == "cat-1"
    assert created.metadata == {"cat": "outerwear"}
    assert created.valid_for_days is None

    updated = client.upsert_product("cat-1", description="Wool blend", valid_for_days=30)
    assert updated.title == "Jacket"  # kept: not sent
    assert updated.description == "Wool blend"
    assert updated.valid_for_days == 30
    assert updated.expires_at is not None

    kept = client.upsert_product("cat-1", valid_for_days=KEEP)
    assert kept.valid_for_days == 30
    forever = client.upsert_product("cat-1", valid_for_days=None)
    assert forever.valid_for_days is None

    assert client.get_product("cat-1").title == "Jacket"
    client.delete_product("cat-1")
    with pytest.raises(ProductNotFoundError):
        client.get_product("cat-1")


def test_list_products_follows_cursor_pages(client, garment_url):
    for index in range(5):
        client.upsert_product(f"list-{index}", title=f"Item {index}", images=[garment_url])

    first = client.list_products_page(limit=2)
    assert len(first.items) == 2 and first.has_more and first.next_cursor

    ids = [product.external_id for product in client.list_products(limit=2)]
    assert sorted(ids) == [f"list-{index}" for index in range(5)]


def test_external_ids_are_escaped_in_paths(client, garment_url):
    client.upsert_product("a/b c?d", title="Odd id", images=[garment_url])
    assert client.get_product("a/b c?d").external_id == "a/b c?d"


def test_delete_customer_erases_their_photos(client, person_bytes):
    photo = client.upload_image(person_bytes, external_user_id="gdpr-1")
    client.delete_customer("gdpr-1")
    client.delete_customer("gdpr-1")  # idempotent

    with pytest.raises(NotFoundError):
        client.download(photo.image_url)


def test_inline_product_without_images_refreshes_an_existing_one(client, person_bytes, garment_url):
    client.upsert_product("refresh-1", title="Tee", images=[garment_url])
    generation = client.create_try_on(
        product=InlineProduct("refresh-1", title="Tee v2"), person=person_bytes
    )
    assert generation.product_external_id == "refresh-1"
    assert client.get_product("refresh-1").title == "Tee v2"
