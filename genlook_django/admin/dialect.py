"""What the admin says about features the API dialect in use lacks (``GENLOOK["API"]``).

The classic API has no credits endpoint, no products catalog and no customer erasure: the
pages of those features say so at the top rather than show errors or empty tables.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from genlook_django.conf import genlook_settings

UNAVAILABLE = {
    "credits": _(
        "The classic Genlook API has no credits endpoint: the balance cannot be read or "
        "refreshed here (see Genlook's dashboard). The charts below count this shop's own "
        "try-ons."
    ),
    "erasure": _(
        "The classic Genlook API has no customer deletion: erasing a shopper deletes their "
        "try-ons and photos here only; the results Genlook made stay there for the account's "
        "retention (the photos were only ever offered as expiring links)."
    ),
    "products": _(
        "The classic Genlook API has no products catalog: products are not synced (the "
        "sync actions are off). Each try-on sends the product's image URL and category."
    ),
}


def unavailable(feature: str) -> bool:
    """Whether ``feature`` (``credits``, ``erasure``, ``products``) is missing from the
    dialect in use."""
    return genlook_settings.classic and feature in UNAVAILABLE


def warn_if_unavailable(request: HttpRequest, feature: str) -> bool:
    """Put the page's banner up when ``feature`` is unavailable; whether it is."""
    if not unavailable(feature):
        return False
    messages.warning(request, UNAVAILABLE[feature])
    return True
