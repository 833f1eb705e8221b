"""Plain Django views of the storefront: the privacy notice and the widget's JS catalog."""

from __future__ import annotations

import math

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe
from django.views.i18n import JavaScriptCatalog

from genlook_django.conf import genlook_settings


@require_safe
def privacy(request: HttpRequest) -> HttpResponse:
    """What happens to a shopper's photo. Override ``genlook/privacy.html`` to make it
    yours, or point ``PRIVACY_URL`` at your own page."""
    return render(
        request,
        "genlook/privacy.html",
        {
            "consent_version": genlook_settings.CONSENT_VERSION,
            "keep_for_days": genlook_settings.KEEP_FOR_DAYS,
            "reuse_days": genlook_settings.PHOTO_REUSE_DAYS,
            "share_days": share_days(),
            # RETENTION_DAYS: when genlook_purge deletes photos and results (None: never).
            "retention_days": (
                math.ceil(genlook_settings.RETENTION_DAYS)
                if genlook_settings.RETENTION_DAYS is not None
                else None
            ),
        },
    )


def share_days() -> int:
    """Days a share link works at most: SHARE_LINK_DAYS, never past RETENTION_DAYS."""
    days = float(genlook_settings.SHARE_LINK_DAYS)
    if genlook_settings.RETENTION_DAYS is not None:
        days = min(days, float(genlook_settings.RETENTION_DAYS))
    return math.ceil(days)


# The widget's strings, in the request's language (LocaleMiddleware, the language cookie):
# hosts need no JavaScriptCatalog of their own.
javascript_catalog = JavaScriptCatalog.as_view(packages=["genlook_django"])
