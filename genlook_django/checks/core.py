"""The GENLOOK dict itself: the key, unknown settings, where BASE_URL points."""

from __future__ import annotations

from django.apps import apps
from django.conf import settings
from django.core.checks import Error, Tags, Warning, register

from genlook_django.conf import CLASSIC_BASE_URL, DEFAULTS, OFFICIAL_BASE_URL, genlook_settings

from .addresses import points_at_sandbox


def _official_urls() -> tuple[str, ...]:
    # With the classic API, its own address is official too (docs/classic-api.md).
    if genlook_settings.classic:
        return (OFFICIAL_BASE_URL, CLASSIC_BASE_URL)
    return (OFFICIAL_BASE_URL,)


@register(Tags.compatibility)
def check_genlook_settings(app_configs=None, **kwargs):
    messages = []
    raw = getattr(settings, "GENLOOK", None)
    if raw is not None and not isinstance(raw, dict):
        return [Error("settings.GENLOOK must be a dict.", id="genlook.E000")]
    if not genlook_settings.API_KEY:
        messages.append(
            Error(
                "Genlook API key is missing.",
                hint='Set GENLOOK = {"API_KEY": "gk_..."}: a key from the Genlook dashboard, '
                "or, for development, a key listed in GENLOOK_SANDBOX['API_KEYS'] with "
                "BASE_URL pointing at the sandbox.",
                id="genlook.E001",
            )
        )
    for key in genlook_settings.unknown_keys():
        messages.append(
            Error(
                f"Unknown Genlook setting {key!r}.",
                hint="Known settings: " + ", ".join(sorted(DEFAULTS)),
                id="genlook.E002",
            )
        )
    base_url = str(genlook_settings.BASE_URL or "")
    if not base_url.startswith(("http://", "https://")):
        messages.append(
            Error(
                f"GENLOOK BASE_URL {base_url!r} is not an http(s) URL.",
                hint=f"The real API is {OFFICIAL_BASE_URL}.",
                id="genlook.E003",
            )
        )
    elif not settings.DEBUG and points_at_sandbox(base_url):
        messages.append(
            Warning(
                "Genlook BASE_URL points at the sandbox while DEBUG is False.",
                hint=f"Shoppers would get fake try-ons: set BASE_URL to {OFFICIAL_BASE_URL} "
                "in production.",
                id="genlook.W001",
            )
        )
    elif not settings.DEBUG and base_url.rstrip("/") not in _official_urls():
        messages.append(
            Warning(
                f"Genlook BASE_URL is {base_url!r}, not the official API, while DEBUG is False.",
                hint=f"Unless this is a proxy of your own, use {OFFICIAL_BASE_URL}.",
                id="genlook.W004",
            )
        )
    if not settings.DEBUG and apps.is_installed("genlook_django.sandbox"):
        messages.append(
            Warning(
                "genlook_django.sandbox is installed while DEBUG is False.",
                hint="Wherever its URLs are mounted, anyone who can reach them and knows a "
                "key of GENLOOK_SANDBOX['API_KEYS'] (e.g. one committed with the settings) "
                "can upload photos and create fake try-ons, making this server hold them in "
                "its memory and fetch URLs and send webhooks (to this server's own network "
                "too when GENLOOK_SANDBOX['BESIDE_SHOP'] is on, as in the demo); every photo "
                "and result it holds, shoppers' included when GENLOOK['BASE_URL'] points "
                "at it, is served to whoever has its file URL; whoever has its control token "
                "can reset it, set any account's credits, inject faults and list an "
                "account's generations with their shopper ids and result URLs. A shop "
                "talking to it gets simulated try-ons and credits, not Genlook's. Remove it "
                "from INSTALLED_APPS and its URLs in production.",
                id="genlook.W002",
            )
        )
    return messages
