"""``manage.py genlook_reconcile``: poll forgotten try-ons, fail those too old.

The command form of the periodic task ``genlook.reconcile_try_ons`` (for cron, or a
deployment without Celery beat)::

    manage.py genlook_reconcile
    manage.py genlook_reconcile --limit 500

Pending try-ons nobody has checked for ``RECONCILE_AFTER`` seconds are asked about once;
any try-on still open ``RECONCILE_MAX_AGE`` seconds after it was received is failed.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from genlook_django.conf import genlook_settings
from genlook_django.services.tryons import reconcile


class Command(BaseCommand):
    help = "Poll try-ons nobody has checked lately; fail those open for too long."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--limit",
            type=int,
            default=reconcile.DEFAULT_LIMIT,
            help=f"Try-ons of each kind looked at in this run (default {reconcile.DEFAULT_LIMIT}).",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Count what would be looked at; call nothing."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        after = float(genlook_settings.RECONCILE_AFTER)
        max_age = float(genlook_settings.RECONCILE_MAX_AGE)
        if options["dry_run"]:
            stale = reconcile.stale().count()
            expired = reconcile.expired().count()
            self.stdout.write(
                f"Dry run: {stale} pending try-ons unchecked for {after:g}s would be polled; "
                f"{expired} open for more than {max_age:g}s would be checked one last time "
                "(when pending) and given up."
            )
            return
        report = reconcile.reconcile(limit=options["limit"])
        self.stdout.write(f"Reconciled try-ons: {report}.")
