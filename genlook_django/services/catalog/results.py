"""What a sync did: one product's ``SyncResult``, and a bulk sync's ``SyncReport``."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from genlook_django.models import SyncedProduct


@dataclass
class SyncResult:
    """What happened to one product.

    ``outcome`` is one of ``created``, ``updated``, ``deleted``, ``unchanged`` (already in
    step: no call), ``skipped`` (not for Genlook and not there: no call), ``failed``; with
    ``dry_run``, ``would create``, ``would update``, ``would delete``.

    ``reason`` (a ``SkipReason`` value) and ``message`` say why a product is kept from
    Genlook: set on ``skipped`` results, on ``deleted``/``would delete`` ones withdrawn for
    that reason, and on failures that have one (``image_not_public``). ``label`` is the
    product as the shop shows it (``str(product)``), for such results.
    """

    outcome: str
    model: str
    object_id: str
    external_id: str | None = None
    error: BaseException | None = None
    synced_product: SyncedProduct | None = None
    requests: int = 0
    reason: str | None = None
    message: str = ""
    label: str = ""

    @property
    def ok(self) -> bool:
        return self.outcome != "failed"


@dataclass
class SyncReport:
    """The summary of a bulk sync."""

    counts: Counter = field(default_factory=Counter)
    failures: list[SyncResult] = field(default_factory=list)
    requests: int = 0
    elapsed: float = 0.0
    interrupted: bool = False
    reasons: Counter = field(default_factory=Counter)  # SkipReason value -> products
    skips: list[SyncResult] = field(default_factory=list)  # the results with a reason

    def add(self, result: SyncResult) -> None:
        self.counts[result.outcome] += 1
        self.requests += result.requests
        if result.outcome == "failed":
            self.failures.append(result)
        if result.reason:
            self.reasons[result.reason] += 1
            self.skips.append(result)

    def reasons_summary(self) -> str:
        """``"3 no_image, 1 inactive"``: the products kept from Genlook, by reason."""
        return ", ".join(f"{count} {reason}" for reason, count in self.reasons.most_common())

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def summary(self) -> str:
        order = [
            "created",
            "updated",
            "deleted",
            "unchanged",
            "skipped",
            "failed",
            "would_create",
            "would_update",
            "would_delete",
        ]
        parts = [
            f"{self.counts[k]} {k.replace('_', ' ')}"
            for k in sorted(self.counts, key=lambda k: order.index(k) if k in order else 99)
            if self.counts[k]
        ]
        rate = self.requests / self.elapsed if self.elapsed else 0.0
        text = (
            f"{self.total} products: {', '.join(parts) or 'nothing to do'}; "
            f"{self.requests} API calls in {self.elapsed:.1f}s ({rate:.1f}/s)."
        )
        if self.reasons:
            text += f" Not for Genlook, by reason: {self.reasons_summary()}."
        return text
