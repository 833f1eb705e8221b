"""The product catalog: the shop's models registered with adapters, and kept in step with
Genlook's products.

- ``registry``: ``register``/``get_adapter``, ``get_tryon_product`` (the product a
  variant is tried on as), and the signals that enqueue a sync on commit;
- ``adapters`` (with ``categories``, ``fields``, ``payload``, ``skips``): how a model maps
  to a Genlook product;
- ``sync``: one product, serialised (``locks``): ``plan``, ``push``, ``record``;
- ``bulk``: whole models from a thread pool; ``retry``: what is worth retrying;
- ``image_audit``: are the product images public and fetchable.

Callers import what they use from here.
"""

from .adapters import ProductAdapter
from .bulk import count_catalog, plan_catalog, sync_catalog
from .categories import GarmentCategory, normalise_category
from .image_audit import audit_synced_product
from .payload import ProductPayload, html_to_text, present, stable_image_url
from .plan import default_external_id
from .registry import (
    AlreadyRegistered,
    NotRegistered,
    disable_auto_sync,
    enqueue_sync,
    get_adapter,
    get_tryon_product,
    is_registered,
    register,
    register_from_settings,
    registered_adapters,
    unregister,
)
from .results import SyncReport, SyncResult
from .retry import default_max_failures, enqueue_failed, worth_retrying
from .skips import Skip, SkipReason
from .sync import delete_remote, refresh_from_genlook, sync_object

__all__ = [
    "AlreadyRegistered",
    "GarmentCategory",
    "NotRegistered",
    "ProductAdapter",
    "ProductPayload",
    "Skip",
    "SkipReason",
    "SyncReport",
    "SyncResult",
    "audit_synced_product",
    "count_catalog",
    "default_external_id",
    "default_max_failures",
    "delete_remote",
    "disable_auto_sync",
    "enqueue_failed",
    "enqueue_sync",
    "get_adapter",
    "get_tryon_product",
    "html_to_text",
    "is_registered",
    "normalise_category",
    "plan_catalog",
    "present",
    "refresh_from_genlook",
    "register",
    "register_from_settings",
    "registered_adapters",
    "stable_image_url",
    "sync_catalog",
    "sync_object",
    "unregister",
    "worth_retrying",
]
