"""``SandboxState``: everything the sandbox knows, in memory, one per process."""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any

from genlook_django.sandbox.catalog import Catalog
from genlook_django.sandbox.conf import (
    SandboxConfig,
    account_credits,
    build_config,
    check_config_names,
    check_control_token,
    configured_api_keys,
    configured_control_token,
)
from genlook_django.sandbox.errors import insufficient_credits
from genlook_django.sandbox.faults import DEFAULT_FAIL_CODE, FaultInjector, Faults
from genlook_django.sandbox.files import FileStore
from genlook_django.sandbox.generations import Engine
from genlook_django.sandbox.outbound import NotAllowed, fetch_bytes
from genlook_django.sandbox.ratelimit import SlidingWindowLimiter
from genlook_django.sandbox.records import Account, RequestRecord, WebhookDelivery
from genlook_django.sandbox.scheduler import Scheduler, WorkerPool
from genlook_django.sandbox.uploads import Uploads
from genlook_django.sandbox.webhooks import WebhookSender


class SandboxState:
    """Accounts, products, uploads, generations, files, faults and the request log.

    Thread-safe: one re-entrant lock guards the stores, so a request sees a consistent
    world. Time comes from ``clock`` (wall time, injectable, moved by ``advance_clock``)
    for timestamps and lifetimes; generation delays and rate windows use real monotonic
    time so that they behave the same whatever a test does to the clock.
    """

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.lock = threading.RLock()
        self.clock = clock
        self.scheduler = Scheduler()
        self.workers = WorkerPool()
        self.limiter = SlidingWindowLimiter()
        self.faults = FaultInjector()
        self.webhooks = WebhookSender(
            config=lambda: self.config,
            faults=self.faults,
            scheduler=self.scheduler,
            workers=self.workers,
        )
        # Accounts and options that survive reset, by owner (a SandboxServer, the command).
        self._seeds: dict[object, tuple[dict[str, int | None], dict[str, Any]]] = {}
        # The control endpoints' token when neither set_control_token nor settings give one:
        # random, once per state (it survives reset, so a caller of _sandbox/reset keeps it).
        self._random_control_token = secrets.token_urlsafe(32)
        self._control_token: str | None = None
        self._fresh_world()

    def _fresh_world(self) -> None:
        with self.lock:
            self._clock_offset = 0.0
            self._last_purge = time.monotonic()
            self._overrides: dict[str, Any] = {}
            seeded_keys: dict[str, int | None] = {}
            for keys, config in self._seeds.values():
                seeded_keys.update(keys)
                self._overrides.update(config)
            self._accounts: dict[str, Account] = {}
            self._log: list[RequestRecord] = []
            self.files = FileStore(self.lock, self.now)
            self.uploads = Uploads(self.lock, self.now, self.files)
            self.catalog = Catalog(self.lock, self.now, self.files)
            self.engine = Engine(self)
            self.limiter.reset()
            self.faults.clear()
            self.webhooks.reset()
            for key, credits in {**configured_api_keys(), **seeded_keys}.items():
                self.add_account(key, credits=credits)

    # -- lifecycle ----------------------------------------------------------------------------

    def reset(self) -> None:
        """Forget everything; reload accounts from settings and from ``seed``."""
        self._fresh_world()

    def seed(
        self, api_keys: Mapping[str, Any] | None = None, *, owner: object = None, **config: Any
    ) -> None:
        """Accounts and options that survive ``reset`` until ``unseed(owner)``.

        ``api_keys`` maps keys to credits (``None`` for the default), like ``API_KEYS``.
        """
        keys = {key: account_credits(spec) for key, spec in (api_keys or {}).items()}
        with self.lock:
            self._override(config)
            old_keys, old_config = self._seeds.get(owner, ({}, {}))
            self._seeds[owner] = ({**old_keys, **keys}, {**old_config, **config})
            for key, credits in keys.items():
                self.add_account(key, credits=credits)

    def unseed(self, owner: object) -> None:
        """Stop restoring what ``owner`` seeded (what it set stays until the next reset)."""
        with self.lock:
            self._seeds.pop(owner, None)

    # -- time ---------------------------------------------------------------------------------

    def now(self) -> float:
        return self.clock() + self._clock_offset

    def advance_clock(self, seconds: float) -> None:
        """Move the sandbox's wall clock forward, to expire products, uploads and results."""
        with self.lock:
            self._clock_offset += seconds

    # -- configuration ------------------------------------------------------------------------

    @property
    def config(self) -> SandboxConfig:
        """Defaults < ``settings.GENLOOK_SANDBOX`` < ``seed``/``configure``, read at access time."""
        return build_config(self._overrides)

    def configure(self, **options: Any) -> SandboxConfig:
        """Override options (see SandboxConfig) until the next ``reset``."""
        self._override(options)
        return self.config

    def _override(self, options: Mapping[str, Any]) -> None:
        check_config_names(options)
        with self.lock:
            build_config({**self._overrides, **options})  # reject bad values before storing
            self._overrides.update(options)

    # -- the control token ---------------------------------------------------------------------

    @property
    def control_token(self) -> str:
        """What the ``_sandbox/`` endpoints require in ``x-sandbox-control-token``: the one
        given to ``set_control_token``, else ``GENLOOK_SANDBOX["CONTROL_TOKEN"]``, else a
        random one made with this state (it survives ``reset``)."""
        with self.lock:
            return self._control_token or configured_control_token() or self._random_control_token

    def set_control_token(self, token: str | None) -> None:
        """Use ``token`` (at least 16 characters; None: back to settings or the random one)."""
        with self.lock:
            self._control_token = None if token is None else check_control_token(token)

    def is_control_token(self, candidate: str | None) -> bool:
        """Whether ``candidate`` is the control token (compared in constant time)."""
        if not candidate:
            return False
        return hmac.compare_digest(candidate.encode(), self.control_token.encode())

    # -- accounts -----------------------------------------------------------------------------

    def account(self, api_key: str) -> Account | None:
        """The account of a key; keys added to settings since the last reset appear lazily."""
        with self.lock:
            account = self._accounts.get(api_key)
            if account is None:
                configured = configured_api_keys()
                if api_key in configured:
                    account = self.add_account(api_key, credits=configured[api_key])
            return account

    def add_account(self, api_key: str, credits: int | None = None) -> Account:
        with self.lock:
            balance = self.config.default_credits if credits is None else credits
            account = self._accounts.get(api_key)
            if account is None:
                account = self._accounts[api_key] = Account(api_key=api_key, credits=balance)
            elif credits is not None:
                account.credits = credits
            return account

    @property
    def api_keys(self) -> list[str]:
        with self.lock:
            return list(self._accounts)

    def _known(self, api_key: str) -> Account:
        account = self.account(api_key)
        if account is None:
            raise KeyError(f"No sandbox account with API key {api_key!r}")
        return account

    def set_credits(self, api_key: str, credits: int) -> None:
        with self.lock:
            self._known(api_key).credits = int(credits)

    def get_credits(self, api_key: str) -> int:
        with self.lock:
            return self._known(api_key).credits

    def reserve_credit(self, api_key: str, count: int = 1) -> None:
        """Take the credits of new generations now (all or none), so concurrent requests
        cannot overdraw."""
        with self.lock:
            account = self._known(api_key)
            if account.credits < count:
                raise insufficient_credits(count, max(0, account.credits))
            account.credits -= count

    def refund_credit(self, api_key: str, count: int = 1) -> None:
        with self.lock:
            account = self._accounts.get(api_key)
            if account is not None:
                account.credits += count

    # -- faults -------------------------------------------------------------------------------

    def set_faults(
        self,
        api_key: str | None = None,
        *,
        error_rates: Mapping[int, float] | None = None,
        latency: float = 0.0,
        timeout_rate: float = 0.0,
        timeout_seconds: float = 30.0,
        fail_generations: float = 0.0,
        fail_error_code: str | None = DEFAULT_FAIL_CODE,
        drop_webhooks: float = 0.0,
        seed: int | None = None,
        mode: str = "random",
        drop_next_webhooks: int = 0,
        fail_next_generations: int = 0,
    ) -> Faults:
        """Replace the faults of one account (or the global ones when ``api_key`` is None).

        Rates are drawn at random (``seed`` makes the draws the same on every run) or,
        with ``mode="even"``, applied exactly and evenly; ``drop_next_webhooks`` and
        ``fail_next_generations`` force that many faults first (``sandbox.faults``)."""
        faults = Faults(
            error_rates=dict(error_rates or {}),
            latency=latency,
            timeout_rate=timeout_rate,
            timeout_seconds=timeout_seconds,
            fail_generations=fail_generations,
            fail_error_code=fail_error_code,
            drop_webhooks=drop_webhooks,
            mode=mode,
            drop_next_webhooks=drop_next_webhooks,
            fail_next_generations=fail_next_generations,
        )
        self.faults.set(faults, api_key=api_key, seed=seed)
        return faults

    def clear_faults(self, api_key: str | None = None) -> None:
        self.faults.clear(api_key)

    # -- outbound -----------------------------------------------------------------------------

    def download(self, url: str, max_bytes: int | None = None) -> bytes | None:
        """Bytes behind ``url``: a sandbox file, or a host it may contact; None for a public
        host (the sandbox does not reach the internet).

        Raises ``outbound.FetchError`` when Genlook could not fetch it either (a loopback or
        private host while strict, a name that does not resolve) or the fetch failed, and
        ``outbound.TooLarge`` beyond ``max_bytes`` (default: twice ``MAX_UPLOAD_BYTES``).
        """
        local = self.files.get_by_url(url)
        if local is not None:
            return local.content
        config = self.config
        try:
            return fetch_bytes(
                url,
                reach=config,
                timeout=config.fetch_timeout,
                max_bytes=max_bytes or 2 * config.max_upload_bytes,
            )
        except NotAllowed:
            return None

    def purge_expired(self, every: float = 60.0) -> None:
        """Free what has expired (lookups already ignore it), at most once per ``every`` s."""
        with self.lock:
            if time.monotonic() - self._last_purge < every:
                return
            self._last_purge = time.monotonic()
            self.uploads.purge_expired()
            self.files.purge_expired()
            self.catalog.purge_expired()

    def erase_customer(self, api_key: str, customer_id: str) -> None:
        with self.lock:
            self.uploads.erase_customer(api_key, customer_id)
            self.engine.anonymise(api_key, customer_id)
            self.files.erase_customer(api_key, customer_id)

    # -- request log --------------------------------------------------------------------------

    def record(self, entry: RequestRecord) -> None:
        with self.lock:
            self._log.append(entry)

    @property
    def requests(self) -> list[RequestRecord]:
        with self.lock:
            return list(self._log)

    @property
    def webhook_deliveries(self) -> list[WebhookDelivery]:
        return self.webhooks.deliveries

    def count(
        self,
        method: str | None = None,
        path: str | None = None,
        status: int | None = None,
        api_key: str | None = None,
    ) -> int:
        """Logged API requests matching every given filter (``path`` or its route pattern)."""
        return sum(
            1
            for r in self.requests
            if (method is None or r.method == method.upper())
            and (path is None or path in (r.path, r.route))
            and (status is None or r.status == status)
            and (api_key is None or r.api_key == api_key)
        )

    def generations_created(self, api_key: str | None = None) -> int:
        return self.engine.created(api_key)

    def stats(self, api_key: str) -> dict[str, Any]:
        """What ``GET _sandbox/stats`` shows for one account."""
        config = self.config
        mine = [r for r in self.requests if r.api_key == api_key]
        by_route: dict[str, Counter[str]] = {}
        for r in mine:
            by_route.setdefault(f"{r.method} {r.route or r.path}", Counter())[str(r.status)] += 1
        deliveries = [d for d in self.webhook_deliveries if d.api_key == api_key]
        return {
            "requests": {
                "total": len(mine),
                "byRoute": {route: dict(counts) for route, counts in sorted(by_route.items())},
            },
            "generations": {
                "created": self.generations_created(api_key),
                "byStatus": self.engine.by_status(api_key),
            },
            "creditBalance": self.get_credits(api_key),
            "webhooks": dict(Counter(d.outcome for d in deliveries)),
            "faults": self.faults.describe(api_key),
            "faultsInjected": self.faults.injected(api_key),
            "config": {
                name: getattr(config, name)
                for name in ("generation_seconds", "sync_wait_seconds", "rate_limit", "rate_window")
            },
        }


_state: SandboxState | None = None
_state_lock = threading.Lock()


def get_state() -> SandboxState:
    """The process-wide sandbox state (created on first use)."""
    global _state
    with _state_lock:
        if _state is None:
            _state = SandboxState()
        return _state
