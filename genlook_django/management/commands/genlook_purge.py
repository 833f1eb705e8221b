"""``manage.py genlook_purge``: apply the retention settings now.

Examples::

    manage.py genlook_purge             # delete what is past RETENTION_DAYS / STATS_RETENTION_DAYS
    manage.py genlook_purge --dry-run   # only count it

Photos and result images older than ``RETENTION_DAYS`` are deleted (files and photo rows);
try-on rows are kept for the statistics, anonymised, until ``STATS_RETENTION_DAYS``. Run it
daily (cron), or schedule the Celery task ``genlook.purge_expired`` with beat.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from genlook_django.conf import genlook_settings
from genlook_django.services import retention

LINES = retention.REPORT_LINES


class Command(BaseCommand):
    help = "Delete shoppers' photos and results past RETENTION_DAYS (and old statistics)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dry-run", action="store_true", help="Count what would be deleted; change nothing."
        )

    def handle(self, *args: Any, dry_run: bool = False, **options: Any) -> None:
        days = genlook_settings.RETENTION_DAYS
        stats_days = genlook_settings.STATS_RETENTION_DAYS
        self.stdout.write(
            f"RETENTION_DAYS = {days}, STATS_RETENTION_DAYS = {stats_days}"
            + (" (dry run: nothing is deleted)" if dry_run else "")
        )
        report = retention.purge_expired(dry_run=dry_run).as_dict()
        verb = "would be " if dry_run else ""
        for key, label in LINES:
            text = label.replace("deleted", f"{verb}deleted").replace(
                "anonymised", f"{verb}anonymised"
            )
            self.stdout.write(f"  {report[key]:>7}  {text}")
        style = self.style.WARNING if dry_run else self.style.SUCCESS
        self.stdout.write(style("Dry run: nothing changed." if dry_run else "Purge done."))
