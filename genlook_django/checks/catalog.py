"""Product sync: image URLs Genlook can fetch, and products never skipped silently."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import Tags, Warning, register

from genlook_django.conf import genlook_settings
from genlook_django.services import catalog

from .addresses import is_official_api, media_on_file_system, not_public


@register(Tags.compatibility)
def check_product_sync(app_configs=None, **kwargs):
    messages = []
    media_url = str(getattr(settings, "MEDIA_URL", "") or "")
    relative_media = not urlsplit(media_url).scheme and not media_url.startswith("//")
    if catalog.registered_adapters() and relative_media and not genlook_settings.PUBLIC_BASE_URL:
        messages.append(
            Warning(
                "Product images have relative URLs, which Genlook cannot fetch.",
                hint=f"MEDIA_URL is {media_url!r}: set GENLOOK['PUBLIC_BASE_URL'] to the "
                "address the shop is served at (e.g. 'https://shop.example.com'), or serve "
                "media from a storage with absolute URLs (S3, a CDN).",
                id="genlook.W003",
            )
        )
    if is_official_api(str(genlook_settings.BASE_URL or "")):
        warning = _unfetchable_product_images(media_url, relative_already_reported=bool(messages))
        if warning:
            messages.append(warning)
    return messages


def _unfetchable_product_images(media_url: str, *, relative_already_reported: bool):
    """genlook.W005: the real API, and product image URLs its servers cannot fetch."""
    hint = (
        "Set GENLOOK['PUBLIC_BASE_URL'] to the shop's public https address (e.g. "
        "'https://shop.example.com'), or serve media from public storage (S3, a CDN) with an "
        "absolute https MEDIA_URL. To develop on this machine, point BASE_URL at the sandbox "
        "with GENLOOK_SANDBOX['BESIDE_SHOP'] = True (docs/sandbox.md)."
    )
    public_base = str(genlook_settings.PUBLIC_BASE_URL or "")
    if public_base:
        source, url = "PUBLIC_BASE_URL", public_base
    elif media_url.startswith("//"):
        source, url = "MEDIA_URL", "https:" + media_url  # how catalog's absolute_url reads it
    elif urlsplit(media_url).scheme:
        source, url = "MEDIA_URL", media_url
    else:
        if relative_already_reported or not media_on_file_system():
            return None  # genlook.W003 said it; or the storage has absolute URLs of its own
        return Warning(
            "Genlook cannot fetch the product images: neither PUBLIC_BASE_URL nor MEDIA_URL "
            f"({media_url!r}) gives them an absolute URL. Every try-on would fail with "
            "PRODUCT_IMAGE_FETCH_FAILED.",
            hint=hint,
            id="genlook.W005",
        )
    reason = not_public(url)
    if reason is None:
        return None
    return Warning(
        f"Genlook cannot fetch the product images: BASE_URL is the real API, and they are "
        f"served from {source} {url!r}, which is not publicly reachable ({reason}). Every "
        "try-on would fail with PRODUCT_IMAGE_FETCH_FAILED.",
        hint=hint,
        id="genlook.W005",
    )


# -- Catalog diagnostics (genlook.W040-W049): products must never be skipped silently ------

CATALOG_SAMPLE_SIZE = 20


def _overrides(adapter, *names: str) -> bool:
    return any(getattr(type(adapter), n) is not getattr(catalog.ProductAdapter, n) for n in names)


@register(Tags.compatibility)
def check_catalog_adapters(app_configs=None, **kwargs):
    """What a registered adapter cannot find on its model, without reading a row."""
    messages = []
    for adapter in catalog.registered_adapters():
        name = type(adapter).__name__
        decides = _overrides(adapter, "should_sync", "get_skip")
        if not adapter._image_fields and not decides and not _overrides(adapter, "get_images"):
            messages.append(
                Warning(
                    f"{adapter.model._meta.label} has no image source: {name} finds no "
                    "ImageField on it, so every product is skipped (no image).",
                    hint=f"Set {name}.image_fields to the attribute(s) holding the images: "
                    "an ImageField, a related manager of a gallery model (e.g. ['images']), "
                    "a method; or override get_images().",
                    obj=type(adapter),
                    id="genlook.W040",
                )
            )
        if adapter._active_field is None and not adapter.all_active and not decides:
            messages.append(
                Warning(
                    f"{adapter.model._meta.label} has no active flag {name} knows "
                    "(is_active, active, is_public): inactive products would be pushed too.",
                    hint=f"Set {name}.active_field to the boolean (a field, a method, or a "
                    "callable taking the product) that says a product is on sale, or "
                    "active_field = False to say every product is active.",
                    obj=type(adapter),
                    id="genlook.W041",
                )
            )
    return messages


@register(Tags.database)
def check_catalog_sample(app_configs=None, databases=None, **kwargs):
    """The first products of each registered model: does the adapter find any image?

    Reads at most ``CATALOG_SAMPLE_SIZE`` rows per model, and only when the check is given
    databases (``check --database default``, ``migrate``); a table not created yet is
    passed over.
    """
    if not databases:
        return []
    from django.db import DatabaseError, router, transaction

    messages = []
    for adapter in catalog.registered_adapters():
        if not adapter._image_fields and not _overrides(adapter, "get_images"):
            continue  # said without a query (genlook.W040 above)
        alias = router.db_for_read(adapter.model)
        if alias not in databases:
            continue
        try:
            with transaction.atomic(using=alias):  # a failed query leaves no broken transaction
                queryset = adapter.get_queryset().using(alias).order_by("pk")
                sample = list(queryset[:CATALOG_SAMPLE_SIZE])
        except DatabaseError:
            continue  # e.g. before migrate
        errors = []
        found = False
        for product in sample:
            try:
                found = any(True for _ in adapter.get_images(product))
            except Exception as exc:  # reported, not raised: a check must not crash
                errors.append(f"{type(exc).__name__}: {exc}")
            if found:
                break
        if sample and not found:
            name = type(adapter).__name__
            sources = ", ".join(adapter.describe_spec(s) for s in adapter._image_fields)
            error = f" ({errors[0]})" if errors else ""
            messages.append(
                Warning(
                    f"None of the first {len(sample)} {adapter.model._meta.label} products "
                    f"has an image {name} can find (image_fields: {sources or 'get_images()'})"
                    f"{error}: products without an image are never pushed.",
                    hint=f"Set {name}.image_fields to the attribute(s) holding the images "
                    "(e.g. a related manager of a gallery model, ['images']), or override "
                    "get_images(). `manage.py genlook_sync --dry-run -v 2` lists every "
                    "skipped product and why.",
                    obj=type(adapter),
                    id="genlook.W040",
                )
            )
    return messages
