"""Whether webhooks are on, the signing secrets, and each try-on's own webhook URL.

``url_for_submission`` gives each try-on its own URL, ``PUBLIC_BASE_URL`` +
``/webhooks/<token>/``: the token is ``secrets.token_urlsafe(32)`` and only its SHA-256 is
stored (``TryOn.webhook_token_hash``), so a leaked database lets nobody post. Genlook's v1
documents no ``webhook_url``: the URL is sent only to an endpoint that declares it takes one.
The classic API documents it: there webhooks are on by default (``WEBHOOKS`` None) and are
the primary result path.
"""

from __future__ import annotations

import hashlib
import logging
import secrets

from django.urls import NoReverseMatch, reverse

from genlook_django.client import GenlookError
from genlook_django.conf import OFFICIAL_BASE_URL, genlook_settings
from genlook_django.models import TryOn
from genlook_django.services.genlook import get_client

logger = logging.getLogger("genlook_django.webhooks")


def enabled() -> bool:
    return genlook_settings.webhooks_on


def signing_secrets() -> list[str]:
    """``WEBHOOK_SIGNING_SECRETS`` as a list of non-empty strings (one string is one secret)."""
    value = genlook_settings.WEBHOOK_SIGNING_SECRETS or []
    if isinstance(value, str):
        value = [value]
    return [str(secret) for secret in value if secret]


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# Base URL -> whether that endpoint declared it accepts ``webhook_url`` (asked once each).
_declared_webhook_url: dict[str, bool] = {}


def endpoint_accepts_webhook_url() -> bool:
    """``webhook_url`` is not part of the v1 contract: it is sent only to an endpoint that
    declares it accepts it (``GenlookClient.extensions``: the sandbox does), and never to
    Genlook's own v1 API, which is not even asked. The classic API's contract has it."""
    if genlook_settings.classic:
        return True
    base = str(genlook_settings.BASE_URL).rstrip("/")
    if base == OFFICIAL_BASE_URL.rstrip("/"):
        return False
    if base not in _declared_webhook_url:
        try:
            declared = "webhook_url" in get_client(max_retries=0).extensions()
        except GenlookError as exc:  # asked again next time
            logger.warning("Could not ask %s which fields it accepts: %s", base, exc)
            return False
        if not declared:
            logger.warning(
                "WEBHOOKS is on but %s does not declare it accepts webhook_url: results "
                "come by polling and the reconciler.",
                base,
            )
        _declared_webhook_url[base] = declared
    return _declared_webhook_url[base]


def url_for_submission(try_on: TryOn) -> str | None:
    """A fresh webhook URL for this try-on (its token's hash stored on the row), or None
    when webhooks are off, ``PUBLIC_BASE_URL`` is not set, the URLs are not included, or
    the endpoint does not accept ``webhook_url`` (Genlook's v1 API does not)."""
    base = genlook_settings.PUBLIC_BASE_URL
    if not enabled() or not base or not endpoint_accepts_webhook_url():
        return None
    token = secrets.token_urlsafe(32)
    try:
        path = reverse("genlook:webhook", kwargs={"token": token})
    except NoReverseMatch:
        logger.warning("WEBHOOKS is on but genlook_django.urls is not included: no webhook_url.")
        return None
    digest = hash_token(token)
    TryOn.objects.filter(pk=try_on.pk).update(webhook_token_hash=digest)
    try_on.webhook_token_hash = digest
    return str(base).rstrip("/") + path
