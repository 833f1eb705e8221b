"""The page a share link opens, and its image: for anyone holding the link, no session.

A revoked, expired or purged link answers 404 (a page saying so). The image is the result
only, streamed through the link (never the shopper's photo, never a storage URL). Nothing
is cached on the way (a revoked link stops at once), search engines are asked not to index
it, and the page sends no Referer: the token never leaks to the product page it links to.
"""

from __future__ import annotations

import mimetypes

from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import never_cache  # no-store: a revoked link stops at once
from django.views.decorators.http import require_safe

from genlook_django.services import files
from genlook_django.services.tryons import sharing


def _private(response: HttpResponse) -> HttpResponse:
    response["Referrer-Policy"] = "no-referrer"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _reverse(request: HttpRequest, name: str, token: str) -> str:
    namespace = getattr(request.resolver_match, "namespace", "") or "genlook"
    return reverse(f"{namespace}:{name}", kwargs={"token": token})


@never_cache
@require_safe
def shared_look(request: HttpRequest, token: str) -> HttpResponse:
    """The shared look: the result, the shop's name, the product and a link back to it."""
    link = sharing.opened(token)
    shop = sharing.shop_name(request.get_host())
    if link is None:
        response = render(request, "genlook/shared.html", {"shop_name": shop}, status=404)
        return _private(response)
    image_url = _reverse(request, "shared-image", token)
    context = {
        "shop_name": shop,
        "product": sharing.product_of(link.try_on),
        "image_url": image_url,
        "absolute_image_url": request.build_absolute_uri(image_url),
        "expires_at": link.expires_at,
    }
    return _private(render(request, "genlook/shared.html", context))


@never_cache
@require_safe
def shared_image(request: HttpRequest, token: str) -> FileResponse:
    link = sharing.opened(token)
    if link is None:
        raise Http404
    storage = files.results_storage()
    try:
        handle = storage.open(link.try_on.result_file, "rb")
    except (FileNotFoundError, OSError):
        raise Http404 from None
    content_type = mimetypes.guess_type(link.try_on.result_file)[0] or "image/jpeg"
    response = FileResponse(handle, content_type=content_type)
    response["X-Content-Type-Options"] = "nosniff"
    return _private(response)
