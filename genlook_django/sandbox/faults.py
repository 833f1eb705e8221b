"""Fault injection: errors, latency, late answers, failed generations, lost webhooks."""

from __future__ import annotations

import random
import threading
from collections import Counter
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

DEFAULT_FAIL_CODE = "GENERATION_FAILED"


@dataclass(frozen=True)
class Faults:
    """What can go wrong for one account (or for every account without faults of its own)."""

    error_rates: Mapping[int, float] = field(default_factory=dict)  # {HTTP status: probability}
    latency: float = 0.0  # seconds added before every API request is processed
    timeout_rate: float = 0.0  # probability that a processed request answers late
    timeout_seconds: float = 30.0  # how late
    fail_generations: float = 0.0  # probability that an accepted generation FAILS
    fail_error_code: str | None = DEFAULT_FAIL_CODE  # its errorCode (None: untyped failure)
    drop_webhooks: float = 0.0  # probability that a webhook is never sent

    def __post_init__(self) -> None:
        rates = {int(status): float(p) for status, p in dict(self.error_rates).items()}
        for status, probability in rates.items():
            if not 400 <= status <= 599:
                raise ValueError(f"error_rates: {status} is not an HTTP error status")
            _check_probability(f"error_rates[{status}]", probability)
        if sum(rates.values()) > 1.0 + 1e-9:
            raise ValueError("error_rates: the probabilities add up to more than 1")
        object.__setattr__(self, "error_rates", rates)
        for name in ("timeout_rate", "fail_generations", "drop_webhooks"):
            _check_probability(name, getattr(self, name))
        if self.latency < 0 or self.timeout_seconds < 0:
            raise ValueError("latency and timeout_seconds must not be negative")

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["error_rates"] = {str(status): p for status, p in self.error_rates.items()}
        return data


def _check_probability(name: str, value: float) -> None:
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{name} must be a probability between 0 and 1, not {value!r}")


NO_FAULTS = Faults()


class FaultInjector:
    """Holds the global and per-account faults and rolls the dice with one seedable RNG."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._global = NO_FAULTS
        self._per_key: dict[str, Faults] = {}
        self._rng = random.Random()
        self._injected: dict[str, Counter[str]] = {}  # per account: kind -> how many

    def set(self, faults: Faults, *, api_key: str | None = None, seed: int | None = None) -> None:
        with self._lock:
            if api_key is None:
                self._global = faults
            else:
                self._per_key[api_key] = faults
            if seed is not None:
                self._rng.seed(seed)

    def clear(self, api_key: str | None = None) -> None:
        """Forget the faults of one account, or every fault when ``api_key`` is None."""
        with self._lock:
            if api_key is None:
                self._global = NO_FAULTS
                self._per_key.clear()
                self._injected.clear()
            else:
                self._per_key.pop(api_key, None)

    def for_key(self, api_key: str | None) -> Faults:
        with self._lock:
            return self._per_key.get(api_key or "", self._global)

    def describe(self, api_key: str | None) -> dict[str, Any]:
        return self.for_key(api_key).as_json()

    def note(self, api_key: str | None, kind: str) -> None:
        """Count one injected fault (an HTTP status, ``timeout``, ``failed_generation``,
        ``dropped_webhook``) for the stats."""
        with self._lock:
            self._injected.setdefault(api_key or "", Counter())[kind] += 1

    def injected(self, api_key: str | None) -> dict[str, int]:
        """The faults injected so far for one account, by kind."""
        with self._lock:
            return dict(sorted(self._injected.get(api_key or "", Counter()).items()))

    def chance(self, probability: float) -> bool:
        if probability <= 0.0:
            return False
        with self._lock:
            return self._rng.random() < probability

    def pick_error(self, faults: Faults) -> int | None:
        """One roll over all configured error statuses: the status to inject, or None."""
        if not faults.error_rates:
            return None
        with self._lock:
            roll = self._rng.random()
        threshold = 0.0
        for status, probability in sorted(faults.error_rates.items()):
            threshold += probability
            if roll < threshold:
                return status
        return None
