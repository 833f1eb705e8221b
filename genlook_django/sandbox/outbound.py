"""Outbound HTTP (product/person image URLs, webhooks), restricted to allowed hosts.

Hosts outside ``FETCH_ALLOWED_HOSTS`` are never contacted: the caller substitutes a drawn
placeholder instead. Hosts under the reserved ``.invalid`` TLD (RFC 2606) always fail
without any network access, which gives tests an easy way to provoke fetch failures.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urljoin, urlsplit

import requests

USER_AGENT = "genlook-sandbox/1"
IN_PROCESS_HOSTS = frozenset({"testserver"})  # Django's test client: no socket behind it
REDIRECTS = (301, 302, 303, 307, 308)
MAX_REDIRECTS = 3


class FetchError(Exception):
    """The URL was allowed but could not be fetched."""


class NotAllowed(Exception):
    """The URL's host is outside the allowed list: it was not contacted."""


def host_of(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


def check_allowed(url: str, allowed_hosts: Iterable[str]) -> None:
    """Raise NotAllowed or FetchError for URLs that must not be contacted."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("http", "https") or not host:
        raise FetchError(f"not an http(s) URL: {url!r}")
    if host == "invalid" or host.endswith(".invalid"):
        raise FetchError(f"host {host} does not resolve (reserved .invalid TLD)")
    if host not in {h.lower() for h in allowed_hosts}:
        raise NotAllowed(host)
    if host in IN_PROCESS_HOSTS:
        raise FetchError(f"host {host} only exists inside Django's test client")


def _session() -> requests.Session:
    session = requests.Session()
    session.trust_env = False  # never route loopback traffic through an environment proxy
    session.headers["User-Agent"] = USER_AGENT
    return session


def fetch_bytes(url: str, *, allowed_hosts: Iterable[str], timeout: float, max_bytes: int) -> bytes:
    """GET ``url`` (following redirects only to allowed hosts) and return its body."""
    allowed = tuple(allowed_hosts)
    with _session() as session:
        for _ in range(MAX_REDIRECTS + 1):
            check_allowed(url, allowed)
            try:
                response = session.get(url, timeout=timeout, stream=True, allow_redirects=False)
            except requests.RequestException as exc:
                raise FetchError(f"GET {url} failed: {exc}") from exc
            with response:
                if response.status_code in REDIRECTS and "Location" in response.headers:
                    url = urljoin(url, response.headers["Location"])
                    continue
                if response.status_code != 200:
                    raise FetchError(f"GET {url} answered HTTP {response.status_code}")
                return _read_capped(response, max_bytes, url)
    raise FetchError(f"GET {url}: too many redirects")


def _read_capped(response: requests.Response, max_bytes: int, url: str) -> bytes:
    body = bytearray()
    try:
        for chunk in response.iter_content(64 * 1024):
            body.extend(chunk)
            if len(body) > max_bytes:
                raise FetchError(f"GET {url}: body larger than {max_bytes} bytes")
    except requests.RequestException as exc:
        raise FetchError(f"GET {url} failed while reading: {exc}") from exc
    return bytes(body)


def post_json(
    url: str, body: bytes, *, timeout: float, headers: dict[str, str] | None = None
) -> int:
    """POST a JSON ``body`` without following redirects; the HTTP status, or FetchError."""
    with _session() as session:
        try:
            response = session.post(
                url,
                data=body,
                headers={"Content-Type": "application/json", **(headers or {})},
                timeout=timeout,
                allow_redirects=False,
            )
        except requests.RequestException as exc:
            raise FetchError(f"POST {url} failed: {exc}") from exc
        response.close()
        return response.status_code
