"""Plain HTTP calls in Genlook's classic dialect, written from the classic page only
(``POST /v1/try-on`` with image URLs, ``Authorization: Bearer``, nested errors)."""

from __future__ import annotations

import time
from typing import Any

import requests

CATEGORIES = ("tops", "bottoms", "dresses", "outerwear", "eyewear", "caps")


class ClassicApi:
    def __init__(self, base_url: str, api_key: str | None) -> None:
        self.base_url = base_url
        self.api_key = api_key
        self.session = requests.Session()
        self.session.trust_env = False

    def request(self, method: str, path: str, *, api_key: str | None = None, **kwargs: Any):
        key = api_key or self.api_key
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        headers.update(kwargs.pop("headers", {}))
        kwargs.setdefault("timeout", 10)
        return self.session.request(method, self.base_url + path, headers=headers, **kwargs)

    def create(self, body: dict[str, Any], **kwargs: Any) -> requests.Response:
        return self.request("POST", "/v1/try-on", json=body, **kwargs)

    def batch(self, body: dict[str, Any], **kwargs: Any) -> requests.Response:
        return self.request("POST", "/v1/try-on/batch", json=body, **kwargs)

    def status(self, generation_id: str, **kwargs: Any) -> requests.Response:
        return self.request("GET", f"/v1/try-on/{generation_id}", **kwargs)

    def wait(self, generation_id: str, timeout: float = 10.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            body = self.status(generation_id).json()
            if body["status"] != "processing" or time.monotonic() > deadline:
                return body
            time.sleep(0.05)


def try_on(model_url: str, garment_url: str, category: str = "tops", **extra: Any):
    return {"model_image": model_url, "garment_image": garment_url, "category": category, **extra}


def assert_classic_error(response: requests.Response, status: int, code: str) -> dict[str, Any]:
    """The page's error shape: ``{"error": {"code", "message", "details": {}}}``."""
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}, body
    error = body["error"]
    assert set(error) == {"code", "message", "details"}, error
    assert error["code"] == code, error
    assert isinstance(error["message"], str) and error["message"]
    assert isinstance(error["details"], dict)
    return error
