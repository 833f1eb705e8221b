"""Consent, asked once per session and consent version rather than for every product.

The shopper ticks the box once; the session remembers which ``CONSENT_VERSION`` they agreed
to, and their next try-ons in that session need no new tick. A new ``CONSENT_VERSION`` asks
again. Every try-on still records the version it was made under (``TryOn.consent_version``).
"""

from __future__ import annotations

from django.http import HttpRequest

from genlook_django.conf import genlook_settings

SESSION_KEY = "genlook_consent"


def current_version() -> str:
    return str(genlook_settings.CONSENT_VERSION)[:32]


def given(request: HttpRequest) -> bool:
    """Whether this session already agreed to the current consent version."""
    session = getattr(request, "session", None)
    return session is not None and session.get(SESSION_KEY) == current_version()


def remember(request: HttpRequest) -> None:
    """Note in the session that its shopper agreed to the current version."""
    session = getattr(request, "session", None)
    if session is not None:
        session[SESSION_KEY] = current_version()
