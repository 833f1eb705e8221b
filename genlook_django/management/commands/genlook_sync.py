"""``manage.py genlook_sync``: push the registered product catalog to Genlook.

Examples::

    manage.py genlook_sync                        # every registered model
    manage.py genlook_sync shop.Product           # one model
    manage.py genlook_sync shop.Product --ids 3 7 # some products
    manage.py genlook_sync --dry-run              # what would be pushed or deleted
    manage.py genlook_sync --dry-run -v 2         # and why each skipped product is skipped
    manage.py genlook_sync --force                # push unchanged products too

Unchanged products cost no API call, so an interrupted run is resumed by running it again.
Products whose lifetime at Genlook (``valid_for_days``) ends within the hour are pushed
again, which restarts it: with short lifetimes, run this daily.
"""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser, OutputWrapper

from genlook_django.conf import genlook_settings
from genlook_django.services import catalog


class ProgressBar:
    """A one-line bar redrawn in place on a terminal; a line per 10% anywhere else.

    ``stream`` is a command's ``OutputWrapper`` (``self.stdout``).
    """

    unit = ""  # what is counted, after the count

    def __init__(self, stream: OutputWrapper, total: int, *, width: int = 30) -> None:
        self.stream = stream
        self.total = max(total, 0)
        self.width = width
        self.done = 0
        self.failed = 0
        self.requests = 0
        self.started = time.monotonic()
        self.tty = stream.isatty()
        self._drawn_at = 0.0
        self._decile = -1

    def update(self, result: catalog.SyncResult) -> None:
        self.done += 1
        self.requests += result.requests
        self.failed += not result.ok
        now = time.monotonic()
        if self.tty:
            if now - self._drawn_at >= 0.1 or self.done >= self.total:
                self._drawn_at = now
                self.stream.write("\r" + self.line(), ending="")
                self.stream.flush()
        else:
            decile = min(10, self.done * 10 // self.total) if self.total else 10
            if decile > self._decile:
                self._decile = decile
                self.stream.write(self.line())

    def line(self) -> str:
        total = max(self.total, self.done)
        fraction = self.done / total if total else 1.0
        filled = int(self.width * fraction)
        elapsed = time.monotonic() - self.started
        rate = self.done / elapsed if elapsed > 0 else 0.0
        eta = (total - self.done) / rate if rate > 0 else 0.0
        failed = f"  {self.failed} failed" if self.failed else ""
        return (
            f"[{'#' * filled}{'.' * (self.width - filled)}] {self.done}/{total}{self.unit} "
            f"{fraction:4.0%}  {self.throughput(rate)}  ETA {eta:4.0f}s{failed}"
        )

    def throughput(self, rate: float) -> str:
        return f"{rate:6.1f}/s  {self.requests} calls"

    def close(self) -> None:
        if self.tty and self.done:
            self.stream.write("\r" + self.line())


class Command(BaseCommand):
    help = (
        "Push registered products to Genlook (POST /products), delete those the shop no "
        "longer offers, skip those unchanged since their last push."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "models", nargs="*", metavar="app_label.Model", help="Default: every registered model."
        )
        parser.add_argument(
            "--ids", nargs="+", metavar="PK", help="Only these primary keys (of one model)."
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Report what would change; call nothing."
        )
        parser.add_argument("--force", action="store_true", help="Push unchanged products too.")
        parser.add_argument(
            "--workers",
            type=int,
            help="Threads pushing in parallel (default: GENLOOK SYNC_WORKERS); the shared "
            "request budget bounds the rate whatever this is.",
        )
        parser.add_argument(
            "--no-prune",
            action="store_true",
            help="Keep Genlook products whose shop product no longer exists.",
        )
        parser.add_argument(
            "--no-progress", action="store_true", help="No progress bar, only the summary."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if genlook_settings.classic:
            raise CommandError(
                "GENLOOK API is 'classic', which has no products catalog: there is nothing "
                "to sync (each try-on sends the product's image URL and category)."
            )
        try:
            adapters = (
                [catalog.get_adapter(label) for label in options["models"]]
                if options["models"]
                else catalog.registered_adapters()
            )
        except (catalog.NotRegistered, LookupError) as exc:
            raise CommandError(str(exc)) from exc
        if not adapters:
            raise CommandError(
                "No product model is registered: call genlook_django.register(Product) in "
                "your AppConfig.ready(), or set GENLOOK['PRODUCT_ADAPTERS']."
            )
        pks = options["ids"]
        if pks is not None and len(adapters) != 1:
            raise CommandError(
                "--ids needs exactly one model, e.g. genlook_sync shop.Product --ids 3 7"
            )
        dry_run = options["dry_run"]
        total = sum(catalog.count_catalog(adapter, pks) for adapter in adapters)
        labels = ", ".join(adapter.model._meta.label for adapter in adapters)
        verb = "Planning" if dry_run else "Syncing"
        self.stdout.write(f"{verb} {total} products ({labels}) with {genlook_settings.BASE_URL}")

        bar = None
        if not options["no_progress"] and total:
            bar = ProgressBar(self.stdout, total)
        try:
            report = catalog.sync_catalog(
                [adapter.model for adapter in adapters],
                pks=pks,
                force=options["force"],
                dry_run=dry_run,
                prune=not options["no_prune"],
                workers=options["workers"],
                progress=bar.update if bar else None,
            )
        except KeyboardInterrupt:
            if bar:
                bar.close()
            raise CommandError(
                "Interrupted. What finished is recorded: run the same command again to resume.",
                returncode=130,
            ) from None
        if bar:
            bar.close()
        self.stdout.write(("Dry run: " if dry_run else "") + report.summary())
        self.write_skips(report, options["verbosity"])
        for failure in report.failures[:20]:
            self.stderr.write(
                f"  {failure.external_id or failure.model + ':' + failure.object_id}: "
                f"{failure.error}"
            )
        if len(report.failures) > 20:
            self.stderr.write(f"  ... and {len(report.failures) - 20} more (see the admin).")
        if report.failures and not dry_run:
            raise CommandError(
                f"{len(report.failures)} product(s) failed; they are marked failed. Run the "
                "command again to retry them."
            )

    def write_skips(self, report: catalog.SyncReport, verbosity: int) -> None:
        """Why products are kept from Genlook: one line each at ``-v 2``, else a hint."""
        if not report.skips:
            return
        if verbosity < 2:
            self.stdout.write("Run with -v 2 to list each product kept from Genlook and why.")
            return
        self.stdout.write("Kept from Genlook:")
        for result in report.skips:
            label = f" {result.label!r}" if result.label else ""
            self.stdout.write(
                f"  {result.model}:{result.object_id}{label} ({result.outcome.replace('_', ' ')})"
                f" {result.reason}: {result.message}"
            )
