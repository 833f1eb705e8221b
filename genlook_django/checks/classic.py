"""The API dialect (``GENLOOK["API"]``) and what the classic API needs and lacks."""

from __future__ import annotations

from django.core.checks import Error, Tags, Warning, register
from django.urls import NoReverseMatch, reverse

from genlook_django.conf import OFFICIAL_BASE_URL, genlook_settings
from genlook_django.services import catalog

DIALECTS = ("v1", "classic")
CLASSIC_CATEGORIES = ("tops", "bottoms", "dresses", "outerwear", "eyewear", "caps")


@register(Tags.compatibility)
def check_api_dialect(app_configs=None, **kwargs):
    """docs/classic-api.md: ids genlook.E060-E069 and W060-W069."""
    api = genlook_settings.API
    if api not in DIALECTS:
        return [
            Error(
                f"GENLOOK API is {api!r}.",
                hint='Use "v1" (the default) or "classic" (docs/classic-api.md).',
                id="genlook.E060",
            )
        ]
    if api != "classic":
        return []
    messages = [
        Warning(
            "GENLOOK API is 'classic': the products catalog, the GDPR erasure at Genlook "
            "and the credits balance are unavailable.",
            hint="Products are not synced (each try-on sends the product's image URL and "
            "category); a shopper's erasure deletes their photos and results here only; "
            "the admin's credits page shows no balance. See docs/classic-api.md. Silence "
            "with SILENCED_SYSTEM_CHECKS = ['genlook.W060'] once understood.",
            id="genlook.W060",
        )
    ]
    if not genlook_settings.PUBLIC_BASE_URL:
        messages.append(
            Error(
                "GENLOOK API is 'classic' but PUBLIC_BASE_URL is not set.",
                hint="The classic API fetches the shopper's photo from the shop (a signed, "
                "expiring genlook:photo-link URL) and the product images too: set "
                "GENLOOK['PUBLIC_BASE_URL'] to the address the shop is served at.",
                id="genlook.E061",
            )
        )
    try:
        reverse("genlook:photo-link", kwargs={"token": "x"})
    except NoReverseMatch:
        messages.append(
            Error(
                "GENLOOK API is 'classic' but genlook_django.urls is not included.",
                hint='Add path("genlook/", include("genlook_django.urls")): the classic API '
                "fetches shoppers' photos at its photos/<token>/ URL.",
                id="genlook.E062",
            )
        )
    size = genlook_settings.CLASSIC_BATCH_SIZE
    if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= 100:
        messages.append(
            Error(
                f"GENLOOK CLASSIC_BATCH_SIZE is {size!r}.",
                hint="A whole number from 1 to 100 (POST /v1/try-on/batch takes at most 100).",
                id="genlook.E063",
            )
        )
    max_age = genlook_settings.PHOTO_LINK_MAX_AGE
    if isinstance(max_age, bool) or not isinstance(max_age, int | float) or max_age < 60:
        messages.append(
            Error(
                f"GENLOOK PHOTO_LINK_MAX_AGE is {max_age!r}.",
                hint="Seconds a photo link stays valid: at least 60, so that Genlook can "
                "fetch the photo (an hour by default).",
                id="genlook.E064",
            )
        )
    if not genlook_settings.webhooks_on:
        messages.append(
            Warning(
                "GENLOOK API is 'classic' with WEBHOOKS off: results come by polling only.",
                hint="The classic API announces results by webhook (webhook_url); leave "
                "WEBHOOKS at None (on with the classic API) unless the shop cannot be "
                "reached.",
                id="genlook.W061",
            )
        )
    base = str(genlook_settings.BASE_URL or "").rstrip("/")
    if base != OFFICIAL_BASE_URL and base.endswith("/tryon/v1"):
        messages.append(
            Warning(
                f"GENLOOK API is 'classic' but BASE_URL {base!r} looks like a v1 address.",
                hint="The classic API's base has no /tryon/v1: https://api.genlook.app, "
                "https://api-sandbox.genlook.app, or the sandbox's root.",
                id="genlook.W062",
            )
        )
    messages += _adapters_without_category()
    return messages


def _adapters_without_category() -> list[Warning]:
    return [
        Warning(
            f"{adapter.label}'s adapter names no garment category.",
            hint="The classic API requires one of "
            f"{', '.join(CLASSIC_CATEGORIES)}: set the adapter's category, "
            "category_field or category_map, or override get_category() "
            "(its try-ons fail CATEGORY_UNKNOWN).",
            id="genlook.W063",
        )
        for adapter in catalog.registered_adapters()
        if not _names_a_category(adapter)
    ]


def _names_a_category(adapter: catalog.ProductAdapter) -> bool:
    """A fixed category, a category field, or its own ``get_category()`` (Oscar's adapter
    walks the category tree): whatever it returns is the adapter's business."""
    return (
        adapter.category is not None
        or getattr(adapter, "_category_field", None) is not None
        or type(adapter).get_category is not catalog.ProductAdapter.get_category
    )
