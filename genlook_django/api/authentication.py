"""CSRF for every unsafe request, anonymous shoppers included.

DRF's ``SessionAuthentication`` checks the CSRF token only for signed-in users, and DRF
views are otherwise exempt from Django's CSRF middleware: an anonymous shopper's try-on
(created in their session) could then be started or deleted from another site. This class
enforces the token on every unsafe method, whoever sends it.
"""

from __future__ import annotations

from typing import Any

from rest_framework.authentication import SessionAuthentication
from rest_framework.request import Request


class ShopperSessionAuthentication(SessionAuthentication):
    def authenticate(self, request: Request) -> tuple[Any, None] | None:
        self.enforce_csrf(request)  # a no-op for GET, HEAD, OPTIONS and TRACE
        user = getattr(request._request, "user", None)
        if user is None or not user.is_active:
            return None
        return (user, None)
