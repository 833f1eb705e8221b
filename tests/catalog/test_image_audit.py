"""The catalog image audit flags what would fail at Genlook before a credit is spent."""

from __future__ import annotations

import pytest

from genlook_django.models import SyncedProduct
from genlook_django.services.catalog import image_audit
from genlook_django.services.catalog.image_audit import audit_url
from tests.support.images import image_bytes


@pytest.fixture
def serve(_media_server, tmp_path):
    """Write bytes under the loopback media server; returns their URL."""
    origin, root = _media_server

    def put(name: str, content: bytes) -> str:
        path = root / tmp_path.name / "audit" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        return f"{origin}/{tmp_path.name}/audit/{name}"

    return put


def problems(issues) -> list[str]:
    return [issue.problem for issue in issues]


def test_a_good_image_passes(genlook, serve):
    assert audit_url(serve("good.png", image_bytes((600, 800)))) == []
    assert audit_url(serve("good.jpg", image_bytes((600, 800), "JPEG"))) == []
    assert audit_url(serve("good.webp", image_bytes((600, 800), "WEBP"))) == []


def test_too_small(genlook, serve):
    issues = audit_url(serve("tiny.png", image_bytes((8, 10))))
    assert problems(issues) == ["too_small"]
    assert "8x10" in issues[0].message


def test_unsupported_types(genlook, serve):
    assert problems(audit_url(serve("anim.gif", image_bytes((600, 600), "GIF")))) == [
        "unsupported_type"
    ]
    assert problems(audit_url(serve("notes.png", b"not an image at all" * 10))) == [
        "unsupported_type"
    ]


def test_unreachable(genlook, serve, public_base_url):
    assert problems(audit_url(f"{public_base_url}/missing.png")) == ["unreachable"]
    assert problems(audit_url("http://127.0.0.1:9/closed.png", timeout=2)) == ["unreachable"]
    assert problems(audit_url("/relative.png")) == ["unreachable"]


def test_too_large(genlook, serve):
    url = serve("big.png", image_bytes((600, 800)))
    assert problems(audit_url(url, max_bytes=1000)) == ["too_large"]


def test_private_hosts_are_flagged_for_the_real_api(genlook, serve, settings):
    url = serve("good.png", image_bytes((600, 800)))
    assert audit_url(url) == []  # the sandbox on this machine can fetch it
    settings.GENLOOK = {**settings.GENLOOK, "BASE_URL": "https://api.genlook.app/tryon/v1"}
    assert problems(audit_url(url)) == ["not_public"]


def test_audit_of_a_synced_product_is_stored_on_its_row(genlook, synced):
    synced(image=image_bytes((100, 120)))
    row = SyncedProduct.objects.get()
    issues = image_audit.audit_synced_product(row)

    assert problems(issues) == ["too_small"]
    row.refresh_from_db()
    assert row.images_checked_at is not None
    assert row.image_issues[0]["problem"] == "too_small"
    assert genlook.state.count("POST", "/try-on") == 0  # no credit spent to find out
