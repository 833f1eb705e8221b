"""The *Virtual try-on* menu of Oscar's dashboard, linking to the app's admin pages.

Oscar's default access function only understands views of Oscar's own dashboard apps (it
raises ``ImproperlyConfigured`` for any other, and the dashboard answers 500), so each
entry carries ``access_fn``: the user must be active staff with the admin page's view
permission, and the admin page must be mounted.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.conf import settings
from django.urls import NoReverseMatch, reverse
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

# url_name -> the permission its admin page asks for (docs/admin.md).
PAGES: dict[str, str] = {
    "admin:genlook_creditsnapshot_changelist": "genlook.view_creditsnapshot",
    "admin:genlook_tryon_changelist": "genlook.view_tryon",
    "admin:genlook_syncedproduct_changelist": "genlook.view_syncedproduct",
    "admin:genlook_watermarksettings_changelist": "genlook.view_watermarksettings",
    "admin:genlook_batchjob_changelist": "genlook.view_batchjob",
    "admin:genlook_webhookdelivery_changelist": "genlook.view_webhookdelivery",
    "admin:genlook_sharelink_changelist": "genlook.view_sharelink",
}
ACCESS_FN = "genlook_django.contrib.oscar.dashboard.access_fn"


def access_fn(
    user: Any, url_name: str | None, url_args: Any = None, url_kwargs: Any = None
) -> bool:
    """Oscar's ``access_fn`` for the menu's entries (a heading has no ``url_name``)."""
    if not (user.is_active and user.is_staff):
        return False
    if url_name is None:
        return any(access_fn(user, name) for name in PAGES)
    permission = PAGES.get(url_name)
    if permission is None or not user.has_perm(permission):
        return False
    try:
        reverse(url_name, args=url_args, kwargs=url_kwargs)
    except NoReverseMatch:  # the project does not mount the Django admin
        return False
    return True


def menu_entry() -> dict[str, Any]:
    """The entry added to ``OSCAR_DASHBOARD_NAVIGATION``."""
    # The admin's own names of the pages (translated with the models).
    labels = [
        capfirst(apps.get_model(permission.replace(".view_", ".", 1))._meta.verbose_name_plural)
        for permission in PAGES.values()
    ]
    return {
        "label": _("Virtual try-on"),
        "icon": "fas fa-tshirt",
        "access_fn": access_fn,
        "children": [
            {"label": label, "url_name": name, "access_fn": access_fn}
            for label, name in zip(labels, PAGES, strict=True)
        ],
    }


def has_menu_entry(navigation: Any) -> bool:
    """Whether the navigation already links to one of the app's pages."""
    for item in navigation or ():
        if item.get("url_name") in PAGES or has_menu_entry(item.get("children")):
            return True
    return False


def add_menu_entry() -> None:
    """Add the entry to the dashboard's navigation (once; a project that placed the app's
    pages in its own menu keeps its menu)."""
    navigation = getattr(settings, "OSCAR_DASHBOARD_NAVIGATION", None)
    if navigation is None or has_menu_entry(navigation):
        return
    settings.OSCAR_DASHBOARD_NAVIGATION = [*navigation, menu_entry()]
