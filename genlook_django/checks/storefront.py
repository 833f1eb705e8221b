"""The storefront's and the admin's settings: storages, quotas, retention, the banner."""

from __future__ import annotations

from django.apps import apps
from django.conf import settings
from django.core.checks import Error, Tags, Warning, register

from genlook_django.conf import DEFAULTS, genlook_settings
from genlook_django.services.tryons import intake


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
    if genlook_settings.PHOTO_NORMALISE not in intake.MODES:
        messages.append(
            Error(
                f"GENLOOK PHOTO_NORMALISE must be one of {', '.join(intake.MODES)}, not "
                f"{genlook_settings.PHOTO_NORMALISE!r}.",
                hint='"auto" (the default) lets the worker decode uploaded JPEGs when one '
                "runs the tasks, and the request otherwise.",
                id="genlook.E006",
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
