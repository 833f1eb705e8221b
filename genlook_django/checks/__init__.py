"""System checks: ``manage.py check`` says what is wrong with the Genlook set-up.

Importing this package registers every check (``GenlookConfig.ready`` does).
"""

from .catalog import check_catalog_adapters, check_catalog_sample, check_product_sync
from .classic import check_api_dialect
from .core import check_genlook_settings
from .database import check_database
from .oscar import check_oscar
from .sharing import check_sharing
from .storefront import check_admin, check_storefront
from .tasks import check_tasks
from .webhooks import check_webhooks

__all__ = [
    "check_admin",
    "check_api_dialect",
    "check_catalog_adapters",
    "check_catalog_sample",
    "check_database",
    "check_genlook_settings",
    "check_oscar",
    "check_product_sync",
    "check_sharing",
    "check_storefront",
    "check_tasks",
    "check_webhooks",
]
