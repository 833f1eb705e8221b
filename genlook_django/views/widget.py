"""The try-on button as an HTML fragment, for front ends that render no Django templates
(a headless shop): ``GET <genlook>/widget/button/?product=<reference>``.

The fragment is what ``{% genlook_tryon_button %}`` renders, without the asset tags: the
page links ``genlook/tryon.css``, the JS catalog and ``genlook/tryon.js`` itself, inserts
the fragment, then calls ``window.genlookTryOn.init()`` (docs/headless.md).
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.template import Context
from django.utils.cache import add_never_cache_headers, patch_vary_headers
from django.views.decorators.http import require_safe

from genlook_django.services.tryons import start
from genlook_django.templatetags.genlook import ASSETS_FLAG, genlook_tryon_button

MAX_OPTION_LENGTH = 200


@require_safe
def button(request: HttpRequest) -> HttpResponse:
    """The button of ``?product=`` (a variant's reference gives its product's button);
    404 for a product that cannot be tried on. ``label`` and ``button_class`` as the tag."""
    try:
        product = start.resolve_product(request.GET.get("product", ""))
    except start.TryOnRefused:
        return HttpResponse(status=404)
    setattr(request, ASSETS_FLAG, True)  # the page links the assets once, itself
    options = {
        name: request.GET[name][:MAX_OPTION_LENGTH]
        for name in ("label", "button_class")
        if request.GET.get(name)
    }
    html = genlook_tryon_button(Context({"request": request}), product, **options)
    response = HttpResponse(html, content_type="text/html; charset=utf-8")
    add_never_cache_headers(response)  # it carries the shopper's CSRF token
    patch_vary_headers(response, ["Cookie"])
    return response
