"""``manage.py genlook_sandbox``: serve the sandbox (v1 and classic APIs) on its own port."""

from __future__ import annotations

import argparse
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from genlook_django.sandbox.control import control_help
from genlook_django.sandbox.testing import SandboxServer


def build_server(
    *,
    host: str = "127.0.0.1",
    port: int = 8765,
    keys: list[str] | None = None,
    credits: int | None = None,
    generation_seconds: float | None = None,
    control_token: str | None = None,
    beside_shop: bool | None = None,
) -> SandboxServer:
    """The server the command runs (not started), for callers that want it without a CLI."""
    config: dict[str, Any] = {}
    if generation_seconds is not None:
        config["generation_seconds"] = generation_seconds
    if beside_shop is not None:
        config["beside_shop"] = beside_shop
    api_keys = dict.fromkeys(keys or [], credits)
    return SandboxServer(api_keys, host=host, port=port, control_token=control_token, **config)


class Command(BaseCommand):
    help = "Serve the Genlook sandbox (v1 and classic APIs) standalone, in memory, for development."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--host", default="127.0.0.1", help="Address to bind (default 127.0.0.1)."
        )
        parser.add_argument("--port", type=int, default=8765, help="Port (default 8765, 0 = any).")
        parser.add_argument(
            "--key",
            action="append",
            dest="keys",
            metavar="gk_...",
            help="An API key to accept (repeatable). Default: the keys of GENLOOK_SANDBOX.",
        )
        parser.add_argument("--credits", type=int, help="Starting credits of the --key accounts.")
        parser.add_argument(
            "--generation-seconds", type=float, help="How long a generation takes (default 3)."
        )
        parser.add_argument(
            "--control-token",
            help="The token of the _sandbox/ control endpoints (at least 16 characters). "
            "Default: GENLOOK_SANDBOX['CONTROL_TOKEN'], else a random one, printed at start.",
        )
        parser.add_argument(
            "--beside-shop",
            action=argparse.BooleanOptionalAction,
            default=None,
            help="The shop runs on this machine or network: fetch its loopback/private image "
            "and webhook URLs, which the real Genlook cannot reach (default: "
            "GENLOOK_SANDBOX['BESIDE_SHOP'], else off: strict like Genlook).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            server = build_server(
                host=options["host"],
                port=options["port"],
                keys=options["keys"],
                credits=options["credits"],
                generation_seconds=options["generation_seconds"],
                control_token=options["control_token"],
                beside_shop=options["beside_shop"],
            )
        except ValueError as exc:
            raise CommandError(f"--control-token: {exc}") from exc
        server.start()
        state = server.state
        self.stdout.write(f"Genlook sandbox serving {server.base_url}")
        self.stdout.write(
            f"Classic API serving {server.classic_base_url} "
            "(POST /v1/try-on, Authorization: Bearer <key>)"
        )
        if state.config.beside_shop:
            self.stdout.write("  beside the shop: loopback and private URLs are fetched")
        else:
            self.stdout.write("  strict: loopback and private URLs fail, as with Genlook")
        for key in state.api_keys:
            self.stdout.write(f"  x-api-key: {key} ({state.get_credits(key)} credits)")
        for line in control_help(server.base_url, server.control_token, server.api_key):
            self.stdout.write(line)
        self.stdout.write("Quit with CONTROL-C.")
        self.stdout.flush()
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
        finally:
            server.stop()
