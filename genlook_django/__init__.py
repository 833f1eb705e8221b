"""Genlook AI virtual try-on for Django shops.

Importable without Django configured (the client imports ``__version__``): the Django-side
helpers below are imported on first use.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

# name -> module that defines it, imported lazily (see __getattr__).
_LAZY = {
    "register": "genlook_django.services.catalog",
    "unregister": "genlook_django.services.catalog",
    "get_adapter": "genlook_django.services.catalog",
    "get_tryon_product": "genlook_django.services.catalog",
    "disable_auto_sync": "genlook_django.services.catalog",
    "ProductAdapter": "genlook_django.services.catalog",
    "ProductPayload": "genlook_django.services.catalog",
    "GarmentCategory": "genlook_django.services.catalog",
    "Skip": "genlook_django.services.catalog",
    "SkipReason": "genlook_django.services.catalog",
    "normalise_category": "genlook_django.services.catalog",
    "track_add_to_cart": "genlook_django.services.funnel",
}

__all__ = ["__version__", *_LAZY]


def __getattr__(name: str) -> Any:
    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(f"module 'genlook_django' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module_name), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
