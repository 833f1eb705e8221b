"""Local state of the Genlook integration, one module per concern; every model is
importable from here (``from genlook_django.models import TryOn``)."""

from .batches import BatchItem, BatchJob, BatchPhoto
from .catalog import SyncedProduct
from .credits import ChargedGeneration, CreditAlert, CreditSnapshot
from .funnel import FunnelEvent
from .sharing import ShareLink
from .shoppers import ErasureDebt, ShopperAlias, UsageRecord
from .tryons import ShopperPhoto, TryOn
from .watermark import WatermarkSettings
from .webhooks import WebhookDelivery

__all__ = [
    "BatchItem",
    "BatchJob",
    "BatchPhoto",
    "ChargedGeneration",
    "CreditAlert",
    "CreditSnapshot",
    "ErasureDebt",
    "FunnelEvent",
    "ShareLink",
    "ShopperAlias",
    "ShopperPhoto",
    "SyncedProduct",
    "TryOn",
    "UsageRecord",
    "WatermarkSettings",
    "WebhookDelivery",
]
