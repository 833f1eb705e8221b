"""The storefront API's share links: make one for a finished look, stop sharing it.

Only the try-on's owner may make or revoke its links (anyone else: the same 404 as for an
id that never existed). The link's URL, with its token, is in the answer to the POST only.
"""

from __future__ import annotations

from typing import Any

from django.http import Http404
from django.urls import reverse
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from genlook_django.models import ShareLink, TryOn
from genlook_django.services.tryons import sharing

from .errors import error_response
from .serializers import ErrorSerializer
from .views import ERRORS, StorefrontView, _owned, extend_schema


class ShareLinkSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    url = serializers.CharField(help_text="The page anyone with the link can open.")
    expires_at = serializers.DateTimeField()
    revoke_url = serializers.CharField(help_text="DELETE it to stop sharing.")


def _reverse(request: Request, name: str, **kwargs: Any) -> str:
    namespace = getattr(getattr(request, "resolver_match", None), "namespace", "") or "genlook"
    return reverse(f"{namespace}:{name}", kwargs=kwargs)


def share_data(request: Request, link: ShareLink, token: str) -> dict[str, Any]:
    return {
        "id": link.public_id,
        "url": request.build_absolute_uri(_reverse(request, "shared", token=token)),
        "expires_at": link.expires_at,
        "revoke_url": _reverse(request, "share", public_id=link.public_id),
    }


class ShareListView(StorefrontView):
    @extend_schema(
        summary="Share a look",
        description="A link to this try-on's result that anyone can open, without the "
        "shopper's session, until `expires_at` (SHARE_LINK_DAYS, never past the result's "
        "RETENTION_DAYS). The page shows the result, the shop's name and the product; "
        "never the shopper's photo. At most SHARE_LINKS_PER_TRY_ON links at once.",
        request=None,
        responses={
            201: ShareLinkSerializer,
            403: ERRORS[403],
            404: ERRORS[404],
            409: OpenApiResponse(ErrorSerializer, description="NOT_READY (no result yet)"),
            410: OpenApiResponse(
                ErrorSerializer, description="SHARE_UNAVAILABLE (the result leaves soon)"
            ),
            429: OpenApiResponse(ErrorSerializer, description="SHARE_LIMIT"),
        },
        tags=["storefront"],
    )
    def post(self, request: Request, public_id: Any) -> Response:
        try_on = _owned(TryOn.objects.all(), request, public_id, self)
        try:
            link, token = sharing.create(try_on)
        except sharing.ShareRefused as exc:
            return error_response(exc.code, exc.message, exc.status)
        return Response(share_data(request, link, token), status=status.HTTP_201_CREATED)


class ShareDetailView(StorefrontView):
    @extend_schema(
        summary="Stop sharing a look",
        description="Revokes the link: it opens nothing from now on.",
        responses={204: None, 403: ERRORS[403], 404: ERRORS[404]},
        tags=["storefront"],
    )
    def delete(self, request: Request, public_id: Any) -> Response:
        link = sharing.owned_link(self.shopper_key(request), public_id)
        if link is None:
            raise Http404
        sharing.revoke(link)
        return Response(status=status.HTTP_204_NO_CONTENT)
