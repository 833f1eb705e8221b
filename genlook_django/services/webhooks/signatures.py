"""Verifying a webhook's ``Genlook-Signature`` header.

Genlook itself signs nothing (the per-try-on URL token is what authenticates a delivery).
When ``WEBHOOK_SIGNING_SECRETS`` is set, every delivery must also carry
``Genlook-Signature: t=<unix seconds>,v1=<hex>``: the HMAC-SHA256, keyed by one of the
secrets, of the timestamp, a dot and the raw body. Several secrets may be listed, so a
secret can be rotated without dropping deliveries; several ``v1`` values may be sent too.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from collections.abc import Sequence

SIGNATURE_HEADER = "Genlook-Signature"
# Unix seconds in ASCII digits: str.isdigit() and int() also take "²", "١٢٣" or 5000 digits
# (ValueError, OverflowError against a float).
_TIMESTAMP = re.compile(r"[0-9]{1,15}")


class SignatureError(Exception):
    """The delivery's signature is missing, malformed, stale or wrong. ``reason`` is a code."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def compute_signature(body: bytes, secret: str, timestamp: int) -> str:
    signed = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def signature_header(body: bytes, secret: str, timestamp: int | None = None) -> str:
    """The header value a sender puts on ``body`` (for relays and tests)."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    return f"t={timestamp},v1={compute_signature(body, secret, timestamp)}"


def _parse(header: str) -> tuple[int, list[str]]:
    timestamp, signatures = None, []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t" and _TIMESTAMP.fullmatch(value):
            timestamp = int(value)
        elif key == "v1" and value and value.isascii():  # compare_digest refuses non-ASCII str
            signatures.append(value)
    if timestamp is None or not signatures:
        raise SignatureError("malformed_signature", "The signature header is malformed.")
    return timestamp, signatures


def verify_signature(
    body: bytes,
    header: str | None,
    secrets: Sequence[str],
    *,
    tolerance: float,
    now: float | None = None,
) -> None:
    """Raise ``SignatureError`` unless ``header`` signs ``body`` with one of ``secrets``
    within ``tolerance`` seconds of ``now``."""
    if not header:
        raise SignatureError("missing_signature", f"The {SIGNATURE_HEADER} header is missing.")
    timestamp, signatures = _parse(header)
    now = time.time() if now is None else now
    if abs(now - timestamp) > tolerance:
        raise SignatureError("stale_timestamp", "The signature's timestamp is too old or new.")
    for secret in secrets:
        expected = compute_signature(body, secret, timestamp)
        # compare_digest on every candidate: time does not depend on where they differ.
        if any(hmac.compare_digest(expected, candidate) for candidate in signatures):
            return
    raise SignatureError("bad_signature", "The signature does not match the body.")
