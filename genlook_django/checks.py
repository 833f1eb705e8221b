"""System checks: ``manage.py check`` says what is wrong with the Genlook set-up."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from django.apps import apps
from django.conf import settings
from django.core.checks import Error, Tags, Warning, register

from .conf import DEFAULTS, OFFICIAL_BASE_URL, genlook_settings

LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1", "0.0.0.0", "testserver"}  # noqa: S104
# Names only a local network resolves (no DNS lookup in a check: name patterns only).
LOCAL_NAME_SUFFIXES = (".localhost", ".local", ".localdomain", ".internal", ".lan", ".home.arpa")


def _points_at_sandbox(base_url: str) -> bool:
    parts = urlsplit(base_url)
    return parts.hostname in LOOPBACK_HOSTS or "/sandbox" in parts.path


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
    elif not settings.DEBUG and _points_at_sandbox(base_url):
        messages.append(
            Warning(
                "Genlook BASE_URL points at the sandbox while DEBUG is False.",
                hint=f"Shoppers would get fake try-ons: set BASE_URL to {OFFICIAL_BASE_URL} "
                "in production.",
                id="genlook.W001",
            )
        )
    elif not settings.DEBUG and base_url.rstrip("/") != OFFICIAL_BASE_URL:
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


@register(Tags.compatibility)
def check_product_sync(app_configs=None, **kwargs):
    from .registry import registered_adapters

    messages = []
    media_url = str(getattr(settings, "MEDIA_URL", "") or "")
    relative_media = not urlsplit(media_url).scheme and not media_url.startswith("//")
    if registered_adapters() and relative_media and not genlook_settings.PUBLIC_BASE_URL:
        messages.append(
            Warning(
                "Product images have relative URLs, which Genlook cannot fetch.",
                hint=f"MEDIA_URL is {media_url!r}: set GENLOOK['PUBLIC_BASE_URL'] to the "
                "address the shop is served at (e.g. 'https://shop.example.com'), or serve "
                "media from a storage with absolute URLs (S3, a CDN).",
                id="genlook.W003",
            )
        )
    if _is_official_api(str(genlook_settings.BASE_URL or "")):
        warning = _unfetchable_product_images(media_url, relative_already_reported=bool(messages))
        if warning:
            messages.append(warning)
    return messages


def _is_official_api(base_url: str) -> bool:
    """``base_url`` is Genlook's own API (normalised: case of scheme and host, port, slash)."""
    parts, official = urlsplit(base_url.strip()), urlsplit(OFFICIAL_BASE_URL)
    try:
        port = parts.port
    except ValueError:
        return False
    return (
        parts.scheme.lower() == official.scheme
        and (parts.hostname or "") == official.hostname
        and port in (None, 443)
        and parts.path.rstrip("/") == official.path.rstrip("/")
    )


def _not_public(url: str) -> str | None:
    """Why Genlook's servers could not fetch from ``url``, judged from the URL alone."""
    parts = urlsplit(url)
    host = (parts.hostname or "").rstrip(".").lower()
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = None
    if address is not None:
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
            address = address.ipv4_mapped
        for kind in ("loopback", "link_local", "unspecified", "multicast", "private", "reserved"):
            if getattr(address, f"is_{kind}"):
                return f"{host} is a {kind.replace('_', '-')} address"
        if not address.is_global:
            return f"{host} is not a public address"
    elif host in LOOPBACK_HOSTS or "." not in host or host.endswith(LOCAL_NAME_SUFFIXES):
        return f"{host or 'its host'} is a local name"
    if parts.scheme != "https":
        return "it is not https"
    return None


def _media_on_file_system() -> bool:
    """The default storage serves files at MEDIA_URL (S3 and the like have URLs of their own)."""
    storages = getattr(settings, "STORAGES", None) or {}
    backend = (storages.get("default") or {}).get("BACKEND", "")
    return not backend or backend.endswith("FileSystemStorage")


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
        source, url = "MEDIA_URL", "https:" + media_url  # how adapters.absolute_url reads it
    elif urlsplit(media_url).scheme:
        source, url = "MEDIA_URL", media_url
    else:
        if relative_already_reported or not _media_on_file_system():
            return None  # genlook.W003 said it; or the storage has absolute URLs of its own
        return Warning(
            "Genlook cannot fetch the product images: neither PUBLIC_BASE_URL nor MEDIA_URL "
            f"({media_url!r}) gives them an absolute URL. Every try-on would fail with "
            "PRODUCT_IMAGE_FETCH_FAILED.",
            hint=hint,
            id="genlook.W005",
        )
    reason = _not_public(url)
    if reason is None:
        return None
    return Warning(
        f"Genlook cannot fetch the product images: BASE_URL is the real API, and they are "
        f"served from {source} {url!r}, which is not publicly reachable ({reason}). Every "
        "try-on would fail with PRODUCT_IMAGE_FETCH_FAILED.",
        hint=hint,
        id="genlook.W005",
    )


@register(Tags.compatibility)
def check_storefront(app_configs=None, **kwargs):
    """The storefront's settings: storage aliases, quotas, Genlook's retention choices."""
    messages = []
    storages = getattr(settings, "STORAGES", None) or {"default": {}}
    for name in ("PHOTOS_STORAGE", "RESULTS_STORAGE"):
        alias = getattr(genlook_settings, name)
        if alias not in storages:
            messages.append(
                Error(
                    f"GENLOOK {name} is {alias!r}, which is not in settings.STORAGES.",
                    hint=f"Known storages: {', '.join(sorted(storages))}.",
                    id="genlook.E004",
                )
            )
    for name in (
        "UPLOAD_QUOTA",
        "TRY_ON_QUOTA",
        "IP_UPLOAD_QUOTA",
        "IP_TRY_ON_QUOTA",
        "UPLOAD_BUDGET",
    ):
        value = getattr(genlook_settings, name)
        valid = value is None or (
            isinstance(value, list | tuple)
            and len(value) == 2
            and (value[0] is None or (isinstance(value[0], int) and value[0] >= 0))
            and isinstance(value[1], int | float)
            and value[1] > 0
        )
        if not valid:
            messages.append(
                Error(
                    f"GENLOOK {name} must be (count, seconds) or None, not {value!r}.",
                    hint=f'e.g. GENLOOK["{name}"] = (10, 300): 10 per 5 minutes.',
                    id="genlook.E005",
                )
            )
    if genlook_settings.KEEP_FOR_DAYS not in (None, 1, 3, 7):
        messages.append(
            Error(
                f"GENLOOK KEEP_FOR_DAYS must be 1, 3, 7 or None, not "
                f"{genlook_settings.KEEP_FOR_DAYS!r}.",
                hint="Genlook keeps uploads and results 1, 3 or 7 days; None: the account's "
                "own retention.",
                id="genlook.E005",
            )
        )
    return messages


def _number_or_none(value, *, minimum: float) -> bool:
    return value is None or (
        isinstance(value, int | float) and not isinstance(value, bool) and value >= minimum
    )


@register(Tags.compatibility)
def check_admin(app_configs=None, **kwargs):
    """The admin's settings (credits, retention) and the banner's template (docs/admin.md)."""
    messages = []
    for name, minimum in (
        ("LOW_BALANCE_THRESHOLD", 0),
        ("RETENTION_DAYS", 0),
        ("STATS_RETENTION_DAYS", 0),
    ):
        value = getattr(genlook_settings, name)
        if not _number_or_none(value, minimum=minimum):
            messages.append(
                Error(
                    f"GENLOOK {name} must be a number of at least {minimum}, or None; "
                    f"not {value!r}.",
                    hint=f"e.g. GENLOOK[{name!r}] = {DEFAULTS[name]!r} (the default).",
                    id="genlook.E020",
                )
            )
    for name in ("CREDITS_CACHE_SECONDS", "CREDITS_SNAPSHOT_INTERVAL"):
        value = getattr(genlook_settings, name)
        if value is None or not _number_or_none(value, minimum=0):
            messages.append(
                Error(
                    f"GENLOOK {name} must be a number of seconds, not {value!r}.",
                    hint=f"e.g. GENLOOK[{name!r}] = {DEFAULTS[name]!r} (the default).",
                    id="genlook.E020",
                )
            )
    retention = genlook_settings.RETENTION_DAYS
    reuse = genlook_settings.PHOTO_REUSE_DAYS
    if (
        _number_or_none(retention, minimum=0)
        and retention is not None
        and isinstance(reuse, int | float)
        and reuse > retention
    ):
        messages.append(
            Warning(
                f"GENLOOK PHOTO_REUSE_DAYS ({reuse}) is longer than RETENTION_DAYS "
                f"({retention}): photos are purged before they stop being offered again.",
                hint="Make PHOTO_REUSE_DAYS at most RETENTION_DAYS.",
                id="genlook.W020",
            )
        )
    if apps.is_installed("django.contrib.admin"):
        from django.template import TemplateDoesNotExist
        from django.template.loader import get_template

        try:
            source = get_template("admin/base_site.html").template.source
        except (TemplateDoesNotExist, AttributeError):
            source = ""
        if "genlook_admin_banner" not in source:
            messages.append(
                Warning(
                    "The Genlook credits banner is shown on Genlook's admin pages only.",
                    hint="List 'genlook_django' above 'django.contrib.admin' in "
                    "INSTALLED_APPS, or put {% load genlook_admin %}{% genlook_admin_banner %} "
                    "in the messages block of your own admin/base_site.html.",
                    id="genlook.W021",
                )
            )
    return messages


@register(Tags.security)
def check_webhooks(app_configs=None, **kwargs):
    """The webhook receiver's set-up (docs/webhooks.md) and the reconciler's thresholds."""
    messages = []
    secrets = genlook_settings.WEBHOOK_SIGNING_SECRETS
    valid_secrets = secrets is None or (
        isinstance(secrets, str)
        or (isinstance(secrets, list | tuple) and all(isinstance(s, str) for s in secrets))
    )
    if not valid_secrets:
        messages.append(
            Error(
                "GENLOOK WEBHOOK_SIGNING_SECRETS must be a list of strings.",
                hint='e.g. GENLOOK["WEBHOOK_SIGNING_SECRETS"] = [os.environ["GENLOOK_WHSEC"]]; '
                "list the old secret after the new one while rotating.",
                id="genlook.E010",
            )
        )
    max_age = genlook_settings.RECONCILE_MAX_AGE
    result_timeout = genlook_settings.RESULT_TIMEOUT
    if float(max_age) < float(result_timeout):
        messages.append(
            Warning(
                f"GENLOOK RECONCILE_MAX_AGE ({max_age}) is shorter than RESULT_TIMEOUT "
                f"({result_timeout}).",
                hint="The reconciler would fail try-ons Genlook may still finish: keep "
                "RECONCILE_MAX_AGE at least RESULT_TIMEOUT (30 minutes by default).",
                id="genlook.W013",
            )
        )
    if not genlook_settings.WEBHOOKS:
        return messages
    if str(genlook_settings.BASE_URL).rstrip("/") == OFFICIAL_BASE_URL:
        messages.append(
            Warning(
                "GENLOOK WEBHOOKS is on, but Genlook's v1 API takes no webhook_url: no "
                "webhook URL is sent to it, and results come by polling and the reconciler.",
                hint="webhook_url is sent only to an endpoint that declares it accepts it "
                "(the sandbox). Turn WEBHOOKS off with the real API (docs/webhooks.md).",
                id="genlook.W014",
            )
        )
    base = str(genlook_settings.PUBLIC_BASE_URL or "")
    if not base:
        messages.append(
            Warning(
                "GENLOOK WEBHOOKS is on but PUBLIC_BASE_URL is not set: no webhook URL can "
                "be given to Genlook.",
                hint="Set GENLOOK['PUBLIC_BASE_URL'] to the address the shop is served at, "
                "e.g. 'https://shop.example.com'. Results are still polled meanwhile.",
                id="genlook.W010",
            )
        )
    elif not settings.DEBUG and not base.startswith("https://"):
        messages.append(
            Warning(
                f"GENLOOK PUBLIC_BASE_URL {base!r} is not https while WEBHOOKS is on.",
                hint="Each webhook URL carries its try-on's token: serve it over https.",
                id="genlook.W012",
            )
        )
    from .services.webhooks import signing_secrets

    if not genlook_settings.WEBHOOK_CONFIRM and not (valid_secrets and signing_secrets()):
        messages.append(
            Warning(
                "GENLOOK WEBHOOK_CONFIRM is off and no WEBHOOK_SIGNING_SECRETS is set: "
                "anyone who learns a webhook URL can record a result of their choosing.",
                hint="Keep WEBHOOK_CONFIRM on (the default: every delivery is checked with "
                "GET /generations/{id}), or require a signature with "
                "WEBHOOK_SIGNING_SECRETS.",
                id="genlook.W011",
            )
        )
    return messages


@register(Tags.compatibility)
def check_tasks(app_configs=None, **kwargs):
    """Where tasks run (``jobs``): never published to a broker nobody configured."""
    from . import jobs

    setting = genlook_settings.TASKS
    if setting not in jobs.MODES:
        return [
            Error(
                f"GENLOOK TASKS is {setting!r}.",
                hint='Use "auto" (the default), "celery" or "inline".',
                id="genlook.E030",
            )
        ]
    app = jobs.celery_app()
    if setting == "celery" and app is None:
        return [
            Error(
                'GENLOOK TASKS is "celery" but this project has no Celery app: product '
                "syncs, try-ons and webhooks would have nowhere to go.",
                hint="Define the project's Celery app (proj/celery.py, imported in "
                "proj/__init__.py: https://docs.celeryq.dev/en/stable/django/), or set "
                'GENLOOK["TASKS"] = "inline" to run them in the web process.',
                id="genlook.E031",
            )
        ]
    if setting == "auto" and app is None and getattr(settings, "CELERY_BROKER_URL", None):
        return [
            Warning(
                "CELERY_BROKER_URL is set but no Celery app is loaded: Genlook tasks run "
                "inline, in the web process.",
                hint="Import the project's Celery app in proj/__init__.py so tasks go to "
                'its workers, or set GENLOOK["TASKS"] = "inline" to say that is intended.',
                id="genlook.W030",
            )
        ]
    return []


# -- Catalog diagnostics (genlook.W040-W049): products must never be skipped silently ------

CATALOG_SAMPLE_SIZE = 20


def _overrides(adapter, *names: str) -> bool:
    from .adapters import ProductAdapter

    return any(getattr(type(adapter), n) is not getattr(ProductAdapter, n) for n in names)


@register(Tags.compatibility)
def check_catalog_adapters(app_configs=None, **kwargs):
    """What a registered adapter cannot find on its model, without reading a row."""
    from .registry import registered_adapters

    messages = []
    for adapter in registered_adapters():
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

    from .registry import registered_adapters

    messages = []
    for adapter in registered_adapters():
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
