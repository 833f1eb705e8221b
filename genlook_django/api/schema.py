"""The storefront API's OpenAPI 3 schema (drf-spectacular), limited to its own endpoints."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.views import SpectacularAPIView

from genlook_django import __version__


class ShopperSessionScheme(OpenApiAuthenticationExtension):
    """The shopper's session cookie; unsafe methods also need the CSRF token."""

    target_class = "genlook_django.api.authentication.ShopperSessionAuthentication"
    name = "shopperSession"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {
            "type": "apiKey",
            "in": "cookie",
            "name": settings.SESSION_COOKIE_NAME,
            "description": "The shopper's session (anonymous or signed in). POST and "
            "DELETE also need the CSRF token in the X-CSRFToken header.",
        }


def only_storefront(endpoints: list[Any], **kwargs: Any) -> list[Any]:
    """Keep the storefront's endpoints, whatever else the project serves."""
    return [
        endpoint
        for endpoint in endpoints
        if getattr(getattr(endpoint[3], "cls", None), "__module__", "").startswith(
            "genlook_django.api."
        )
        and getattr(endpoint[3], "cls", None) is not StorefrontSchemaView
    ]


class StorefrontSchemaView(SpectacularAPIView):
    custom_settings = {
        "TITLE": "genlook-django storefront API",
        "DESCRIPTION": "Virtual try-on for shoppers: start a try-on with a photo, follow it, "
        "fetch the result, erase it. Session authentication; unsafe methods need the CSRF "
        "token (X-CSRFToken), for anonymous shoppers too.",
        "VERSION": __version__,
        "PREPROCESSING_HOOKS": ["genlook_django.api.schema.only_storefront"],
    }
