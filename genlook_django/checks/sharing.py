"""Share links: how long they work, how many a look may have, the shop's name."""

from __future__ import annotations

from django.core.checks import Error, Tags, Warning, register

from genlook_django.conf import genlook_settings
from genlook_django.services import catalog


def _positive(value: object, *, integer: bool) -> bool:
    kinds = int if integer else int | float
    return isinstance(value, kinds) and not isinstance(value, bool) and value > 0


@register(Tags.compatibility)
def check_sharing(app_configs=None, **kwargs):
    messages = []
    days = genlook_settings.SHARE_LINK_DAYS
    if not _positive(days, integer=False):
        messages.append(
            Error(
                f"GENLOOK SHARE_LINK_DAYS must be a positive number of days, not {days!r}.",
                hint='e.g. GENLOOK["SHARE_LINK_DAYS"] = 7 (the default).',
                id="genlook.E080",
            )
        )
    cap = genlook_settings.SHARE_LINKS_PER_TRY_ON
    if not _positive(cap, integer=True):
        messages.append(
            Error(
                f"GENLOOK SHARE_LINKS_PER_TRY_ON must be a positive whole number, not {cap!r}.",
                hint='e.g. GENLOOK["SHARE_LINKS_PER_TRY_ON"] = 5 (the default).',
                id="genlook.E081",
            )
        )
    retention = genlook_settings.RETENTION_DAYS
    if (
        _positive(days, integer=False)
        and _positive(retention, integer=False)
        and float(days) > float(retention)
    ):
        messages.append(
            Warning(
                f"GENLOOK SHARE_LINK_DAYS ({days}) is longer than RETENTION_DAYS "
                f"({retention}): share links stop when the result is purged.",
                hint="Lower SHARE_LINK_DAYS to RETENTION_DAYS or less to say what happens.",
                id="genlook.W080",
            )
        )
    name = genlook_settings.SHOP_NAME
    if name is not None and not isinstance(name, str):
        messages.append(
            Error(
                f"GENLOOK SHOP_NAME must be a string or None, not {name!r}.",
                hint="The name shown on a shared look's page.",
                id="genlook.E082",
            )
        )
    for adapter in catalog.registered_adapters():
        if adapter._spec("url_field") is None and not hasattr(adapter.model, "get_absolute_url"):
            messages.append(
                Warning(
                    f"{adapter.label} has no get_absolute_url() and its adapter no url_field: "
                    "a shared look of its products cannot link back to them.",
                    hint=f"Set url_field on {type(adapter).__name__} (a field, a method or a "
                    "callable giving the product page's URL), or give the model "
                    "get_absolute_url().",
                    id="genlook.W081",
                )
            )
    return messages
