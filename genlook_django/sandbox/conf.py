"""Sandbox settings: ``settings.GENLOOK_SANDBOX`` read at access time, runtime overrides on top."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

SETTING_NAME = "GENLOOK_SANDBOX"
# The header that carries the control token of the ``_sandbox/`` endpoints (never x-api-key).
CONTROL_TOKEN_HEADER = "x-sandbox-control-token"  # noqa: S105 (a header name)
MIN_CONTROL_TOKEN_LENGTH = 16


@dataclass(frozen=True)
class SandboxConfig:
    """The tunable behaviour of the sandbox (every field is also a ``GENLOOK_SANDBOX`` key)."""

    generation_seconds: float = 3.0
    sync_wait_seconds: float = 90.0
    rate_limit: int = 100
    rate_window: float = 60.0
    default_credits: int = 100
    default_keep_for_days: int = 7
    max_upload_bytes: int = 10 * 1024 * 1024
    # Strict by default, like Genlook: loopback/private URLs are unreachable (outbound.py).
    # True when the sandbox runs beside the shop (same machine or network): they are fetched.
    beside_shop: bool = False
    # Hosts always contacted, whatever their addresses (an explicit allow-list).
    fetch_allowed_hosts: tuple[str, ...] = ()
    fetch_timeout: float = 5.0
    webhook_timeout: float = 5.0
    webhook_attempts: int = 3
    # Genlook signs nothing; a secret here makes the sandbox sign like a signing relay would
    # (see docs/sandbox.md), to exercise receivers that require a signature.
    webhook_signing_secret: str = ""
    # "classic" (the older page's payload) or "v1" (v1 field names).
    webhook_payload: str = "classic"

    def __post_init__(self) -> None:
        # Values come from settings, JSON control calls and keyword arguments: coerce and
        # check them here so a typo fails loudly instead of breaking a request later.
        for name in _FLOATS:
            _coerce(self, name, float)
        for name in _INTS:
            _coerce(self, name, int)
        if self.rate_window <= 0 or self.max_upload_bytes <= 0 or self.webhook_attempts < 1:
            raise ValueError("rate_window, max_upload_bytes and webhook_attempts must be positive")
        if self.default_keep_for_days not in (1, 3, 7):
            raise ValueError("default_keep_for_days must be 1, 3 or 7")
        if self.webhook_payload not in ("classic", "v1"):
            raise ValueError('webhook_payload must be "classic" or "v1"')
        object.__setattr__(self, "webhook_signing_secret", str(self.webhook_signing_secret or ""))
        if not isinstance(self.beside_shop, bool):
            raise ValueError(f"beside_shop must be True or False, not {self.beside_shop!r}")
        hosts = self.fetch_allowed_hosts
        if isinstance(hosts, str) or not all(isinstance(host, str) for host in hosts):
            raise ValueError(f"fetch_allowed_hosts must be a list of host names, not {hosts!r}")
        object.__setattr__(self, "fetch_allowed_hosts", tuple(h.lower() for h in hosts))


_FLOATS = (
    "generation_seconds",
    "sync_wait_seconds",
    "rate_window",
    "fetch_timeout",
    "webhook_timeout",
)
_INTS = (
    "rate_limit",
    "default_credits",
    "default_keep_for_days",
    "max_upload_bytes",
    "webhook_attempts",
)


def _coerce(config: SandboxConfig, name: str, kind: type[float] | type[int]) -> None:
    value = getattr(config, name)
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"{name} must be a number, not {value!r}")
    number = kind(value)
    if number < 0:
        raise ValueError(f"{name} must not be negative, not {value!r}")
    object.__setattr__(config, name, number)


CONFIG_FIELDS = frozenset(field.name for field in dataclasses.fields(SandboxConfig))
# API_KEYS and CONTROL_TOKEN are not behaviour knobs: API_KEYS seeds the accounts (see
# SandboxState.reset), CONTROL_TOKEN guards the control endpoints (never shown by them).
NON_CONFIG_KEYS = frozenset({"API_KEYS", "CONTROL_TOKEN"})
SETTING_KEYS = frozenset(NON_CONFIG_KEYS | {name.upper() for name in CONFIG_FIELDS})


def sandbox_settings() -> dict[str, Any]:
    """The ``GENLOOK_SANDBOX`` dict, checked for typos so a misspelt key is not silently ignored."""
    raw = getattr(settings, SETTING_NAME, None) or {}
    if not isinstance(raw, Mapping):
        raise ImproperlyConfigured(f"settings.{SETTING_NAME} must be a dict.")
    unknown = sorted(set(raw) - SETTING_KEYS)
    if unknown:
        raise ImproperlyConfigured(
            f"Unknown key(s) {', '.join(unknown)} in settings.{SETTING_NAME}; "
            f"known keys: {', '.join(sorted(SETTING_KEYS))}."
        )
    return dict(raw)


def build_config(overrides: Mapping[str, Any]) -> SandboxConfig:
    """Defaults, then ``settings.GENLOOK_SANDBOX``, then the runtime ``overrides``."""
    values: dict[str, Any] = {
        name.lower(): value
        for name, value in sandbox_settings().items()
        if name not in NON_CONFIG_KEYS
    }
    values.update(overrides)
    return SandboxConfig(**values)


def check_config_names(names: Mapping[str, Any]) -> None:
    unknown = sorted(set(names) - CONFIG_FIELDS)
    if unknown:
        raise TypeError(
            f"Unknown sandbox option(s) {', '.join(unknown)}; "
            f"known options: {', '.join(sorted(CONFIG_FIELDS))}."
        )


def configured_api_keys() -> dict[str, int | None]:
    """``API_KEYS`` as ``{key: credits or None}``; accepts ``{"credits": n}`` or a bare ``n``."""
    keys: dict[str, int | None] = {}
    for key, spec in (sandbox_settings().get("API_KEYS") or {}).items():
        keys[str(key)] = account_credits(spec)
    return keys


def account_credits(spec: Any) -> int | None:
    if spec is None:
        return None
    if isinstance(spec, Mapping):
        credits = spec.get("credits")
        return None if credits is None else int(credits)
    return int(spec)


def configured_control_token() -> str | None:
    """``CONTROL_TOKEN`` of ``GENLOOK_SANDBOX`` (None when unset or empty), checked."""
    token = sandbox_settings().get("CONTROL_TOKEN")
    if token is None or token == "":
        return None
    try:
        return check_control_token(token)
    except ValueError as exc:
        raise ImproperlyConfigured(f"settings.{SETTING_NAME}['CONTROL_TOKEN']: {exc}") from exc


def check_control_token(token: Any) -> str:
    """``token`` if it can guard the control endpoints; ValueError saying why not."""
    if not isinstance(token, str) or token != token.strip() or not token.isprintable():
        raise ValueError("the control token must be a string without spaces at either end")
    if len(token) < MIN_CONTROL_TOKEN_LENGTH:
        raise ValueError(
            f"the control token must be at least {MIN_CONTROL_TOKEN_LENGTH} characters long "
            "(e.g. secrets.token_urlsafe(32))"
        )
    return token
