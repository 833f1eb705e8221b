"""Webhooks: where Genlook may post, and how the receiver authenticates."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register

from genlook_django.conf import OFFICIAL_BASE_URL, genlook_settings


@register(Tags.security)
def check_webhooks(app_configs=None, **kwargs):
    """The webhook receiver's set-up (docs/webhooks.md) and the reconciler's thresholds."""
    messages = []
    secrets = genlook_settings.WEBHOOK_SIGNING_SECRETS
    valid_secrets = secrets is None or (
        isinstance(secrets, str)
        or (isinstance(secrets, list | tuple) and all(isinstance(s, str) for s in secrets))
    )
    if not valid_secrets:
        messages.append(
            Error(
                "GENLOOK WEBHOOK_SIGNING_SECRETS must be a list of strings.",
                hint='e.g. GENLOOK["WEBHOOK_SIGNING_SECRETS"] = [os.environ["GENLOOK_WHSEC"]]; '
                "list the old secret after the new one while rotating.",
                id="genlook.E010",
            )
        )
    max_age = genlook_settings.RECONCILE_MAX_AGE
    result_timeout = genlook_settings.RESULT_TIMEOUT
    if float(max_age) < float(result_timeout):
        messages.append(
            Warning(
                f"GENLOOK RECONCILE_MAX_AGE ({max_age}) is shorter than RESULT_TIMEOUT "
                f"({result_timeout}).",
                hint="The reconciler would fail try-ons Genlook may still finish: keep "
                "RECONCILE_MAX_AGE at least RESULT_TIMEOUT (30 minutes by default).",
                id="genlook.W013",
            )
        )
    if not genlook_settings.webhooks_on:
        return messages
    v1_official = str(genlook_settings.BASE_URL).rstrip("/") == OFFICIAL_BASE_URL
    if v1_official and not genlook_settings.classic:
        messages.append(
            Warning(
                "GENLOOK WEBHOOKS is on, but Genlook's v1 API takes no webhook_url: no "
                "webhook URL is sent to it, and results come by polling and the reconciler.",
                hint="webhook_url is sent only to an endpoint that declares it accepts it "
                "(the sandbox). Turn WEBHOOKS off with the real API (docs/webhooks.md).",
                id="genlook.W014",
            )
        )
    base = str(genlook_settings.PUBLIC_BASE_URL or "")
    if not base:
        messages.append(
            Warning(
                "GENLOOK WEBHOOKS is on but PUBLIC_BASE_URL is not set: no webhook URL can "
                "be given to Genlook.",
                hint="Set GENLOOK['PUBLIC_BASE_URL'] to the address the shop is served at, "
                "e.g. 'https://shop.example.com'. Results are still polled meanwhile.",
                id="genlook.W010",
            )
        )
    elif not settings.DEBUG and not base.startswith("https://"):
        messages.append(
            Warning(
                f"GENLOOK PUBLIC_BASE_URL {base!r} is not https while WEBHOOKS is on.",
                hint="Each webhook URL carries its try-on's token: serve it over https.",
                id="genlook.W012",
            )
        )
    from genlook_django.services.webhooks import signing_secrets

    if not genlook_settings.WEBHOOK_CONFIRM and not (valid_secrets and signing_secrets()):
        messages.append(
            Warning(
                "GENLOOK WEBHOOK_CONFIRM is off and no WEBHOOK_SIGNING_SECRETS is set: "
                "anyone who learns a webhook URL can record a result of their choosing.",
                hint="Keep WEBHOOK_CONFIRM on (the default: every delivery is checked with "
                "GET /generations/{id}), or require a signature with "
                "WEBHOOK_SIGNING_SECRETS.",
                id="genlook.W011",
            )
        )
    return messages
