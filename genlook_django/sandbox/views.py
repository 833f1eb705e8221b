"""The v1 endpoints. Thin: parse, call the stores/engine, shape the JSON answer."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.crypto import constant_time_compare

from genlook_django.sandbox.catalog import serialise_product
from genlook_django.sandbox.errors import ApiError, bad_request, product_not_found
from genlook_django.sandbox.files import file_url
from genlook_django.sandbox.generations import serialise_generation
from genlook_django.sandbox.images import encode_jpeg, normalise_person
from genlook_django.sandbox.parsing import (
    check_file_parts,
    parse_listing,
    parse_product_upsert,
    parse_try_on,
    parse_upload,
    read_body,
)
from genlook_django.sandbox.parts import decode, prepare_images, read_part
from genlook_django.sandbox.pipeline import Call, endpoint, method_not_allowed, quiet, state_for
from genlook_django.sandbox.records import Generation, Product


def upload_image(call: Call) -> HttpResponse:
    request, state = call.request, call.state
    part = request.FILES.get("file") if request.content_type == "multipart/form-data" else None
    if part is None:
        raise bad_request("FILE_REQUIRED", "Send the photo as a multipart file part named 'file'.")
    options = parse_upload(request.POST)
    config = state.config
    image = decode(read_part(part, config.max_upload_bytes))
    upload, stored = state.uploads.add(
        api_key=call.api_key,
        content=encode_jpeg(normalise_person(image, crop=options.crop)),
        customer_id=options.external_user_id,
        keep_for_days=options.keep_for_days or config.default_keep_for_days,
    )
    return JsonResponse({"imageId": upload.image_id, "imageUrl": file_url(call.api_root, stored)})


def _submit(call: Call) -> tuple[Generation, Product]:
    body, files = read_body(call.request)
    data = parse_try_on(body)
    check_file_parts(data, files)
    generation, product = call.state.engine.submit(
        api_key=call.api_key, api_root=call.api_root, data=data, files=files
    )
    call.generation_id = generation.generation_id
    return generation, product


def try_on(call: Call) -> HttpResponse:
    generation, product = _submit(call)
    # The answer describes the generation as accepted, even if a mock already finished it.
    return JsonResponse(
        {
            "generationId": generation.generation_id,
            "status": "PENDING",
            "productExternalId": product.external_id,
        }
    )


def try_on_sync(call: Call) -> HttpResponse:
    generation, product = _submit(call)
    if generation.done.wait(call.state.config.sync_wait_seconds):
        return JsonResponse(
            {**serialise_generation(generation), "productExternalId": product.external_id}
        )
    return JsonResponse(
        {
            "generationId": generation.generation_id,
            "status": generation.status,
            "productExternalId": product.external_id,
        },
        status=202,
    )


def get_generation(call: Call, generation_id: str) -> HttpResponse:
    generation = call.state.engine.get(call.api_key, generation_id)
    call.generation_id = generation.generation_id
    return JsonResponse(serialise_generation(generation))


def list_products(call: Call) -> HttpResponse:
    limit, cursor = parse_listing(call.request.GET)
    items, next_cursor = call.state.catalog.page(call.api_key, limit, cursor)
    return JsonResponse(
        {
            "items": [serialise_product(product) for product in items],
            "nextCursor": next_cursor,
            "hasMore": next_cursor is not None,
            "count": len(items),
        }
    )


def upsert_product(call: Call) -> HttpResponse:
    body, files = read_body(call.request)
    data = parse_product_upsert(body)
    check_file_parts(data, files)
    state = call.state
    images = prepare_images(data.images, files, state.config.max_upload_bytes)
    with state.lock:
        product = state.catalog.upsert(call.api_key, data, images, call.api_root)
        return JsonResponse(serialise_product(product))


def get_product(call: Call, external_id: str) -> HttpResponse:
    with call.state.lock:
        product = call.state.catalog.live(call.api_key, external_id)
        if product is None:
            raise product_not_found(external_id)
        return JsonResponse(serialise_product(product))


def delete_product(call: Call, external_id: str) -> HttpResponse:
    call.state.catalog.delete(call.api_key, external_id)
    return HttpResponse(status=204)


def account_credits(call: Call) -> HttpResponse:
    return JsonResponse({"creditBalance": call.state.get_credits(call.api_key)})


def delete_customer(call: Call, customer_id: str) -> HttpResponse:
    call.state.erase_customer(call.api_key, customer_id)
    return HttpResponse(status=204)


images_upload_view = endpoint("/images/upload", post=upload_image)
try_on_view = endpoint("/try-on", post=try_on)
try_on_sync_view = endpoint("/try-on/sync", post=try_on_sync)
generation_view = endpoint("/generations/{generationId}", get=get_generation)
products_view = endpoint("/products", get=list_products, post=upsert_product)
product_view = endpoint("/products/{externalId}", get=get_product, delete=delete_product)
credits_view = endpoint("/account/credits", get=account_credits)
customer_view = endpoint("/customers/{customerId}", delete=delete_customer)


# -- outside the API proper: the root, signed files, unknown paths ----------------------------

FILE_MAX_AGE = 3600  # seconds a client may cache a file (never past its expiry)


def index(request: HttpRequest) -> HttpResponse:
    if request.method not in ("GET", "HEAD"):
        return quiet(method_not_allowed(["GET"]).to_response())
    # "extensions": request fields beyond the v1 contract that this endpoint accepts, so a
    # client sends them here and never to Genlook's own v1 API.
    return JsonResponse(
        {"service": "Genlook Try-On API v1 sandbox", "status": "ok", "extensions": ["webhook_url"]}
    )


def serve_file(request: HttpRequest, name: str) -> HttpResponse:
    """A signed file URL: the unguessable name is the only credential (an API key neither
    grants nor is needed for access, and nothing lists the files); expired or erased files
    are gone (404), and so is any name but the exact one that was handed out."""
    if request.method not in ("GET", "HEAD"):
        return quiet(method_not_allowed(["GET", "HEAD"]).to_response())
    state = state_for(request)
    stored = state.files.get(name.split(".", 1)[0])
    if stored is None or not constant_time_compare(name, stored.name):
        return quiet(ApiError(404, "NOT_FOUND", "No such file, or it has expired.").to_response())
    response = HttpResponse(stored.content, content_type=stored.content_type)
    # Caches keep it no longer than the file lives.
    max_age = FILE_MAX_AGE
    if stored.expires_at is not None:
        max_age = max(0, min(max_age, int(stored.expires_at - state.now())))
    response["Cache-Control"] = f"private, max-age={max_age}"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return quiet(
        ApiError(404, "NOT_FOUND", f"No API route {request.method} {request.path}.").to_response()
    )


def server_error(request: HttpRequest) -> HttpResponse:
    return quiet(ApiError(500, "INTERNAL_ERROR", "Internal sandbox error.").to_response())
