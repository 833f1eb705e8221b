"""``manage.py genlook_reconcile``: poll forgotten try-ons and batch items, fail those too old.

The command form of the periodic task ``genlook.reconcile_try_ons`` (for cron, or a
deployment without Celery beat)::

    manage.py genlook_reconcile
    manage.py genlook_reconcile --limit 500

Pending try-ons and batch items nobody has checked for ``RECONCILE_AFTER`` seconds are
asked about once; any still open ``RECONCILE_MAX_AGE`` seconds on is failed (its batch job
closes when that was its last open item). Try-ons and batch items are counted apart.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from genlook_django.conf import genlook_settings
from genlook_django.services.tryons import reconcile


class Command(BaseCommand):
    help = "Poll try-ons and batch items nobody has checked lately; fail those open too long."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--limit",
            type=int,
            default=reconcile.DEFAULT_LIMIT,
            help=(
                "Records of each kind (forgotten, too old) looked at in this run, try-ons "
                f"first, then batch items (default {reconcile.DEFAULT_LIMIT})."
            ),
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Count what would be looked at; call nothing."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        after = float(genlook_settings.RECONCILE_AFTER)
        max_age = float(genlook_settings.RECONCILE_MAX_AGE)
        if options["dry_run"]:
            kinds = (
                ("try-ons", reconcile.stale(), reconcile.expired()),
                ("batch items", reconcile.stale_batch_items(), reconcile.expired_batch_items()),
            )
            for kind, stale, expired in kinds:
                self.stdout.write(
                    f"Dry run: {stale.count()} pending {kind} unchecked for {after:g}s would "
                    f"be polled; {expired.count()} open for more than {max_age:g}s would be "
                    "checked one last time (when pending) and given up."
                )
            return
        report = reconcile.reconcile(limit=options["limit"])
        self.stdout.write(f"Reconciled try-ons: {report.try_ons}.")
        self.stdout.write(f"Reconciled batch items: {report.batch_items}.")
