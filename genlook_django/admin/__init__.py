"""The Genlook pages of the Django admin."""

from .batches import BatchJobAdmin
from .credits import CreditsAdmin
from .products import SyncedProductAdmin
from .sharing import ShareLinkAdmin
from .tryons import TryOnAdmin
from .watermark import WatermarkSettingsAdmin
from .webhooks import WebhookDeliveryAdmin

__all__ = ["SyncedProductAdmin", "TryOnAdmin"]
__all__ += ["WebhookDeliveryAdmin"]
__all__ += ["CreditsAdmin", "WatermarkSettingsAdmin"]
__all__ += ["BatchJobAdmin", "ShareLinkAdmin"]
