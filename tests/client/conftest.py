import io
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from genlook_django.client import GenlookClient, LocalRateLimiter

PERSON_PHOTO = Path(__file__).resolve().parent.parent / "media" / "person-astronaut.png"


class SleepRecorder:
    """Stands in for time.sleep: records each backoff, waits only a token amount."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)
        time.sleep(min(seconds, 0.05))


@pytest.fixture
def person_bytes() -> bytes:
    return PERSON_PHOTO.read_bytes()


@pytest.fixture
def garment_bytes() -> bytes:
    """A red T-shirt silhouette on white, drawn on the spot."""
    image = Image.new("RGB", (400, 480), "white")
    draw = ImageDraw.Draw(image)
    draw.polygon(
        [
            (120, 60),
            (280, 60),
            (380, 140),
            (330, 190),
            (300, 160),
            (300, 440),
            (100, 440),
            (100, 160),
            (70, 190),
            (20, 140),
        ],
        fill=(200, 30, 40),
    )
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


@pytest.fixture
def garment_url(garment_bytes: bytes) -> Iterator[str]:
    """The garment served over HTTP on loopback, as a shop's media server would."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path != "/tshirt.png":
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.send_header("Content-Length", str(len(garment_bytes)))
            self.end_headers()
            self.wfile.write(garment_bytes)

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/tshirt.png"
    server.shutdown()
    server.server_close()


@pytest.fixture
def sleeps() -> SleepRecorder:
    return SleepRecorder()


@pytest.fixture
def make_client(genlook_sandbox, sleeps):
    """A client on the sandbox with a fresh budget and recorded (not slept) backoffs."""

    def make(**overrides) -> GenlookClient:
        options = {
            "base_url": genlook_sandbox.base_url,
            "rate_limiter": LocalRateLimiter(1000, 60),
            "sleep": sleeps,
            "read_timeout": 10,
        }
        options.update(overrides)
        api_key = options.pop("api_key", genlook_sandbox.api_key)
        return GenlookClient(api_key, **options)

    return make


@pytest.fixture
def client(make_client) -> GenlookClient:
    return make_client()
