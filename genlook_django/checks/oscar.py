"""django-oscar (``genlook_django.contrib.oscar``): the button on product pages, the
dashboard menu's pages."""

from __future__ import annotations

from pathlib import Path

from django.apps import apps
from django.core.checks import Tags, Warning, register
from django.template import TemplateDoesNotExist
from django.template.loader import get_template
from django.urls import NoReverseMatch, reverse

OSCAR_APP = "genlook_django.contrib.oscar"
DETAIL_TEMPLATE = "oscar/catalogue/detail.html"
BUTTON_INCLUDE = "genlook/oscar/tryon_button.html"


@register(Tags.compatibility, Tags.templates)
def check_oscar(app_configs=None, **kwargs):
    if not apps.is_installed(OSCAR_APP):
        return []
    messages = []
    warning = _button_missing()
    if warning is not None:
        messages.append(warning)
    try:
        reverse("admin:genlook_syncedproduct_changelist")
    except NoReverseMatch:
        messages.append(
            Warning(
                "The dashboard's Virtual try-on menu links to the Django admin, which this "
                "project does not mount: the menu stays hidden.",
                hint='Add path("admin/", admin.site.urls) to your urlpatterns.',
                id="genlook.W051",
            )
        )
    return messages


def _button_missing() -> Warning | None:
    """genlook.W050: Oscar's product page is rendered from a template without the button
    (a project template of its own, or the app listed below Oscar's)."""
    try:
        template = get_template(DETAIL_TEMPLATE)
    except TemplateDoesNotExist:
        return None  # no Oscar storefront templates: a headless shop
    ours = Path(apps.get_app_config("genlook_oscar").path) / "templates"
    origin = str(getattr(template.origin, "name", "") or "")
    source = str(getattr(getattr(template, "template", None), "source", "") or "")
    if origin.startswith(str(ours)) or "genlook" in source:
        return None
    return Warning(
        f"Oscar's product page ({DETAIL_TEMPLATE}, from {origin or 'an unknown origin'}) "
        "has no try-on button.",
        hint=f"List {OSCAR_APP!r} above Oscar's apps in INSTALLED_APPS, or add "
        f'{{% include "{BUTTON_INCLUDE}" %}} to your own {DETAIL_TEMPLATE}.',
        id="genlook.W050",
    )
