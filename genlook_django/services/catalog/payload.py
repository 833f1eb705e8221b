"""What ``POST /products`` receives for one product (``ProductPayload``), and the text and
image URL clean-ups that make it: plain-text descriptions, absolute URLs, URLs without
their signature (so a re-signed URL does not look like a changed product)."""

from __future__ import annotations

import hashlib
import html
import json
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from django.core.exceptions import ImproperlyConfigured
from django.utils.html import strip_tags

from genlook_django.conf import genlook_settings

PAYLOAD_VERSION = 1  # bump when the payload's shape changes: every product is pushed again


class ImageURLNotPublic(ImproperlyConfigured):
    """An image URL Genlook could not fetch: relative, with no ``PUBLIC_BASE_URL`` to prefix.

    A set-up error, not a property of the product: the sync records it as a failure (it
    does not withdraw products from Genlook), with the skip reason ``image_not_public``.
    """

    reason = "image_not_public"


def absolute_url(url: str, base_url: str | None = None) -> str:
    """``url`` made absolute with ``PUBLIC_BASE_URL`` (storages such as S3 already are)."""
    if urlsplit(url).scheme in ("http", "https"):
        return url
    if url.startswith("//"):
        return "https:" + url
    base = base_url if base_url is not None else genlook_settings.PUBLIC_BASE_URL
    if not base:
        raise ImageURLNotPublic(
            f"The image URL {url!r} is relative, and Genlook must fetch it from the internet: "
            'set GENLOOK = {"PUBLIC_BASE_URL": "https://your-shop.example"}.'
        )
    return urljoin(base.rstrip("/") + "/", url.lstrip("/"))


# Query parameters that sign a URL or make it expire, as storages add them to each ``url()``
# (S3 SigV2/SigV4, CloudFront, Google Cloud Storage, Alibaba OSS; Azure SAS when ``sig`` is
# there). They change on every read, so the content hash leaves them out.
_SIGNING_PREFIXES = ("x-amz-", "x-goog-", "x-oss-")
_SIGNING_PARAMS = frozenset(
    {"awsaccesskeyid", "googleaccessid", "ossaccesskeyid"}  # who signed
    | {"signature", "expires", "policy", "key-pair-id"}  # S3 SigV2, GCS V2, CloudFront
)
_AZURE_SAS_PARAMS = frozenset(
    {"sig", "sv", "ss", "srt", "sp", "se", "st", "spr", "sr", "si", "sdd", "ses"}
    | {"skoid", "sktid", "skt", "ske", "sks", "skv", "saoid", "suoid", "scid"}
)


def stable_image_url(url: str) -> str:
    """``url`` without the query parameters that sign it (what identifies the image).

    A storage with query-string authentication (S3's default ``querystring_auth``, GCS or
    Azure signed URLs) signs the URL anew on each ``url()`` call; hashing the signed form
    would make every product look changed on every sync.
    """
    parts = urlsplit(url)
    if not parts.query:
        return url
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    azure = any(name.lower() == "sig" for name, _ in pairs)

    def signing(name: str) -> bool:
        name = name.lower()
        return (
            name.startswith(_SIGNING_PREFIXES)
            or name in _SIGNING_PARAMS
            or (azure and name in _AZURE_SAS_PARAMS)
        )

    kept = [(name, value) for name, value in pairs if not signing(name)]
    if len(kept) == len(pairs):
        return url
    return urlunsplit(parts._replace(query=urlencode(kept)))


_HTML_TAG = re.compile(r"</?[a-zA-Z][^<>]*>|<!--.*?-->", re.DOTALL)
_HTML_ENTITY = re.compile(r"&(?:[a-zA-Z][a-zA-Z0-9]*|#[0-9]+|#[xX][0-9a-fA-F]+);")
_HTML_BREAK = re.compile(
    r"<\s*br\s*/?\s*>|</\s*(?:p|div|li|ul|ol|h[1-6]|tr|table|blockquote|section|article)\s*>",
    re.IGNORECASE,
)


def html_to_text(text: str) -> str:
    """Plain text from an HTML fragment (a rich text editor's description).

    Tags are removed (a ``<br>`` or the end of a paragraph, list item, heading... becomes a
    line break), entities unescaped (``&amp;`` -> ``&``), runs of spaces collapsed, blank
    lines kept single. Text with neither a tag nor an entity is returned unchanged.
    """
    if not (_HTML_TAG.search(text) or _HTML_ENTITY.search(text)):
        return text
    text = _HTML_BREAK.sub("\n", text)
    text = html.unescape(strip_tags(text)).replace("\xa0", " ")
    lines = [" ".join(line.split()) for line in text.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def present(text: str | None) -> str | None:
    """``text``, or None when it is blank: Genlook refuses empty strings, so a blank title
    or description is left out of the request rather than sent as ``""``."""
    return text if text and text.strip() else None


@dataclass(frozen=True)
class ProductPayload:
    """Exactly what ``POST /products`` receives for one product."""

    external_id: str
    title: str
    description: str
    image_urls: tuple[str, ...]
    metadata: dict[str, Any] = field(default_factory=dict)
    valid_for_days: int | None = None

    def as_body(self) -> dict[str, Any]:
        """The request body (``None``: left out of the request)."""
        return {
            "externalId": self.external_id,
            "title": present(self.title),
            "description": present(self.description),
            "images": [{"source": {"url": url}} for url in self.image_urls],
            "metadata": self.metadata,
            "validForDays": self.valid_for_days,
        }

    @property
    def content_hash(self) -> str:
        """SHA-256 over every pushed field (and the payload version), order-independent.

        Image URLs count without their signature (``stable_image_url``): a storage that
        signs each URL anew does not make an unchanged product look changed.
        """
        body = self.as_body()
        body["images"] = [{"source": {"url": stable_image_url(url)}} for url in self.image_urls]
        body["_v"] = PAYLOAD_VERSION
        data = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return hashlib.sha256(data.encode()).hexdigest()
