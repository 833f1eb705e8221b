"""Helpers for the catalog tests."""

from __future__ import annotations

import contextlib
import io
from collections.abc import Callable, Iterator

from PIL import Image


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


def image_bytes(size: tuple[int, int] = (400, 500), fmt: str = "PNG", colour: str = "tan") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, fmt)
    return buffer.getvalue()
