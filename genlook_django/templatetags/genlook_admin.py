"""The Genlook banner of the admin: ``{% load genlook_admin %}{% genlook_admin_banner %}``.

It says when the credit balance is below ``LOW_BALANCE_THRESHOLD`` or Genlook has answered
402 (no credits left), to staff who may see the credits page (``genlook.view_creditsnapshot``)
and to nobody else. Rendered at most once per request, so the app's pages and a host's own
``admin/base_site.html`` may both include it. Reads the database only: never an API call.
"""

from __future__ import annotations

from django import template
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

_RENDERED_FLAG = "_genlook_admin_banner_rendered"
PERMISSION = "genlook.view_creditsnapshot"


@register.simple_tag(takes_context=True)
def genlook_admin_banner(context: template.Context) -> SafeString:
    request = context.get("request")
    user = getattr(request, "user", None)
    if request is None or user is None or getattr(request, _RENDERED_FLAG, False):
        return mark_safe("")
    if not (user.is_active and user.is_staff and user.has_perm(PERMISSION)):
        return mark_safe("")
    setattr(request, _RENDERED_FLAG, True)

    from genlook_django.admin.credits import TOP_UP_URL
    from genlook_django.services import credits

    alerts = credits.alerts()
    if not alerts:
        return mark_safe("")
    site = getattr(getattr(request, "resolver_match", None), "namespace", "") or "admin"
    try:
        credits_url = reverse(f"{site}:genlook_creditsnapshot_changelist")
    except NoReverseMatch:
        credits_url = reverse("admin:genlook_creditsnapshot_changelist")
    return render_to_string(
        "admin/genlook/banner.html",
        {"alerts": alerts, "credits_url": credits_url, "top_up_url": TOP_UP_URL},
        request=request,
    )
