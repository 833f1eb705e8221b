"""Where a URL points, judged from the URL alone (no DNS lookup in a check)."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from django.conf import settings

from genlook_django.conf import OFFICIAL_BASE_URL

LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1", "0.0.0.0", "testserver"}  # noqa: S104
# Names only a local network resolves.
LOCAL_NAME_SUFFIXES = (".localhost", ".local", ".localdomain", ".internal", ".lan", ".home.arpa")


def points_at_sandbox(base_url: str) -> bool:
    parts = urlsplit(base_url)
    return parts.hostname in LOOPBACK_HOSTS or "/sandbox" in parts.path


def is_official_api(base_url: str) -> bool:
    """``base_url`` is Genlook's own API (normalised: case of scheme and host, port, slash)."""
    parts, official = urlsplit(base_url.strip()), urlsplit(OFFICIAL_BASE_URL)
    try:
        port = parts.port
    except ValueError:
        return False
    return (
        parts.scheme.lower() == official.scheme
        and (parts.hostname or "") == official.hostname
        and port in (None, 443)
        and parts.path.rstrip("/") == official.path.rstrip("/")
    )


def not_public(url: str) -> str | None:
    """Why Genlook's servers could not fetch from ``url``, judged from the URL alone."""
    parts = urlsplit(url)
    host = (parts.hostname or "").rstrip(".").lower()
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = None
    if address is not None:
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
            address = address.ipv4_mapped
        for kind in ("loopback", "link_local", "unspecified", "multicast", "private", "reserved"):
            if getattr(address, f"is_{kind}"):
                return f"{host} is a {kind.replace('_', '-')} address"
        if not address.is_global:
            return f"{host} is not a public address"
    elif host in LOOPBACK_HOSTS or "." not in host or host.endswith(LOCAL_NAME_SUFFIXES):
        return f"{host or 'its host'} is a local name"
    if parts.scheme != "https":
        return "it is not https"
    return None


def media_on_file_system() -> bool:
    """The default storage serves files at MEDIA_URL (S3 and the like have URLs of their own)."""
    storages = getattr(settings, "STORAGES", None) or {}
    backend = (storages.get("default") or {}).get("BACKEND", "")
    return not backend or backend.endswith("FileSystemStorage")
