"""``SandboxServer``: the sandbox on a real socket, in this process, for tests and demos.

    with SandboxServer(api_keys={"gk_x": 50}) as sandbox:
        requests.get(f"{sandbox.base_url}/account/credits", headers={"x-api-key": "gk_x"})
        requests.post(f"{sandbox.base_url}/_sandbox/credits", json={"credits": 0},
                      headers=sandbox.control_headers)  # the control token + x-api-key

It serves only the sandbox (v1 at ``/tryon/v1/``, the classic API at ``/v1/``), whatever the
host project's ROOT_URLCONF and MIDDLEWARE: a remote API does not run the shop's middleware.
"""

from __future__ import annotations

import socket
import socketserver
import threading
from collections.abc import Mapping
from types import TracebackType
from typing import Any

from django.core.handlers.exception import convert_exception_to_response
from django.core.handlers.wsgi import WSGIHandler, WSGIRequest
from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler
from django.http import HttpResponseBase

from genlook_django.sandbox.conf import CONTROL_TOKEN_HEADER, check_control_token
from genlook_django.sandbox.pipeline import ORIGIN_ENVIRON_KEY, STATE_ENVIRON_KEY
from genlook_django.sandbox.state import SandboxState, get_state

STANDALONE_URLCONF = "genlook_django.sandbox.standalone_urls"
API_PATH = "/tryon/v1"
DEFAULT_API_KEY = "gk_sandbox"  # used when no key is given here nor in settings
# Not a binding: which loopback name to print when the server listens on every interface.
WILDCARD_HOSTS = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}  # noqa: S104


class SandboxWSGIHandler(WSGIHandler):
    """Django's WSGI handler with the sandbox's urlconf and no middleware."""

    origin = ""
    origin_from_host = False
    state: SandboxState | None = None

    def load_middleware(self, is_async: bool = False) -> None:
        self._view_middleware = []
        self._template_response_middleware = []
        self._exception_middleware = []
        self._middleware_chain = convert_exception_to_response(self._get_response)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        # Bound to every interface, the origin is whatever name the client used.
        host = environ.get("HTTP_HOST") if self.origin_from_host else None
        environ[ORIGIN_ENVIRON_KEY] = f"http://{host}" if host else self.origin
        environ[STATE_ENVIRON_KEY] = self.state
        return super().__call__(environ, start_response)

    def get_response(self, request: WSGIRequest) -> HttpResponseBase:
        request.urlconf = STANDALONE_URLCONF
        response = super().get_response(request)
        # Without a Content-Length the server closes the connection after each answer;
        # with one, HTTP/1.1 clients keep it alive (what requests.Session expects).
        if not response.streaming and not response.has_header("Content-Length"):
            response["Content-Length"] = str(len(response.content))  # type: ignore[attr-defined]
        return response


class _QuietRequestHandler(WSGIRequestHandler):
    # Headers and body leave in separate writes; without TCP_NODELAY a keep-alive client
    # waits ~40 ms per answer for a delayed ACK (Nagle's algorithm).
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _SandboxHTTPServer(ThreadedWSGIServer):
    request_queue_size = 128  # benchmarks open many connections at once

    def server_bind(self) -> None:
        # HTTPServer.server_bind would call socket.getfqdn(), a name lookup we do not need.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]
        self.setup_environ()

    def _close_connections(self) -> None:
        pass  # the sandbox never opens database connections

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # clients that hang up (timeouts, fault injection) are business as usual


class SandboxServer:
    """A threaded HTTP server on 127.0.0.1 and a free port, serving ``state``."""

    def __init__(
        self,
        api_keys: Mapping[str, Any] | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        state: SandboxState | None = None,
        control_token: str | None = None,
        **config: Any,
    ) -> None:
        self.state = state or get_state()
        self._api_keys = dict(api_keys or {})
        self._control_token = None if control_token is None else check_control_token(control_token)
        self._config = config
        self._address = (host, port)
        self._server: _SandboxHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ----------------------------------------------------------------------------

    def start(self) -> SandboxServer:
        if self._server is not None:
            return self
        if self._control_token is not None:
            self.state.set_control_token(self._control_token)
        self.state.seed(self._api_keys, owner=self, **self._config)
        if not self.state.api_keys:
            self.state.seed({DEFAULT_API_KEY: None}, owner=self)
        handler = SandboxWSGIHandler()
        server = _SandboxHTTPServer(
            self._address, _QuietRequestHandler, ipv6=":" in self._address[0]
        )
        server.set_app(handler)
        self._server = server
        handler.origin = self.origin
        handler.origin_from_host = self._address[0] in WILDCARD_HOSTS
        handler.state = self.state
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.1},
            name=f"genlook-sandbox-{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self.state.unseed(self)
        if self._control_token is not None:
            self.state.set_control_token(None)  # back to the settings' or the random one
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    # -- addresses ----------------------------------------------------------------------------

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("The sandbox server is not running; call start() first.")
        return int(self._server.server_port)

    @property
    def origin(self) -> str:
        host = WILDCARD_HOSTS.get(self._address[0], self._address[0])
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}"

    @property
    def base_url(self) -> str:
        """The API base URL, like ``https://api.genlook.app/tryon/v1`` (no trailing slash)."""
        return self.origin + API_PATH

    @property
    def classic_base_url(self) -> str:
        """The classic API's base URL, like ``https://api.genlook.app``: its routes are
        ``/v1/try-on``, ``/v1/try-on/{id}`` and ``/v1/try-on/batch`` below it."""
        return self.origin

    @property
    def api_key(self) -> str:
        """The first key given to the constructor, else the first account of the state."""
        if self._api_keys:
            return next(iter(self._api_keys))
        keys = self.state.api_keys
        return keys[0] if keys else DEFAULT_API_KEY

    @property
    def headers(self) -> dict[str, str]:
        return {"x-api-key": self.api_key}

    @property
    def classic_headers(self) -> dict[str, str]:
        """The classic dialect's authentication: ``Authorization: Bearer <api_key>``."""
        return {"Authorization": f"Bearer {self.api_key}"}

    @property
    def control_token(self) -> str:
        """The token of the ``_sandbox/`` endpoints: the one given to the constructor, else
        ``GENLOOK_SANDBOX["CONTROL_TOKEN"]``, else the state's random one."""
        return self.state.control_token

    @property
    def control_headers(self) -> dict[str, str]:
        """Headers for the control endpoints: the control token, and ``x-api-key`` to name
        the account (``api_key``) of those that concern one."""
        return {CONTROL_TOKEN_HEADER: self.control_token, **self.headers}


def free_port(host: str = "127.0.0.1") -> int:
    """A port that was free a moment ago (for subprocesses that must be told their port)."""
    with socket.socket() as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])
