"""R1 (faults) and R2 (crashes) of the reliability proof, on whole stacks.

Each test starts a production-like deployment in subprocesses (``tests/integration/
stack.py``: the sandbox standalone as Genlook, PostgreSQL, gunicorn, a Celery worker on
Redis or RabbitMQ, moto's S3, Redis), so they run serially, outside pytest-xdist, with
``tests/integration``. Skipped without the services on a laptop, a failure under
``GENLOOK_REQUIRE_SERVICES=1`` (CI). Scaled down by default; ``GENLOOK_RELIABILITY=full``
runs them at full size (``tests/reliability/figures.py``).

Shared here:

- ``genlook_overrides``: timings scaled to a test (``GENLOOK_OVERRIDES``, read by
  ``example_shop/settings.py``): a read timeout of seconds, not 30, a reconciler that
  looks after seconds, not minutes;
- ``Beat``: the reconciler run every few seconds, as Celery beat would run it;
- ``submit``: try-ons started through the storefront API, one new shopper each;
- ``wait_until_final`` and ``Ledger``: what the shop's database and the sandbox say of
  them afterwards (rows, states, failure reasons, generations per try-on).
"""

from __future__ import annotations

import io
import json
import statistics
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.integration.stack import Shopper, Stack

ROOT = Path(__file__).resolve().parents[3]
FINAL = ("completed", "failed")
OPEN = ("received", "submitting", "pending")


def genlook_overrides(**settings: Any) -> dict[str, str]:
    """``extra_env`` for a stack: ``GENLOOK_OVERRIDES`` with these settings, plus room
    for hundreds of new shoppers in an hour (the shop-wide upload budget is 300)."""
    values: dict[str, Any] = {
        "UPLOAD_BUDGET": [100_000, 3600],
        "DAILY_TRY_ON_BUDGET": 100_000,
        **settings,
    }
    return {"GENLOOK_OVERRIDES": json.dumps(values)}


def person_photo() -> bytes:
    """The test photo as the widget uploads it: a 512 px JPEG."""
    from PIL import Image

    image = Image.open(ROOT / "tests" / "media" / "person-astronaut.png").convert("RGB")
    image.thumbnail((512, 512))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


class Beat(threading.Thread):
    """Celery beat's part, scaled to a test: every ``period`` seconds it publishes
    ``genlook.reconcile_try_ons`` to the stack's queue, exactly the message beat sends
    (``example_shop/deploy.py`` schedules it every minute: too slow for a test that must
    end in minutes; a real beat process would add nothing but its 1-minute schedule).
    The worker runs it, so a crashed worker delays it as it would in production."""

    def __init__(self, stack: Stack, period: float) -> None:
        super().__init__(daemon=True, name="beat")
        self.stack, self.period = stack, period
        self.sent = 0
        self.errors: list[str] = []
        self._halt = threading.Event()

    def run(self) -> None:
        while not self._halt.wait(self.period):
            try:
                self.stack.send_task("genlook.reconcile_try_ons")
                self.sent += 1
            except Exception as exc:  # the broker restarting: the next tick tries again
                self.errors.append(repr(exc))

    def stop(self) -> None:
        self._halt.set()
        self.join(timeout=10)


@dataclass
class Submitted:
    shopper: Shopper
    public_id: str
    status: str  # as the 202 answered


@dataclass
class Submissions:
    accepted: list[Submitted] = field(default_factory=list)
    refused: Counter[str] = field(default_factory=Counter)  # code of a non-202 answer
    seconds: float = 0.0


def submit(
    stack: Stack,
    product: str,
    photo: bytes,
    count: int,
    *,
    rate: float,
    threads: int = 6,
    on_submitted: Any = None,
) -> Submissions:
    """``count`` try-ons through the storefront API, each by a new shopper (its own
    session, key and address), started at ``rate`` per second over ``threads`` browsers.
    A refusal before any try-on exists (503 UPLOADS_BUSY when the photo pipeline is
    full, a quota's 429) is retried by the same shopper after its ``Retry-After``, as the
    widget's "try again" would; each is counted in ``refused``."""
    result = Submissions()
    lock = threading.Lock()
    started = time.monotonic()

    def one(index: int) -> None:
        time.sleep(max(0.0, started + index / rate - time.monotonic()))
        shopper = stack.shopper()
        for _attempt in range(20):
            response = shopper.start(product, photo)
            if response.status_code == 202:
                body = response.json()
                with lock:
                    result.accepted.append(Submitted(shopper, body["id"], body["status"]))
                if on_submitted is not None:
                    on_submitted(len(result.accepted))
                return
            try:
                code = response.json().get("code", str(response.status_code))
            except ValueError:
                code = str(response.status_code)
            with lock:
                result.refused[f"{response.status_code} {code}"] += 1
            time.sleep(min(5.0, float(response.headers.get("Retry-After") or 1)))
        raise AssertionError(f"shopper {index} was refused 20 times: {dict(result.refused)}")

    with ThreadPoolExecutor(threads) as pool:
        for future in [pool.submit(one, i) for i in range(count)]:
            future.result()
    result.seconds = time.monotonic() - started
    return result


def state_counts(stack: Stack) -> dict[str, int]:
    rows = stack.query("SELECT state, count(*) AS n FROM genlook_tryon GROUP BY state")
    return {row["state"]: row["n"] for row in rows}


def pending_deliveries(stack: Stack) -> int:
    rows = stack.query(
        "SELECT count(*) AS n FROM genlook_webhookdelivery WHERE outcome = 'pending'"
    )
    return int(rows[0]["n"])


def wait_until_final(
    stack: Stack, expected: int, *, timeout: float, tick: Any = None, interval: float = 1.0
) -> float:
    """Until ``expected`` try-ons exist, none is open and no webhook delivery waits to be
    processed (one may still give a try-on whose answer was lost its generation); the
    seconds it took. A ``TimeoutError`` names what is still open (and the logs' tails)
    after ``timeout``."""
    started = time.monotonic()
    while True:
        counts = state_counts(stack)
        if tick is not None:
            tick(counts)
        total = sum(counts.values())
        if (
            total >= expected
            and not any(counts.get(state) for state in OPEN)
            and not pending_deliveries(stack)
        ):
            return time.monotonic() - started
        if time.monotonic() - started > timeout:
            still = stack.query(
                "SELECT public_id, state, error_code, created_at, submitted_at, generation_id "
                "FROM genlook_tryon WHERE state IN ('received', 'submitting', 'pending') "
                "ORDER BY created_at LIMIT 10"
            )
            raise TimeoutError(
                f"after {timeout:g}s: {counts} (expected {expected} final); open: {still}\n"
                + stack.diagnostics()
            )
        time.sleep(interval)


class Ledger:
    """The try-ons as the shop's database holds them, and the generations as the sandbox
    holds them (``_sandbox/generations``), matched by the shopper key, which the shop
    sends as ``externalUserId`` with every upload and try-on: each shopper here started
    one try-on, so a shopper's generations are its try-on's, lost answers included."""

    def __init__(self, stack: Stack) -> None:
        self.rows = stack.query(
            "SELECT id, public_id::text AS public_id, shopper_key, state, error_code, "
            "error_message, generation_id, result_file, created_at, submitted_at, "
            "finished_at FROM genlook_tryon ORDER BY id"
        )
        self.generations = stack.sandbox_generations()
        self.stats = stack.sandbox_stats()
        self.by_public_id = {row["public_id"]: row for row in self.rows}
        self.per_shopper = Counter(g["externalUserId"] for g in self.generations)
        self.generation_ids = {g["generationId"]: g for g in self.generations}

    def generations_of(self, row: dict[str, Any]) -> int:
        return self.per_shopper.get(row["shopper_key"], 0)

    @property
    def max_generations_per_try_on(self) -> int:
        return max((self.generations_of(row) for row in self.rows), default=0)

    @property
    def strays(self) -> list[dict[str, Any]]:
        """Generations no try-on's shopper accounts for."""
        keys = {row["shopper_key"] for row in self.rows}
        return [g for g in self.generations if g["externalUserId"] not in keys]

    def states(self) -> Counter[str]:
        return Counter(row["state"] for row in self.rows)

    def failures(self) -> Counter[str]:
        return Counter(row["error_code"] for row in self.rows if row["state"] == "failed")

    def seconds_to_final(self) -> list[float]:
        return [
            (row["finished_at"] - row["created_at"]).total_seconds()
            for row in self.rows
            if row["finished_at"] is not None
        ]

    def timing(self) -> dict[str, str]:
        seconds = self.seconds_to_final()
        return {
            "time_to_final_p50": f"{statistics.median(seconds):.1f}s" if seconds else "-",
            "time_to_final_p95": f"{percentile(seconds, 0.95):.1f}s",
            "time_to_final_max": f"{max(seconds, default=0.0):.1f}s",
        }

    def credits_spent(self, initial: int) -> int:
        return initial - int(self.stats["creditBalance"])

    def problems(self, accepted: list[Submitted]) -> list[str]:
        """What R1 and R2 both forbid: a lost try-on, one left open, a failure without a
        reason, a completion without a result, more than one generation per try-on, a
        generation no try-on accounts for, a completion whose generation is not its own."""
        problems = []
        for submitted in accepted:
            if submitted.public_id not in self.by_public_id:
                problems.append(f"lost: {submitted.public_id} answered 202 but has no row")
        if len(self.rows) != len(accepted):
            problems.append(f"{len(self.rows)} rows for {len(accepted)} accepted try-ons")
        for row in self.rows:
            name = row["public_id"]
            if row["state"] not in FINAL:
                problems.append(f"{name} still {row['state']}")
            if row["state"] == "failed" and not (row["error_code"] and row["error_message"]):
                problems.append(f"{name} failed without a reason")
            if row["state"] == "completed":
                if not row["result_file"] or not row["generation_id"]:
                    problems.append(f"{name} completed without a result or generation")
                generation = self.generation_ids.get(row["generation_id"])
                if generation is None or generation["externalUserId"] != row["shopper_key"]:
                    problems.append(f"{name} completed with a generation not its own")
                elif generation["status"] != "COMPLETED":
                    problems.append(f"{name} completed, its generation {generation['status']}")
            if self.generations_of(row) > 1:
                problems.append(f"{name}: {self.generations_of(row)} generations at Genlook")
        problems += [f"stray generation {g['generationId']}" for g in self.strays]
        return problems
