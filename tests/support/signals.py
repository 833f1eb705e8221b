"""Listening to the app's signals in a test."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator


@contextlib.contextmanager
def listening(signal, action: Callable[..., None] | None = None) -> Iterator[list[dict]]:
    """Collect the keyword arguments of every ``signal`` sent inside the block."""
    received: list[dict] = []

    def receiver(sender, **kwargs) -> None:
        received.append({"sender": sender, **kwargs})
        if action is not None:
            action()

    signal.connect(receiver, weak=False)
    try:
        yield received
    finally:
        signal.disconnect(receiver)
