"""A typed client for the Genlook Try-On API v1. Imports nothing from Django."""

from .client import DEFAULT_BASE_URL, KEEP, GenlookClient, local_budget
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
    "DEFAULT_BASE_URL",
    "KEEP",
    "AuthenticationError",
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
    "UploadedImage",
    "ValidationError",
    "local_budget",
]
