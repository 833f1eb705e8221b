"""The storefront widget: ``{% load genlook %}{% genlook_tryon_button product %}``.

Options: ``label`` (the button's text), ``button_class`` (classes of the button, e.g. your
shop's own ``"button button--ghost"``), ``privacy_url`` (the page the consent links to),
``title`` and ``image_url`` (what the dialog shows of the product; the adapter's by
default), ``template`` (another template than ``genlook/tryon_button.html``).

The widget's CSS and JS (and its JS catalog) are linked by the first button of a page; put
``{% genlook_tryon_assets %}`` in your ``<head>`` to link them there instead. The API key is
never rendered: the page only knows the storefront API's URLs and a CSRF token.
"""

from __future__ import annotations

import itertools
import json
import logging
from typing import Any

from django import template
from django.conf import settings
from django.db import models
from django.db.models.fields.files import FieldFile
from django.middleware.csrf import get_token
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils.safestring import SafeString, mark_safe

from genlook_django.conf import genlook_settings
from genlook_django.services import catalog
from genlook_django.services.tryons import photos, status_wait, upload_rules

logger = logging.getLogger("genlook_django.widget")
register = template.Library()

ASSETS_FLAG = "_genlook_assets_rendered"
_counter = itertools.count(1)


def _url(name: str) -> str:
    try:
        return reverse(f"genlook:{name}")
    except NoReverseMatch:
        raise template.TemplateSyntaxError(
            "genlook_tryon_button needs the storefront URLs: add "
            'path("genlook/", include("genlook_django.urls")) to your urlpatterns.'
        ) from None


def _assets(request: Any) -> str:
    if request is not None:
        if getattr(request, ASSETS_FLAG, False):
            return ""
        setattr(request, ASSETS_FLAG, True)
    return render_to_string(
        "genlook/tryon_assets.html", {"jsi18n_url": _url("jsi18n")}, request=request
    )


@register.simple_tag(takes_context=True)
def genlook_tryon_assets(context: template.Context) -> SafeString:
    """The widget's stylesheet, its JS catalog and its script (once per page)."""
    return mark_safe(_assets(context.get("request")))  # noqa: S308  (our own template)


def _display_image(adapter: Any, product: models.Model) -> str:
    for image in adapter.get_images(product):
        if isinstance(image, FieldFile):
            if image.name:
                return image.url
        elif image:
            return str(image)
    return ""


def _csrf_header() -> str:
    """The header as sent (``X-CSRFTOKEN``), from its ``request.META`` name."""
    name = settings.CSRF_HEADER_NAME
    return name.removeprefix("HTTP_").replace("_", "-")


@register.simple_tag(takes_context=True)
def genlook_tryon_button(
    context: template.Context,
    product: models.Model,
    label: str | None = None,
    button_class: str = "",
    privacy_url: str | None = None,
    title: str | None = None,
    image_url: str | None = None,
    template: str = "genlook/tryon_button.html",
) -> SafeString:
    """A "Try it on" button and its dialog, for one product of a registered model.

    A variant (the adapter's ``variant_of``) shows the button of the product it is tried on
    as. Renders nothing for a product that cannot be tried on (inactive, no image, or a
    model not registered with ``genlook_django.register``).
    """
    request = context.get("request")
    if request is None:
        raise ValueError(
            "genlook_tryon_button needs the request in the template context: enable "
            "'django.template.context_processors.request'."
        )
    try:
        product = catalog.get_tryon_product(product)  # a variant is tried on as its product
        adapter = catalog.get_adapter(product)
    except catalog.NotRegistered:
        logger.warning("genlook_tryon_button: %r is not a registered product", product)
        return mark_safe("")
    if not adapter.should_sync(product):
        return mark_safe("")
    uid = f"genlook-{next(_counter)}"
    use_cookie = not settings.CSRF_USE_SESSIONS and not settings.CSRF_COOKIE_HTTPONLY
    html = render_to_string(
        template,
        {
            "uid": uid,
            "assets": mark_safe(_assets(request)),  # noqa: S308  (our own template)
            "product_ref": f"{adapter.label}:{product.pk}",
            "product_title": title if title is not None else adapter.get_title(product),
            "product_image": image_url
            if image_url is not None
            else _display_image(adapter, product),
            "label": label,
            "button_class": button_class,
            "privacy_url": privacy_url or genlook_settings.PRIVACY_URL or _url("privacy"),
            "api_url": _url("tryon-list"),
            "me_url": _url("me"),
            "csrf_token": get_token(request),  # also makes sure the CSRF cookie is set
            "csrf_header": _csrf_header(),
            "csrf_cookie": settings.CSRF_COOKIE_NAME if use_cookie else "",
            "max_bytes": int(genlook_settings.PHOTO_MAX_BYTES),
            # The checks made before any upload, with the server's own messages.
            "checks": json.dumps(upload_rules.browser_checks(heif=photos.heif_supported())),
            "client_edge": min(4096, max(1024, 2 * int(genlook_settings.PHOTO_LONG_EDGE))),
            # Each status request waits up to this many seconds for a change (?wait=).
            "status_wait": f"{status_wait.max_wait():g}",
            # The widget stops following a try-on a minute after the server would give up.
            "max_wait_ms": round((float(genlook_settings.RESULT_TIMEOUT) + 60) * 1000),
        },
        request=request,
    )
    return mark_safe(html)  # noqa: S308  (rendered from an autoescaped template)
