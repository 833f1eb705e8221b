"""A typed client for the Genlook Try-On API (v1, or the classic dialect). Imports nothing
from Django."""

from .classic import CATEGORIES as CLASSIC_CATEGORIES
from .classic import CLASSIC_BASE_URL, CLASSIC_SANDBOX_BASE_URL, BatchEntry, batch_entries
from .client import DEFAULT_BASE_URL, DIALECTS, KEEP, GenlookClient, local_budget
from .errors import (
    AuthenticationError,
    GenerationFailedError,
    GenerationNotFoundError,
    GenerationWaitTimeout,
    GenlookAPIError,
    GenlookError,
    GenlookTimeoutError,
    InsufficientCreditsError,
    NotFoundError,
    PermissionDeniedError,
    ProductNotFoundError,
    RateLimitedError,
    ServerError,
    TransportError,
    UnsupportedFeatureError,
    ValidationError,
)
from .inputs import (
    ImageFile,
    InlineProduct,
    OneShotProduct,
    PersonImage,
    ProductReference,
)
from .ratelimit import LocalRateLimiter, RateLimiter, RedisRateLimiter, Unlimited
from .transport import DownloadTooLarge, RateBudgetTimeout
from .types import Generation, GenerationStatus, Product, ProductImage, ProductPage, UploadedImage

__all__ = [
    "CLASSIC_BASE_URL",
    "CLASSIC_CATEGORIES",
    "CLASSIC_SANDBOX_BASE_URL",
    "DEFAULT_BASE_URL",
    "DIALECTS",
    "KEEP",
    "AuthenticationError",
    "BatchEntry",
    "DownloadTooLarge",
    "Generation",
    "GenerationFailedError",
    "GenerationNotFoundError",
    "GenerationStatus",
    "GenerationWaitTimeout",
    "GenlookAPIError",
    "GenlookClient",
    "GenlookError",
    "GenlookTimeoutError",
    "ImageFile",
    "InlineProduct",
    "InsufficientCreditsError",
    "LocalRateLimiter",
    "NotFoundError",
    "OneShotProduct",
    "PermissionDeniedError",
    "PersonImage",
    "Product",
    "ProductImage",
    "ProductNotFoundError",
    "ProductPage",
    "ProductReference",
    "RateBudgetTimeout",
    "RateLimitedError",
    "RateLimiter",
    "RedisRateLimiter",
    "ServerError",
    "TransportError",
    "Unlimited",
    "UnsupportedFeatureError",
    "UploadedImage",
    "ValidationError",
    "batch_entries",
    "local_budget",
]
