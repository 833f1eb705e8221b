"""The classic API's way to a shopper's photo: a signed, expiring link (``photo_links``)."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.http import require_safe

from genlook_django.services.tryons import photo_links


@require_safe
def photo_link(request: HttpRequest, token: str) -> HttpResponse:
    """The normalised JPEG a valid link names; 404 for any other token (wrong, expired,
    or a photo since erased), saying nothing of which."""
    content = photo_links.read(token)
    if content is None:
        raise Http404("No such photo.")
    response = HttpResponse(content, content_type="image/jpeg")
    response["Cache-Control"] = "private, no-store"
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Referrer-Policy"] = "no-referrer"
    return response
