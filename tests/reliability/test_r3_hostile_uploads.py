import pytest
from django.test import Client
from django.urls import reverse
from tests.storefront.conftest import ME, TRY_ONS, product_ref  # noqa
from tests.storefront.conftest import storefront, product, make_product, genlook, _media_server, shop_adapter, adapter_for  # noqa
from tests.storefront import images

pytestmark = pytest.mark.django_db(transaction=True)


def mp(boundary, parts):
    out = b""
    for headers, body in parts:
        out += b"--" + boundary + b"\r\n" + headers + b"\r\n\r\n" + body + b"\r\n"
    return out + b"--" + boundary + b"--\r\n"


def test_probe(storefront, product, settings):
    settings.GENLOOK = {**settings.GENLOOK, "UPLOAD_QUOTA": None, "IP_UPLOAD_QUOTA": None}
    c = Client(enforce_csrf_checks=True, raise_request_exception=False)
    c.get(ME)
    tok = c.cookies["csrftoken"].value
    ref = product_ref(product).encode()
    B = b"XyZ"
    ok = [(b'Content-Disposition: form-data; name="product"', ref),
          (b'Content-Disposition: form-data; name="consent"', b"true")]
    photo = [(b'Content-Disposition: form-data; name="photo"; filename="a.jpg"\r\nContent-Type: image/jpeg', images.jpeg((300, 300)))]
    def post(body, ct="multipart/form-data; boundary=XyZ", url=TRY_ONS, **extra):
        r = c.generic("POST", url, body, content_type=ct, headers={"X-CSRFToken": tok}, **extra)
        print(repr(r.status_code), r.content[:200], r.get("Content-Type"))
        return r
    post(mp(B, ok + photo), CONTENT_LENGTH="\u00b2")
    post(b"[" * 100000 + b"]" * 100000, ct="application/json")
    many = [(b'Content-Disposition: form-data; name="photo"; filename="a%d.jpg"' % i, b"x") for i in range(101)]
    post(mp(B, ok + many))
    post(mp(B, ok + [(b'Content-Disposition: form-data; name="photo"', b"x" * 3_000_000)]))
    post(mp(B, ok + [(b'Content-Disposition: form-data; name="f%d"' % i, b"x") for i in range(1001)]))
    post(b"a=1&" * 1200, ct="application/x-www-form-urlencoded")
    post(mp(B, ok + photo), url=ME)
    post(b'{"a": 1}', ct="application/json", url=ME)
    post(mp(B, ok + [(b'Content-Disposition: form-data; name="photo"; filename="' + b"a" * 10000 + b'.jpg"', images.jpeg((300,300)))]))
    post(mp(B, ok + [(b'Content-Disposition: form-data; name="photo"; filename="a\x00b.jpg"', images.jpeg((300,300)))]))
    post(mp(B, ok + [(b'Content-Disposition: form-data; name="photo"; filename="../../etc/passwd"', images.jpeg((300,300)))]))
    post(images.jpeg((300, 300)), ct="image/jpeg")
    post(b'{"product": "%s", "consent": true, "photo": "abc"}' % ref, ct="application/json")
    post(b'{"product": "%s", "consent": true, "photo": {"a": [1]}}' % ref, ct="application/json")
