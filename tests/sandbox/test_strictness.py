"""Outbound strictness: the sandbox fails where Genlook's servers could not fetch a URL.

Genlook fetches product and person image URLs from the internet. A loopback, private or
local host, or a name that does not resolve, ends a generation FAILED with
``PRODUCT_IMAGE_FETCH_FAILED`` (product images) or answers 400 ``CUSTOMER_IMAGE_FETCH_FAILED``
(person URLs), unless ``BESIDE_SHOP`` says the sandbox runs beside the shop.

No test here asks a DNS server anything (a fake resolver answers) or connects anywhere but
127.0.0.1: the private addresses below are refused before any connection.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from genlook_django.sandbox import outbound
from genlook_django.sandbox.conf import SandboxConfig, build_config
from genlook_django.sandbox.outbound import FetchError, NotAllowed, Target, check_allowed
from tests.sandbox.helpers import assert_error, eventually, inline_product, person

FETCH_FAILED = "PRODUCT_IMAGE_FETCH_FAILED"
# What the fake resolver knows; any other name "does not exist" (EAI_NONAME).
FAKE_DNS = {
    "images.shop-cdn.com": ["10.1.2.3"],  # a public-looking name with a private address
    "public-cdn.com": ["93.184.216.34"],  # a public address: never contacted
    "split-horizon.com": ["93.184.216.34", "127.0.0.1"],  # one private address is enough
    "shop.beside.test": ["127.0.0.1"],  # a local name of the shop's network
}


@pytest.fixture
def lookups(monkeypatch) -> Iterator[list[str]]:
    """Swap DNS for FAKE_DNS and record the names looked up."""
    seen: list[str] = []

    def fake(host: str, port: int) -> list[str]:
        seen.append(host)
        if host not in FAKE_DNS:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return list(FAKE_DNS[host])

    monkeypatch.setattr(outbound, "resolver", fake)
    return seen


@pytest.fixture
def strict(sandbox, lookups):
    """The default configuration (the test settings run the sandbox beside the shop)."""
    sandbox.state.configure(beside_shop=False)
    assert sandbox.state.config.fetch_allowed_hosts == ()
    return sandbox


@pytest.fixture
def beside_shop(sandbox, lookups):
    sandbox.state.configure(beside_shop=True)
    return sandbox


def start(api, photo_id, image_url, external_id="shirt-1"):
    body = {"products": [inline_product(external_id, image_url)], "person": person(photo_id)}
    response = api.try_on(body)
    assert response.status_code == 200, response.text
    return response.json()["generationId"]


def assert_fetch_failed(done):
    """FAILED as documented: errorCode, a human errorMessage, no result."""
    assert done["status"] == "FAILED", done
    assert done["errorCode"] == FETCH_FAILED
    assert isinstance(done["errorMessage"], str) and done["errorMessage"]
    assert "resultImageUrl" not in done


UNREACHABLE = [
    "http://10.0.0.5/products/shirt.jpg",
    "http://172.16.4.2/products/shirt.jpg",
    "http://192.168.1.20/products/shirt.jpg",
    "http://169.254.169.254/latest/meta-data/",
    "http://100.64.0.1/shirt.jpg",
    "http://0.0.0.0/shirt.jpg",
    "http://[::1]/shirt.jpg",
    "http://[fd00::5]/shirt.jpg",
    "http://[fe80::1]/shirt.jpg",
    "http://[::ffff:10.0.0.5]/shirt.jpg",
    "http://localhost/shirt.jpg",
    "http://shop.local/products/shirt.jpg",
    "http://media.internal/shirt.jpg",
    "http://web/shirt.jpg",
    "http://nonexistent.invalid/shirt.jpg",
    "https://unknown-name.com/shirt.jpg",  # does not resolve
    "https://images.shop-cdn.com/shirt.jpg",  # resolves to a private address
    "https://split-horizon.com/shirt.jpg",  # one of its addresses is loopback
]


# -- product images ---------------------------------------------------------------------------


def test_loopback_product_image_fails_the_generation(api, strict, media, garment_url, photo_id):
    before = api.credits()
    done = api.wait(start(api, photo_id, garment_url))  # http://127.0.0.1:<port>/...
    assert_fetch_failed(done)
    assert "loopback" in done["errorMessage"]
    assert "BESIDE_SHOP" in done["errorMessage"]  # says how to let it through
    assert media.requests_to("/products/red-tee.png") == []  # never contacted
    assert api.credits() == before  # a failed generation costs nothing


@pytest.mark.parametrize("url", UNREACHABLE)
def test_unreachable_product_image_fails_the_generation(api, strict, photo_id, url):
    assert_fetch_failed(api.wait(start(api, photo_id, url)))


def test_catalog_product_referenced_by_external_id_fails_too(
    api, strict, media, garment_url, photo_id
):
    created = api.post(
        "/products",
        json={"externalId": "tee", "title": "Tee", "images": [{"source": {"url": garment_url}}]},
    )
    assert created.status_code == 200, created.text  # registering does not fetch
    response = api.try_on({"products": [{"externalId": "tee"}], "person": person(photo_id)})
    assert response.status_code == 200, response.text
    assert_fetch_failed(api.wait(response.json()["generationId"]))
    assert media.requests_to("/products/red-tee.png") == []


def test_one_shot_product_fails_too(api, strict, photo_id):
    product = {"title": "Tee", "images": [{"source": {"url": "http://10.0.0.5/tee.png"}}]}
    response = api.try_on({"products": [product], "person": person(photo_id)})
    assert response.status_code == 200, response.text
    assert_fetch_failed(api.wait(response.json()["generationId"]))


def test_sync_reports_the_failure(api, strict, photo_id):
    body = {
        "products": [inline_product("shirt-1", "http://shop.local/shirt.jpg")],
        "person": person(photo_id),
    }
    response = api.post("/try-on/sync", json=body)
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "FAILED"
    assert response.json()["errorCode"] == FETCH_FAILED


def test_public_hosts_are_never_contacted_and_complete(api, strict, photo_id, lookups):
    for url in ("https://public-cdn.com/shirt.jpg", "https://cdn.example.com/shirt.jpg"):
        done = api.wait(start(api, photo_id, url))
        assert done["status"] == "COMPLETED", done  # a drawn swatch stood in
    assert lookups == ["public-cdn.com"]  # documentation names are not even looked up


def test_beside_the_shop_the_same_loopback_url_is_fetched(
    api, beside_shop, media, garment_url, photo_id
):
    done = api.wait(start(api, photo_id, garment_url))
    assert done["status"] == "COMPLETED", done
    assert media.requests_to("/products/red-tee.png", "GET")


def test_beside_the_shop_unresolvable_hosts_still_fail(api, beside_shop, photo_id):
    for url in ("http://nonexistent.invalid/a.jpg", "http://no-such-host.lan/a.jpg"):
        assert_fetch_failed(api.wait(start(api, photo_id, url)))


def test_the_connection_goes_to_the_checked_address(api, beside_shop, media, garment, photo_id):
    """The name is resolved once; the sandbox connects to that address (no second lookup
    that DNS rebinding could answer differently): the system resolver knows no such name."""
    media.serve("/products/pinned.png", garment)
    port = media.base_url.rsplit(":", 1)[1]
    url = f"http://shop.beside.test:{port}/products/pinned.png"
    assert api.wait(start(api, photo_id, url))["status"] == "COMPLETED"
    (received,) = media.requests_to("/products/pinned.png")
    assert received.headers["Host"] == f"shop.beside.test:{port}"


def test_an_explicit_allow_list_still_works_when_strict(api, strict, media, garment_url, photo_id):
    strict.state.configure(fetch_allowed_hosts=["127.0.0.1"])
    assert api.wait(start(api, photo_id, garment_url))["status"] == "COMPLETED"
    assert media.requests_to("/products/red-tee.png", "GET")


def test_a_redirect_to_a_private_host_fails(api, strict, photo_id, redirector):
    strict.state.configure(fetch_allowed_hosts=["127.0.0.1"])
    url = redirector("http://10.0.0.5/shirt.jpg")
    assert_fetch_failed(api.wait(start(api, photo_id, url)))


# -- person image URLs ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/me.png",
        "http://10.0.0.5/me.png",
        "http://shop.local/me.png",
        "http://nonexistent.invalid/me.png",
        "https://unknown-name.com/me.png",
    ],
)
def test_unreachable_person_url_is_a_synchronous_400(api, strict, garment_url, url):
    before = api.credits()
    body = {
        "products": [inline_product("shirt-1", garment_url)],
        "person": {"image": {"source": {"url": url}}},
    }
    assert_error(api.try_on(body), 400, "CUSTOMER_IMAGE_FETCH_FAILED")
    assert api.credits() == before


def test_person_url_on_the_shop(api, strict, media, person_photo, garment_url):
    photo_url = media.serve("/people/me.png", person_photo)
    body = {
        "products": [inline_product("shirt-1", "https://cdn.example.com/shirt.jpg")],
        "person": {"image": {"source": {"url": photo_url}}},
    }
    assert_error(api.try_on(body), 400, "CUSTOMER_IMAGE_FETCH_FAILED")
    assert media.requests_to("/people/me.png") == []

    strict.state.configure(beside_shop=True)
    created = api.try_on(body)
    assert created.status_code == 200, created.text
    assert media.requests_to("/people/me.png", "GET")


def test_the_sandbox_own_files_are_always_fetchable(api, strict, person_photo, photo_id):
    """Genlook's own storage is public: imageUrl of an upload works as a person URL."""
    uploaded = api.upload(person_photo)
    body = {
        "products": [inline_product("shirt-1", "https://cdn.example.com/shirt.jpg")],
        "person": {"image": {"source": {"url": uploaded["imageUrl"]}}},
    }
    created = api.try_on(body)
    assert created.status_code == 200, created.text


# -- webhooks ---------------------------------------------------------------------------------


def test_strict_webhooks_to_the_shop_fail_without_contact(
    api, strict, media, garment_url, photo_id
):
    strict.state.configure(fetch_allowed_hosts=["127.0.0.1"])  # images yes, webhooks...
    body = {
        "products": [inline_product("shirt-1", garment_url)],
        "person": person(photo_id),
        "webhook_url": "http://localhost:9/hooks/genlook",  # ...to a local name: no
    }
    created = api.try_on(body)
    assert created.status_code == 200, created.text
    state = strict.state
    assert eventually(lambda: [d.outcome for d in state.webhook_deliveries] == ["failed"])


# -- the rules, without HTTP --------------------------------------------------------------------


class Reach:
    def __init__(self, beside_shop=False, fetch_allowed_hosts=()):
        self.beside_shop = beside_shop
        self.fetch_allowed_hosts = tuple(fetch_allowed_hosts)


@pytest.mark.parametrize("url", [*UNREACHABLE, "http://127.0.0.1/a", "http://127.1/a"])
def test_rules_strict_refuses(url, lookups, monkeypatch):
    monkeypatch.setitem(FAKE_DNS, "127.1", ["127.0.0.1"])  # what the C resolver makes of it
    with pytest.raises(FetchError):
        check_allowed(url, Reach())


@pytest.mark.parametrize(
    ("url", "addresses"),
    [
        ("http://127.0.0.1:8000/media/a.png", ("127.0.0.1",)),
        ("http://10.0.0.5/a.png", ("10.0.0.5",)),
        ("http://[::1]:8000/a.png", ("::1",)),
        ("http://shop.beside.test/a.png", ("127.0.0.1",)),
        ("https://split-horizon.com/a.png", ("127.0.0.1",)),  # never the public address
    ],
)
def test_rules_beside_the_shop_contacts_private_addresses_only(url, addresses, lookups):
    target = check_allowed(url, Reach(beside_shop=True))
    assert target.addresses == addresses


@pytest.mark.parametrize(
    "url",
    [
        "https://public-cdn.com/a.png",
        "https://93.184.216.34/a.png",
        "https://cdn.example.com/a.png",
        "https://shop.example/a.png",
    ],
)
@pytest.mark.parametrize("beside_shop", [False, True])
def test_rules_public_hosts_are_not_contacted(url, beside_shop, lookups):
    with pytest.raises(NotAllowed):
        check_allowed(url, Reach(beside_shop=beside_shop))


def test_rules_an_unavailable_resolver_is_not_a_failure(monkeypatch):
    def offline(host, port):
        raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")

    monkeypatch.setattr(outbound, "resolver", offline)
    with pytest.raises(NotAllowed):  # cannot tell: taken for public (placeholder)
        check_allowed("https://cdn.shop.com/a.png", Reach())
    with pytest.raises(FetchError):  # a local name: unreachable for Genlook anyway
        check_allowed("http://shop.local/a.png", Reach(beside_shop=True))


def test_rules_allow_list(lookups):
    reach = Reach(fetch_allowed_hosts=["LocalHost", "127.0.0.1", "10.0.0.5"])
    assert check_allowed("http://127.0.0.1:5/a", reach) == Target("127.0.0.1", ("127.0.0.1",))
    assert check_allowed("http://10.0.0.5/a", reach).addresses == ("10.0.0.5",)
    with pytest.raises(FetchError):
        check_allowed("http://localhost/a", reach)  # allowed, but the fake DNS has no answer
    with pytest.raises(FetchError):
        check_allowed("http://testserver/a", Reach(fetch_allowed_hosts=["testserver"]))


def test_unvetted_connections_are_refused(media, garment):
    url = media.serve("/products/direct.png", garment)
    with outbound._session() as session, pytest.raises(outbound.Unvetted):
        session.get(url, timeout=5)
    assert media.requests_to("/products/direct.png") == []


# -- configuration --------------------------------------------------------------------------


def test_strict_is_the_default(settings):
    assert SandboxConfig().beside_shop is False
    assert SandboxConfig().fetch_allowed_hosts == ()
    settings.GENLOOK_SANDBOX = {}
    assert build_config({}).beside_shop is False
    settings.GENLOOK_SANDBOX = {"BESIDE_SHOP": True, "FETCH_ALLOWED_HOSTS": ["Img.Lan"]}
    config = build_config({})
    assert config.beside_shop is True
    assert config.fetch_allowed_hosts == ("img.lan",)


@pytest.mark.parametrize("options", [{"beside_shop": "yes"}, {"fetch_allowed_hosts": "127.0.0.1"}])
def test_bad_values_are_refused(options):
    with pytest.raises(ValueError):
        SandboxConfig(**options)


# -- helpers --------------------------------------------------------------------------------


@pytest.fixture
def redirector() -> Iterator:
    """A 127.0.0.1 server answering every GET with a redirect to the given location."""
    location = {"to": ""}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(302)
            self.send_header("Location", location["to"])
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()

    def make(to: str) -> str:
        location["to"] = to
        return f"http://127.0.0.1:{server.server_address[1]}/shirt.jpg"

    yield make
    server.shutdown()
    server.server_close()
