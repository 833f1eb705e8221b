"""HTTP for the client: one ``requests.Session`` per thread, the request budget, typed
errors, and retries (tenacity) with capped exponential backoff and jitter.

What is retried:

* 429 and 5xx answers, honouring ``Retry-After``;
* a connection that could not be opened (the request never left, so nothing happened);
* a read timeout or a dropped connection, only for calls that are safe to send twice.

A try-on create is not safe to send twice: Genlook may have accepted and charged it before
the answer was lost. So a create is re-sent only after an answer that says it was not
processed (429, 500, 503) or a connection that never opened. A read timeout, a dropped
connection, or a gateway's 502/504 (the gateway lost the answer, like a timeout) raise
instead, with ``error.may_have_been_processed`` True.

Other 4xx answers are never retried.

The API key never shows: not in an error message, not in a ``repr`` (``SecretStr``), not in
the frames of an error's cause, whose locals hold the request as it was sent (tracebacks
with their locals: Django's debug page, an HTML admin e-mail, an error tracker).
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import requests
import tenacity
import urllib3.exceptions
from urllib3.exceptions import NewConnectionError

from .errors import (
    AuthenticationError,
    GenlookError,
    GenlookTimeoutError,
    RateLimitedError,
    ServerError,
    TransportError,
    error_from_response,
)
from .ratelimit import RateLimiter

logger = logging.getLogger("genlook_django.client")


class RateBudgetTimeout(GenlookError):
    """The local request budget had no free slot within ``rate_wait_timeout``."""

    is_transient = True


class SecretStr(str):
    """A string whose ``repr`` hides it: the API key, in every frame it passes through on
    its way out (a traceback with locals shows each variable's ``repr``)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "'********************'"


# What an API key is made of, and all an HTTP header carries safely: printable ASCII.
_API_KEY = re.compile(r"[!-~]+")


def _frameless(exc: BaseException) -> BaseException:
    """``exc`` and the exceptions it came from, without their frames: those of an HTTP
    error hold the request as sent, API key included (e.g. ``http.client``'s buffer). Their
    types and messages stay, for the traceback."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        current.__traceback__ = None
        current = current.__cause__ or current.__context__
    return exc


@dataclass(frozen=True)
class Reply:
    status: int
    body: Any
    headers: Mapping[str, str]


@dataclass(frozen=True)
class RetryPolicy:
    max_retries: int = 4
    backoff_initial: float = 0.5
    backoff_max: float = 30.0


def _never_left(exc: requests.ConnectionError) -> bool:
    """True when the connection could not even be opened (refused, unresolvable)."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return isinstance(reason, NewConnectionError)


class Transport:
    def __init__(
        self,
        *,
        api_key: str,
        base_url: str,
        user_agent: str,
        connect_timeout: float,
        read_timeout: float,
        retry: RetryPolicy,
        rate_limiter: RateLimiter,
        rate_wait_timeout: float | None = None,
        sleep: Callable[[float], None] = time.sleep,
        bearer: bool = False,
    ) -> None:
        # A key pasted or read from a file often ends with a line break: not part of it.
        self._api_key = SecretStr(api_key.strip())
        self._api_key_sendable = bool(_API_KEY.fullmatch(self._api_key))
        # v1 reads x-api-key; the classic API reads Authorization: Bearer (and nothing else).
        if bearer:
            self._auth = {"Authorization": SecretStr(f"Bearer {self._api_key}")}
        else:
            self._auth = {"x-api-key": self._api_key}
        self.base_url = base_url.rstrip("/")
        self._user_agent = user_agent
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.retry = retry
        self._limiter = rate_limiter
        self._rate_wait_timeout = rate_wait_timeout
        self._sleep = sleep
        self._local = threading.local()
        # Doubling from backoff_initial up to backoff_max, plus up to backoff_initial of jitter.
        self._backoff = tenacity.wait_exponential(
            multiplier=retry.backoff_initial, max=retry.backoff_max
        ) + tenacity.wait_random(0, retry.backoff_initial)

    @property
    def session(self) -> requests.Session:
        # Sessions are not documented as thread-safe: one per thread, created lazily.
        session = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            session.headers["User-Agent"] = self._user_agent
            session.headers["Accept"] = "application/json"
            self._local.session = session
        return session

    def request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        form: Mapping[str, str] | None = None,
        files: Mapping[str, tuple[str, bytes, str]] | None = None,
        params: Mapping[str, Any] | None = None,
        read_timeout: float | None = None,
        resend_safe: bool = True,
    ) -> Reply:
        """Send one API call, retrying what is safe to retry; raise a typed error otherwise."""
        retrying = tenacity.Retrying(
            stop=tenacity.stop_after_attempt(self.retry.max_retries + 1),
            wait=self._wait,
            retry=tenacity.retry_if_exception(lambda exc: self._retryable(exc, resend_safe)),
            sleep=self._sleep,
            reraise=True,
            before_sleep=self._log_retry,
        )
        return retrying(
            self._send_once,
            method,
            path,
            json_body=json_body,
            form=form,
            files=files,
            params=params,
            read_timeout=read_timeout or self.read_timeout,
        )

    @staticmethod
    def _retryable(exc: BaseException, resend_safe: bool) -> bool:
        if isinstance(exc, RateLimitedError):
            return True
        if isinstance(exc, ServerError):
            return resend_safe or not exc.may_have_been_processed
        if isinstance(exc, TransportError):
            return resend_safe or not exc.request_sent
        return False

    def _wait(self, retry_state: tenacity.RetryCallState) -> float:
        delay = self._backoff(retry_state)
        exc = retry_state.outcome.exception() if retry_state.outcome else None
        if isinstance(exc, RateLimitedError) and exc.retry_after is not None:
            delay = max(delay, exc.retry_after)
        return delay

    @staticmethod
    def _log_retry(retry_state: tenacity.RetryCallState) -> None:
        exc = retry_state.outcome.exception() if retry_state.outcome else None
        logger.info(
            "Genlook call failed (%s), retry %d in %.2fs",
            exc,
            retry_state.attempt_number,
            retry_state.upcoming_sleep,
        )

    def _send_once(
        self,
        method: str,
        path: str,
        *,
        json_body: Any,
        form: Mapping[str, str] | None,
        files: Mapping[str, tuple[str, bytes, str]] | None,
        params: Mapping[str, Any] | None,
        read_timeout: float,
    ) -> Reply:
        if not self._api_key_sendable:
            # Never sent: requests would refuse it quoting the whole value.
            raise AuthenticationError(
                "The API key has characters an HTTP header cannot carry (a space, a line "
                "break, a non-ASCII character): check the key configured.",
                code="INVALID_API_KEY",
            )
        if not self._limiter.acquire(self._rate_wait_timeout):
            raise RateBudgetTimeout(
                "The Genlook request budget is used up; try again shortly.", code="RATE_BUDGET"
            )
        url = f"{self.base_url}/{path.lstrip('/')}"
        started = time.monotonic()
        try:
            response = self.session.request(
                method,
                url,
                headers=self._auth,
                json=json_body,
                data=form,
                files=files,
                params=params,
                timeout=(self.connect_timeout, read_timeout),
            )
        except requests.ConnectTimeout as exc:
            raise GenlookTimeoutError(
                f"Timed out connecting to Genlook ({method} {path}).", request_sent=False
            ) from _frameless(exc)
        except requests.Timeout as exc:
            raise GenlookTimeoutError(
                f"Genlook did not answer {method} {path} within {read_timeout:g}s.",
                request_sent=True,
            ) from _frameless(exc)
        except requests.ConnectionError as exc:
            sent = not _never_left(exc)
            raise TransportError(
                f"Could not reach Genlook ({method} {path}): {exc.__class__.__name__}.",
                request_sent=sent,
            ) from _frameless(exc)
        logger.debug(
            "Genlook %s %s -> %s in %.0f ms",
            method,
            path,
            response.status_code,
            (time.monotonic() - started) * 1000,
        )
        body = _decode(response)
        if response.status_code >= 400:
            raise error_from_response(response.status_code, body, response.headers)
        return Reply(status=response.status_code, body=body, headers=response.headers)


def _decode(response: requests.Response) -> Any:
    if not response.content:
        return None
    try:
        return response.json()
    except (json.JSONDecodeError, ValueError):
        return response.text


class DownloadTooLarge(GenlookError):
    """A file to download is larger than the caller allows."""


def _chunks_until(response: requests.Response, deadline: float, message: str) -> Iterator[bytes]:
    """The body, as it arrives, until ``deadline`` (``GenlookTimeoutError`` after it).

    ``iter_content`` would wait for each whole chunk, however slowly it trickles in;
    ``read1`` returns whatever one socket read brings (each read is still bounded by the
    read timeout), so the deadline is overrun by one read timeout at most."""
    raw = response.raw
    read1 = getattr(raw, "read1", None)  # urllib3 >= 2.3
    while True:
        if time.monotonic() > deadline:
            raise GenlookTimeoutError(message, request_sent=True)
        chunk = read1(64 * 1024, decode_content=True) if read1 else raw.read(4096, True)
        if not chunk:
            return
        yield chunk


def download(
    transport: Transport,
    url: str,
    *,
    max_bytes: int,
    read_timeout: float | None = None,
    total_timeout: float | None = None,
) -> bytes:
    """GET a file by URL (e.g. a signed result URL), without the API key, bounded in size
    and, with ``total_timeout``, in time: a server sending a few bytes now and then never
    trips the read timeout (it applies to each read), so the whole transfer gets its own
    deadline (``GenlookTimeoutError`` past it)."""

    def fetch() -> bytes:
        deadline = None if total_timeout is None else time.monotonic() + total_timeout
        try:
            with transport.session.get(
                url,
                stream=True,
                timeout=(transport.connect_timeout, read_timeout or transport.read_timeout),
            ) as response:
                if response.status_code >= 400:
                    raise error_from_response(response.status_code, None, response.headers)
                chunks, size = [], 0
                if deadline is None:
                    stream = response.iter_content(64 * 1024)
                else:
                    stream = _chunks_until(
                        response, deadline, f"Downloading {url} took over {total_timeout:g}s."
                    )
                for chunk in stream:
                    size += len(chunk)
                    if size > max_bytes:
                        raise DownloadTooLarge(f"{url} is larger than {max_bytes} bytes.")
                    chunks.append(chunk)
                return b"".join(chunks)
        except (requests.Timeout, urllib3.exceptions.TimeoutError) as exc:
            raise GenlookTimeoutError(f"Timed out downloading {url}.", request_sent=True) from exc
        except (requests.ConnectionError, urllib3.exceptions.HTTPError) as exc:
            raise TransportError(f"Could not download {url}.", request_sent=True) from exc

    retrying = tenacity.Retrying(
        stop=tenacity.stop_after_attempt(transport.retry.max_retries + 1),
        wait=transport._backoff,
        retry=tenacity.retry_if_exception_type((ServerError, RateLimitedError, TransportError)),
        sleep=transport._sleep,
        reraise=True,
    )
    return retrying(fetch)
