"""Outbound HTTP (product/person image URLs, webhooks): only what Genlook itself could reach.

Genlook's servers fetch URLs from the internet, so by default the sandbox is as strict as
they are. ``check_allowed`` sorts a URL into one of three answers:

- **unreachable** (``FetchError``, the fetch fails as Genlook's would): not http(s); a host
  under the reserved ``.invalid`` TLD; ``testserver`` (Django's test client, no socket);
  an IP literal that is not globally routable (loopback, private, link-local, shared,
  reserved, multicast, unspecified; IPv4, IPv6, IPv4-mapped IPv6); a local name
  (``localhost``, a single label, ``*.local``, ``*.internal``, ...); a name that does not
  resolve; a name with any non-public address among those it resolves to.
- **public** (``NotAllowed``): Genlook could fetch it, but the sandbox never reaches the
  internet; the caller substitutes a drawn placeholder. The documentation names of RFC 2606
  (``example.com``/``.net``/``.org``, ``*.example``) count as public without a lookup.
- **contact it** (a ``Target``): a host in ``FETCH_ALLOWED_HOSTS`` (any address), or, with
  ``BESIDE_SHOP`` (the sandbox runs on the shop's machine or network), a loopback/private
  address or local name. Only the non-public addresses are contacted then, never the internet.

A name is resolved once, here, and the connection goes to the addresses that were checked
(they are pinned), not to whatever a second lookup returns: no DNS rebinding.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urljoin, urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError

USER_AGENT = "genlook-sandbox/1"
IN_PROCESS_HOSTS = frozenset({"testserver"})  # Django's test client: no socket behind it
REDIRECTS = (301, 302, 303, 307, 308)
MAX_REDIRECTS = 3
# Names that only mean something on a local network (RFC 6761/6762/8375, ICANN's
# ".internal", and the usual private suffixes): Genlook's resolvers cannot know them.
LOCAL_SUFFIXES = (
    "localhost",
    "localdomain",
    "local",
    "internal",
    "intranet",
    "lan",
    "home",
    "home.arpa",
    "corp",
    "private",
    "test",
)
# RFC 2606 names for documentation: stand-ins for public hosts, never looked up.
DOCUMENTATION_NAMES = ("example", "example.com", "example.net", "example.org")
STRICT_HINT = (
    "Genlook's servers cannot reach it (the sandbox is strict like them; "
    "set GENLOOK_SANDBOX['BESIDE_SHOP'] = True when it runs beside the shop)"
)


class FetchError(Exception):
    """The URL could not be fetched (unreachable for Genlook, or the fetch itself failed)."""


class TooLarge(FetchError):
    """The body was larger than the caller accepts."""


class NotAllowed(Exception):
    """A public host Genlook could reach: the sandbox does not contact the internet."""


class Unvetted(Exception):
    """A connection to a host that ``check_allowed`` did not clear (never sent)."""


class Reach(Protocol):
    """What decides where the sandbox may connect (``SandboxConfig`` has both)."""

    beside_shop: bool
    fetch_allowed_hosts: tuple[str, ...]


@dataclass(frozen=True)
class Target:
    """A host the sandbox may contact, and the only addresses it may connect to."""

    host: str
    addresses: tuple[str, ...]


Resolver = Callable[[str, int], list[str]]


def resolve(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to (``socket.gaierror`` when it does not)."""
    found: list[str] = []
    for *_, sockaddr in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM):
        address = str(sockaddr[0]).split("%", 1)[0]
        if address not in found:
            found.append(address)
    return found


# Tests swap this for a fake: the suite never asks a real DNS server anything.
resolver: Resolver = resolve


def host_of(url: str) -> str:
    return _normal_host(urlsplit(url).hostname or "")


def _normal_host(host: str) -> str:
    return host.strip("[]").rstrip(".").lower()


def _ip(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def non_public_kind(address: str) -> str | None:
    """Why an IP address is not reachable from the internet ("loopback", ...), or None."""
    ip = _ip(address)
    if ip is None:
        return "unparsable"
    if ip.is_loopback:
        return "loopback"
    if ip.is_link_local:
        return "link-local"
    if ip.is_unspecified:
        return "unspecified"
    if ip.is_multicast:
        return "multicast"
    if ip.is_private or (isinstance(ip, ipaddress.IPv6Address) and ip.is_site_local):
        return "private"
    if ip.is_reserved or not ip.is_global:
        return "reserved"
    return None


def _has_suffix(host: str, suffixes: Iterable[str]) -> bool:
    return any(host == suffix or host.endswith("." + suffix) for suffix in suffixes)


def is_local_name(host: str) -> bool:
    """A name only a local network can resolve (no dot, or a local-only suffix)."""
    return "." not in host or _has_suffix(host, LOCAL_SUFFIXES)


def check_allowed(url: str, reach: Reach, *, lookup: Resolver | None = None) -> Target:
    """The addresses the sandbox may connect to for ``url``; raise FetchError or NotAllowed."""
    lookup = lookup or resolver
    parts = urlsplit(url)
    host = _normal_host(parts.hostname or "")
    if parts.scheme not in ("http", "https") or not host:
        raise FetchError(f"not an http(s) URL: {url!r}")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise FetchError(f"bad port in {url!r}") from exc
    if _has_suffix(host, ("invalid",)):
        raise FetchError(f"host {host} does not resolve (reserved .invalid TLD)")
    if host in IN_PROCESS_HOSTS:
        raise FetchError(f"host {host} only exists inside Django's test client")
    allowed = host in {_normal_host(h) for h in reach.fetch_allowed_hosts}
    literal = _ip(host)
    if literal is not None:
        kind = non_public_kind(host)
        if allowed or (kind and reach.beside_shop):
            return Target(host, (host,))
        if kind:
            raise FetchError(f"{host} is a {kind} address: {STRICT_HINT}")
        raise NotAllowed(host)
    if not allowed and _has_suffix(host, DOCUMENTATION_NAMES):
        raise NotAllowed(host)
    local = is_local_name(host)
    if local and not allowed and not reach.beside_shop:
        raise FetchError(f"{host} is a local name: {STRICT_HINT}")
    try:
        addresses = lookup(host, port)
    except (socket.gaierror, UnicodeError) as exc:
        if local or allowed or _unknown_name(exc):
            raise FetchError(f"host {host} does not resolve ({exc})") from exc
        raise NotAllowed(host) from exc  # no resolver at hand (offline): treat it as public
    if not addresses:
        raise FetchError(f"host {host} does not resolve")
    if allowed:
        return Target(host, tuple(addresses))
    private = [(address, kind) for address in addresses if (kind := non_public_kind(address))]
    if not private:
        raise NotAllowed(host)
    if not reach.beside_shop:
        address, kind = private[0]
        raise FetchError(f"{host} resolves to {address}, a {kind} address: {STRICT_HINT}")
    return Target(host, tuple(address for address, _ in private))


def _unknown_name(exc: Exception) -> bool:
    """The resolver answered "no such name" (not "cannot tell right now")."""
    if isinstance(exc, UnicodeError):
        return True
    codes = {getattr(socket, name, None) for name in ("EAI_NONAME", "EAI_NODATA", "EAI_FAIL")}
    return getattr(exc, "errno", None) in codes - {None}


# -- pinned connections ---------------------------------------------------------------------

_TARGET: ContextVar[Target | None] = ContextVar("genlook_sandbox_target", default=None)


def _connect_pinned(connection: HTTPConnection, connect: Callable[[], socket.socket]):
    """Connect to the vetted addresses of the current target, in turn, and to nothing else."""
    target = _TARGET.get()
    if target is None or _normal_host(connection.host) != target.host:
        raise Unvetted(f"{connection.host} was not checked before connecting")
    original = connection._dns_host
    error: Exception | None = None
    for address in target.addresses:
        connection._dns_host = address  # what urllib3 resolves; Host and SNI keep the name
        try:
            return connect()
        except (NewConnectionError, ConnectTimeoutError) as exc:
            error = exc
        finally:
            connection._dns_host = original
    raise error or Unvetted(f"no address to connect to for {target.host}")


class _PinnedHTTPConnection(HTTPConnection):
    def _new_conn(self) -> socket.socket:
        return _connect_pinned(self, super()._new_conn)


class _PinnedHTTPSConnection(HTTPSConnection):
    def _new_conn(self) -> socket.socket:
        return _connect_pinned(self, super()._new_conn)


class _PinnedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _PinnedHTTPConnection


class _PinnedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _PinnedHTTPSConnection


class _PinnedAdapter(HTTPAdapter):
    def init_poolmanager(self, *args, **kwargs) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            "http": _PinnedHTTPPool,
            "https": _PinnedHTTPSPool,
        }


def _session() -> requests.Session:
    session = requests.Session()
    session.trust_env = False  # never route loopback traffic through an environment proxy
    session.headers["User-Agent"] = USER_AGENT
    adapter = _PinnedAdapter()
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


@contextmanager
def _pinned(target: Target) -> Iterator[None]:
    """Connections opened meanwhile go to ``target``'s addresses, and only there."""
    token = _TARGET.set(target)
    try:
        yield
    finally:
        _TARGET.reset(token)


# -- requests -------------------------------------------------------------------------------


def fetch_bytes(url: str, *, reach: Reach, timeout: float, max_bytes: int) -> bytes:
    """GET ``url`` (each redirect checked like the first URL) and return its body."""
    with _session() as session:
        for _ in range(MAX_REDIRECTS + 1):
            target = check_allowed(url, reach)
            try:
                with _pinned(target):
                    response = session.get(url, timeout=timeout, stream=True, allow_redirects=False)
            except requests.RequestException as exc:
                raise FetchError(f"GET {url} failed: {exc}") from exc
            except Unvetted as exc:
                raise FetchError(f"GET {url} refused: {exc}") from exc
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
                raise TooLarge(f"GET {url}: body larger than {max_bytes} bytes")
    except requests.RequestException as exc:
        raise FetchError(f"GET {url} failed while reading: {exc}") from exc
    return bytes(body)


def post_json(
    url: str,
    body: bytes,
    *,
    timeout: float,
    headers: dict[str, str] | None = None,
    target: Target,
) -> int:
    """POST a JSON ``body`` without following redirects; the HTTP status, or FetchError.

    ``target`` is what ``check_allowed(url, ...)`` returned: the addresses to connect to.
    """
    with _session() as session:
        try:
            with _pinned(target):
                response = session.post(
                    url,
                    data=body,
                    headers={"Content-Type": "application/json", **(headers or {})},
                    timeout=timeout,
                    allow_redirects=False,
                )
        except requests.RequestException as exc:
            raise FetchError(f"POST {url} failed: {exc}") from exc
        except Unvetted as exc:
            raise FetchError(f"POST {url} refused: {exc}") from exc
        response.close()
        return response.status_code
