"""Fault injection: errors, latency, late answers, failed generations, lost webhooks.

How a rate is applied (``mode``):

- ``"random"`` (the default): each decision is a draw. Every fault configuration has its
  own generators, one per kind of fault (errors, late answers, failed generations, dropped
  webhooks), seeded from the configuration's ``seed`` and the kind's name: with a seed, the
  n-th decision of a kind is the same on every run, whatever other kinds, accounts or
  unrelated code draw in between (only the order of concurrent requests can vary).
- ``"even"``: no chance at all. A rate p injects exactly p of the decisions, evenly
  spread: at 10%, the 10th, 20th, 30th... (a rate of 1/k is "every k-th"); with several
  error statuses, each gets its own share. A test asserting "at least one X happened"
  needs only enough decisions, never luck.

And forced counts, taken before any rate: ``drop_next_webhooks`` drops the next N
webhooks, ``fail_next_generations`` fails the next N accepted generations.
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from fractions import Fraction
from typing import Any

DEFAULT_FAIL_CODE = "GENERATION_FAILED"
MODES = ("random", "even")
# The kinds of decision, each with its own generator or share counter; the names are
# those the stats count injected faults under (an error is counted by its status).
ERROR, TIMEOUT, FAILED_GENERATION, DROPPED_WEBHOOK = (
    "error",
    "timeout",
    "failed_generation",
    "dropped_webhook",
)


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
    mode: str = "random"  # how rates are applied: "random" (seedable draws) or "even"
    drop_next_webhooks: int = 0  # forced: the next N webhooks are never sent
    fail_next_generations: int = 0  # forced: the next N accepted generations FAIL

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
        if self.mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}, not {self.mode!r}")
        for name in ("drop_next_webhooks", "fail_next_generations"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ValueError(f"{name} must be a non-negative integer, not {value!r}")

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["error_rates"] = {str(status): p for status, p in self.error_rates.items()}
        return data


def _check_probability(name: str, value: float) -> None:
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{name} must be a probability between 0 and 1, not {value!r}")


NO_FAULTS = Faults()


class _Dice:
    """The decisions of one fault configuration: per kind, a generator of its own (mode
    ``random``) or a share counter (mode ``even``), and the forced counts left."""

    def __init__(self, faults: Faults, seed: int | None) -> None:
        self.faults = faults
        self._rngs = {
            kind: random.Random(f"{seed}:{kind}") if seed is not None else random.Random()
            for kind in (ERROR, TIMEOUT, FAILED_GENERATION, DROPPED_WEBHOOK)
        }
        self._owed: Counter[str] = Counter()  # mode even: the share accrued, per kind/status
        self._forced = {
            DROPPED_WEBHOOK: faults.drop_next_webhooks,
            FAILED_GENERATION: faults.fail_next_generations,
        }

    def chance(self, kind: str, probability: float) -> bool:
        if self._forced.get(kind, 0) > 0:
            self._forced[kind] -= 1
            return True
        if probability <= 0.0:
            return False
        if self.faults.mode == "even":
            return self._even({kind: probability}) is not None
        return self._rngs[kind].random() < probability

    def pick_error(self) -> int | None:
        rates = self.faults.error_rates
        if not rates:
            return None
        if self.faults.mode == "even":
            return self._even({str(status): p for status, p in rates.items()}, int)
        roll = self._rngs[ERROR].random()
        threshold = 0.0
        for status, probability in sorted(rates.items()):
            threshold += probability
            if roll < threshold:
                return status
        return None

    def _even(self, shares: Mapping[str, float], convert: Any = str) -> Any:
        """Each decision accrues every share (exact fractions: 0.1 is 1/10); the largest
        share owed a whole fault is injected and paid. With shares adding up to at most 1,
        each is injected exactly as often as its rate says, give or take one."""
        for name, probability in shares.items():
            self._owed[name] += Fraction(str(probability))
        name, owed = max(((n, self._owed[n]) for n in sorted(shares)), key=_second)
        if owed < 1:
            return None
        self._owed[name] -= 1
        return convert(name)


def _second(pair: tuple[str, Fraction]) -> Fraction:
    return pair[1]


class FaultInjector:
    """Holds the global and per-account faults; each configuration decides with dice of
    its own (``_Dice``), so no draw is shared with another configuration or other code."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._global = _Dice(NO_FAULTS, None)
        self._per_key: dict[str, _Dice] = {}
        self._injected: dict[str, Counter[str]] = {}  # per account: kind -> how many

    def set(self, faults: Faults, *, api_key: str | None = None, seed: int | None = None) -> None:
        """Replace the faults of one account (or the global ones), with fresh dice: seeded
        with ``seed``, the same decisions in the same order on every run."""
        dice = _Dice(faults, seed)
        with self._lock:
            if api_key is None:
                self._global = dice
            else:
                self._per_key[api_key] = dice

    def clear(self, api_key: str | None = None) -> None:
        """Forget the faults of one account, or every fault when ``api_key`` is None."""
        with self._lock:
            if api_key is None:
                self._global = _Dice(NO_FAULTS, None)
                self._per_key.clear()
                self._injected.clear()
            else:
                self._per_key.pop(api_key, None)

    def _dice(self, api_key: str | None) -> _Dice:
        return self._per_key.get(api_key or "", self._global)

    def for_key(self, api_key: str | None) -> Faults:
        with self._lock:
            return self._dice(api_key).faults

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

    def decide(self, api_key: str | None, kind: str) -> bool:
        """Whether to inject one fault of ``kind`` (``timeout``, ``failed_generation``,
        ``dropped_webhook``) now, for this account; counted in the stats when it is."""
        with self._lock:
            dice = self._dice(api_key)
            probability = {
                TIMEOUT: dice.faults.timeout_rate,
                FAILED_GENERATION: dice.faults.fail_generations,
                DROPPED_WEBHOOK: dice.faults.drop_webhooks,
            }[kind]
            injected = dice.chance(kind, probability)
            if injected:
                self._injected.setdefault(api_key or "", Counter())[kind] += 1
            return injected

    def pick_error(self, api_key: str | None) -> int | None:
        """One decision over all configured error statuses: the status to inject (counted
        in the stats), or None."""
        with self._lock:
            status = self._dice(api_key).pick_error()
            if status is not None:
                self._injected.setdefault(api_key or "", Counter())[str(status)] += 1
            return status
