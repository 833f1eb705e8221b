"""A scripted HTTP server for the answers the sandbox never gives (a gateway's 504, a 200
body without a status), counting what it received."""

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Script:
    def __init__(self, answers: list[tuple[int, dict | None]]) -> None:
        self.answers = answers
        self.received: list[tuple[str, str]] = []


@contextmanager
def stub_server(answers: list[tuple[int, dict | None]]) -> Iterator[tuple[str, Script]]:
    """Serve ``answers`` in order (the last one repeats); yields (base_url, script)."""
    script = Script(answers)

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            self.rfile.read(length)
            script.received.append((self.command, self.path))
            index = min(len(script.received), len(script.answers)) - 1
            status, body = script.answers[index]
            payload = json.dumps(body).encode() if body is not None else b""
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_DELETE = _answer

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/tryon/v1", script
    finally:
        server.shutdown()
        server.server_close()
