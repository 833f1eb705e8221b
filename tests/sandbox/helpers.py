"""Helpers for the sandbox contract tests: plain ``requests`` calls written from the public docs
(never the project's client), a shop-like media/webhook server, assertions on the error shape."""

from __future__ import annotations

import io
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

import requests
from PIL import Image, ImageDraw

CONTROL_TOKEN_HEADER = "x-sandbox-control-token"  # docs/sandbox.md, "Control endpoints"


class Api:
    """Plain HTTP calls to the sandbox, the way the docs describe them."""

    def __init__(
        self, base_url: str, api_key: str | None, control_token: str | None = None
    ) -> None:
        self.base_url = base_url
        self.api_key = api_key
        self.control_token = control_token  # sent to the _sandbox/ control endpoints only
        self.session = requests.Session()
        self.session.trust_env = False

    def headers(self, api_key: str | None = None) -> dict[str, str]:
        key = api_key or self.api_key
        return {"x-api-key": key} if key else {}

    def request(self, method: str, path: str, *, api_key: str | None = None, **kwargs: Any):
        headers = {**self.headers(api_key), **kwargs.pop("headers", {})}
        if path.startswith("/_sandbox/") and self.control_token:
            headers.setdefault(CONTROL_TOKEN_HEADER, self.control_token)
        kwargs.setdefault("timeout", 10)
        return self.session.request(method, self.base_url + path, headers=headers, **kwargs)

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("POST", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("DELETE", path, **kwargs)

    # -- the documented flows, spelled out once ---------------------------------------------

    def upload(self, photo: bytes, **fields: str) -> dict[str, Any]:
        response = self.post(
            "/images/upload", files={"file": ("me.png", photo, "image/png")}, data=fields
        )
        assert response.status_code == 200, response.text
        return response.json()

    def try_on(self, body: dict[str, Any], **kwargs: Any) -> requests.Response:
        return self.post("/try-on", json=body, **kwargs)

    def wait(self, generation_id: str, timeout: float = 10.0, **kwargs: Any) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            body = self.get(f"/generations/{generation_id}", **kwargs).json()
            if body["status"] in ("COMPLETED", "FAILED") or time.monotonic() > deadline:
                return body
            time.sleep(0.05)

    def credits(self, api_key: str | None = None) -> int:
        return self.get("/account/credits", api_key=api_key).json()["creditBalance"]


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class MediaServer:
    """A shop-like HTTP server on loopback: serves product images, receives webhooks."""

    base_url: str = ""
    files: dict[str, tuple[bytes, str]] = field(default_factory=dict)
    received: list[Received] = field(default_factory=list)
    webhook_statuses: list[int] = field(default_factory=list)  # answers to give, in order
    arrived: threading.Condition = field(default_factory=threading.Condition)

    def url(self, path: str) -> str:
        return self.base_url + path

    def serve(self, path: str, content: bytes, content_type: str = "image/png") -> str:
        self.files[path] = (content, content_type)
        return self.url(path)

    def requests_to(self, path: str, method: str | None = None) -> list[Received]:
        return [r for r in self.received if r.path == path and method in (None, r.method)]

    def wait_for(self, count: int, path: str, timeout: float = 5.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        with self.arrived:
            while len(self.requests_to(path)) < count and time.monotonic() < deadline:
                self.arrived.wait(0.05)
        return self.requests_to(path)


def media_handler(media: MediaServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _record(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            with media.arrived:
                media.received.append(
                    Received(self.command, self.path, dict(self.headers), self.rfile.read(length))
                )
                media.arrived.notify_all()

        def do_GET(self) -> None:
            self._record()
            content, content_type = media.files.get(self.path, (b"", ""))
            if not content_type:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(content)))
            self.end_headers()
            self.wfile.write(content)

        def do_POST(self) -> None:
            self._record()
            status = media.webhook_statuses.pop(0) if media.webhook_statuses else 200
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    return Handler


def draw_garment(colour: tuple[int, int, int] = (200, 30, 40), fmt: str = "PNG") -> bytes:
    """A T-shirt silhouette on a white background."""
    image = Image.new("RGB", (400, 480), "white")
    shirt = [(120, 60), (280, 60), (380, 140), (330, 190), (300, 160), (300, 440), (100, 440),
             (100, 160), (70, 190), (20, 140)]  # fmt: skip
    ImageDraw.Draw(image).polygon(shirt, fill=colour)
    out = io.BytesIO()
    image.save(out, fmt)
    return out.getvalue()


def person(image_id: str) -> dict[str, Any]:
    return {"image": {"source": {"id": image_id}}}


def inline_product(external_id: str, image_url: str, title: str = "Red tee") -> dict[str, Any]:
    return {
        "externalId": external_id,
        "title": title,
        "description": "A cotton T-shirt",
        "images": [{"source": {"url": image_url}}],
    }


def assert_error(
    response: requests.Response, status: int, code: str, *, detail_path: str | None = None
) -> dict[str, Any]:
    """The documented error shape: ``{code, message, status}`` (+ ``details`` on validation)."""
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["code"] == code, body
    assert body["status"] == status
    assert isinstance(body["message"], str) and body["message"]
    if code == "VALIDATION_FAILED":
        assert body["details"], body
        for detail in body["details"]:
            assert set(detail) == {"path", "message"}
        if detail_path is not None:
            assert detail_path in [d["path"] for d in body["details"]], body["details"]
    else:
        assert "details" not in body
    return body


def eventually(predicate: Callable[[], bool], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True
