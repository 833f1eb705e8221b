"""The catalog image audit: find product images Genlook will fail on, before a credit is spent.

Genlook fetches product images by URL when a try-on runs; an image it cannot fetch or read
fails the generation (``PRODUCT_IMAGE_FETCH_FAILED``). This fetches each image the way
Genlook would and reports, per URL:

- ``not_public``: a loopback or private address, which Genlook's servers cannot reach
  (only when talking to the real API, not to the sandbox);
- ``unreachable``: no answer, or an HTTP error;
- ``too_large``: more bytes than ``IMAGE_MAX_BYTES``;
- ``unsupported_type``: not JPEG, PNG or WebP (HEIC with pillow-heif), or not an image;
- ``too_small``: a side shorter than ``IMAGE_MIN_SIDE`` pixels.
"""

from __future__ import annotations

import io
import ipaddress
import logging
import warnings
from dataclasses import asdict, dataclass
from urllib.parse import urlsplit

import requests
from django.utils import timezone
from PIL import Image

from genlook_django.conf import genlook_settings
from genlook_django.models import SyncedProduct

from . import registry

logger = logging.getLogger("genlook_django.catalog")

SUPPORTED_FORMATS = {"JPEG", "PNG", "WEBP", "HEIF", "HEIC"}
LOCAL_HOSTS = {"localhost", "testserver"}


@dataclass(frozen=True)
class ImageIssue:
    url: str
    problem: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


def _is_private_host(host: str) -> bool:
    host = host.lower().strip("[]")
    if host in LOCAL_HOSTS or host.endswith((".local", ".localhost", ".internal")):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_private or address.is_loopback or address.is_link_local


def _talking_to_real_api() -> bool:
    """Genlook's servers (not a sandbox on this machine) will fetch the images."""
    return not _is_private_host(urlsplit(str(genlook_settings.BASE_URL or "")).hostname or "")


def audit_url(
    url: str,
    *,
    session: requests.Session | None = None,
    min_side: int | None = None,
    max_bytes: int | None = None,
    timeout: float | None = None,
    require_public: bool | None = None,
) -> list[ImageIssue]:
    """Fetch one image as Genlook would and list what is wrong with it (empty: fine)."""
    min_side = int(min_side if min_side is not None else genlook_settings.IMAGE_MIN_SIDE)
    max_bytes = int(max_bytes if max_bytes is not None else genlook_settings.IMAGE_MAX_BYTES)
    timeout = float(timeout if timeout is not None else genlook_settings.IMAGE_AUDIT_TIMEOUT)
    if require_public is None:
        require_public = _talking_to_real_api()
    issues: list[ImageIssue] = []
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return [ImageIssue(url, "unreachable", "Not an absolute http(s) URL.")]
    if require_public and _is_private_host(parts.hostname):
        issues.append(
            ImageIssue(
                url,
                "not_public",
                f"{parts.hostname} is not reachable from the internet; Genlook cannot fetch "
                "it (set PUBLIC_BASE_URL, or serve media from public storage).",
            )
        )
    http = session or requests.Session()
    try:
        with http.get(url, timeout=timeout, stream=True) as response:
            if response.status_code != 200:
                return [*issues, ImageIssue(url, "unreachable", f"HTTP {response.status_code}.")]
            body = bytearray()
            for chunk in response.iter_content(64 * 1024):
                body.extend(chunk)
                if len(body) > max_bytes:
                    return [
                        *issues,
                        ImageIssue(url, "too_large", f"Larger than {max_bytes} bytes."),
                    ]
    except requests.RequestException as exc:
        return [*issues, ImageIssue(url, "unreachable", f"{type(exc).__name__}: {exc}")]
    finally:
        if session is None:
            http.close()
    return issues + _check_image(url, bytes(body), min_side)


def _check_image(url: str, content: bytes, min_side: int) -> list[ImageIssue]:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(content))
            image_format = image.format or "unknown"
            size = image.size
            image.verify()
    except Exception as exc:  # Pillow raises many kinds for unreadable bytes
        return [ImageIssue(url, "unsupported_type", f"Not a readable image ({exc}).")]
    issues = []
    if image_format not in SUPPORTED_FORMATS:
        issues.append(
            ImageIssue(url, "unsupported_type", f"{image_format}: use JPEG, PNG or WebP.")
        )
    if min(size) < min_side:
        issues.append(
            ImageIssue(
                url,
                "too_small",
                f"{size[0]}x{size[1]} px; at least {min_side} px on the short side.",
            )
        )
    return issues


def image_urls_for(row: SyncedProduct) -> list[str]:
    """The URLs the shop would push now (from the adapter), else those Genlook holds."""
    model = row.content_type.model_class()
    if model is not None and registry.is_registered(model):
        adapter = registry.get_adapter(model)
        instance = adapter.get_queryset().filter(pk=row.object_id).first()
        if instance is not None:
            return adapter.get_image_urls(instance)
    return row.image_urls


def audit_synced_product(row: SyncedProduct) -> list[ImageIssue]:
    """Audit one product's images and store the findings on its row."""
    issues: list[ImageIssue] = []
    try:
        urls = image_urls_for(row)
    except Exception as exc:  # an adapter error is itself a finding
        urls = []
        issues.append(ImageIssue("", "unreachable", f"Could not list the images: {exc}"))
    if not urls and not issues:
        issues.append(ImageIssue("", "unreachable", "The product has no image."))
    with requests.Session() as session:
        for url in urls:
            issues.extend(audit_url(url, session=session))
    row.image_issues = [issue.as_dict() for issue in issues]
    row.images_checked_at = timezone.now()
    row.save(update_fields=["image_issues", "images_checked_at", "updated_at"])
    if issues:
        logger.info("Image audit of %s: %d issue(s)", row.external_id, len(issues))
    return issues
