"""The Genlook client configured from ``settings.GENLOOK`` (``API`` picks the dialect)."""

from __future__ import annotations

import threading

from genlook_django.client import GenlookClient
from genlook_django.client.transport import SecretStr
from genlook_django.conf import genlook_settings
from genlook_django.services.ratebudget import build_rate_limiter

_clients: dict[tuple, GenlookClient] = {}
_lock = threading.Lock()


def get_client(
    *,
    max_retries: int | None = None,
    rate_wait_timeout: float | None = None,
    connect_timeout: float | None = None,
    read_timeout: float | None = None,
    download_timeout: float | None = None,
) -> GenlookClient:
    """The shared client for the current settings (a new one when the settings change).

    ``max_retries`` overrides ``MAX_RETRIES`` (e.g. 0 where nothing may wait, such as a
    task run eagerly inside a request); ``rate_wait_timeout`` makes a call fail at once
    (``RateBudgetTimeout``) rather than wait longer for a slot of the request budget;
    ``connect_timeout`` and ``read_timeout`` override ``CONNECT_TIMEOUT`` and
    ``READ_TIMEOUT``, and ``download_timeout`` bounds a whole result download (e.g. the
    short ones of a status request's poll-through). Every variant spends the same budget
    (``build_rate_limiter`` shares one limiter per API key).
    """
    api_key = SecretStr(genlook_settings.require("API_KEY"))  # its repr hides it
    if max_retries is None:
        max_retries = genlook_settings.MAX_RETRIES
    if connect_timeout is None:
        connect_timeout = genlook_settings.CONNECT_TIMEOUT
    if read_timeout is None:
        read_timeout = genlook_settings.READ_TIMEOUT
    api, base_url = genlook_settings.API, genlook_settings.api_base_url
    config = (
        api_key,
        api,
        base_url,
        connect_timeout,
        read_timeout,
        genlook_settings.SYNC_TIMEOUT,
        max_retries,
        genlook_settings.BACKOFF_INITIAL,
        genlook_settings.BACKOFF_MAX,
        genlook_settings.RATE_LIMIT,
        genlook_settings.RATE_PERIOD,
        genlook_settings.RATE_LIMIT_BACKEND,
        genlook_settings.RATE_LIMIT_REDIS_URL,
        genlook_settings.RATE_LIMIT_CACHE,
        rate_wait_timeout,
        download_timeout,
    )
    with _lock:
        client = _clients.get(config)
        if client is None:
            client = _clients[config] = GenlookClient(
                api_key,
                api=api,
                base_url=base_url,
                connect_timeout=connect_timeout,
                read_timeout=read_timeout,
                sync_timeout=genlook_settings.SYNC_TIMEOUT,
                max_retries=max_retries,
                backoff_initial=genlook_settings.BACKOFF_INITIAL,
                backoff_max=genlook_settings.BACKOFF_MAX,
                rate_limiter=build_rate_limiter(api_key),
                rate_wait_timeout=rate_wait_timeout,
                download_timeout=download_timeout,
            )
        return client
