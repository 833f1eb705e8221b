"""``manage.py genlook_replay_webhooks``: process stored webhook deliveries again.

Examples::

    manage.py genlook_replay_webhooks                    # those whose processing failed
    manage.py genlook_replay_webhooks --pending          # accepted, never processed
    manage.py genlook_replay_webhooks --failed --since 2h
    manage.py genlook_replay_webhooks --ids 41 42
    manage.py genlook_replay_webhooks --failed --enqueue # hand them to Celery instead

Only accepted deliveries are processed (a rejected one was never authenticated). Replaying
is harmless: each delivery is confirmed with Genlook again, and a finished try-on is never
changed.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import datetime, timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Q
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from genlook_django.models import WebhookDelivery
from genlook_django.services import webhooks

Outcome = WebhookDelivery.Outcome
DURATION = re.compile(r"^(\d+(?:\.\d+)?)\s*([smhd])$")
UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
# A delivery pending for less than this may simply not have been processed yet.
PENDING_GRACE = timedelta(minutes=1)


def parse_since(value: str) -> datetime:
    """``2h``, ``30m``, ``1d`` (ago), an ISO date or an ISO date and time."""
    value = value.strip()
    match = DURATION.match(value)
    if match:
        return timezone.now() - timedelta(seconds=float(match[1]) * UNITS[match[2]])
    when = parse_datetime(value)
    if when is None:
        day = parse_date(value)
        if day is None:
            raise CommandError(f"--since {value!r}: use e.g. 2h, 30m, 1d, or 2026-05-20[T10:00].")
        when = datetime(day.year, day.month, day.day)
    if timezone.is_naive(when):
        when = timezone.make_aware(when)
    return when


class Command(BaseCommand):
    help = "Process accepted webhook deliveries again (by default those whose processing failed)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--failed", action="store_true", help="Deliveries whose processing failed."
        )
        parser.add_argument(
            "--pending",
            action="store_true",
            help="Accepted deliveries never processed (e.g. lost by the broker).",
        )
        parser.add_argument("--ids", nargs="+", type=int, metavar="PK", help="These deliveries.")
        parser.add_argument("--since", help="Received since: 2h, 30m, 1d, or an ISO date/time.")
        parser.add_argument(
            "--enqueue", action="store_true", help="Hand them to Celery instead of processing here."
        )
        parser.add_argument("--dry-run", action="store_true", help="List them; process nothing.")

    def handle(self, *args: Any, **options: Any) -> None:
        rows = WebhookDelivery.objects.filter(verdict=WebhookDelivery.Verdict.ACCEPTED)
        if options["ids"]:
            rows = rows.filter(pk__in=options["ids"])
        wanted = Q()
        if options["failed"] or not (options["pending"] or options["ids"]):
            wanted |= Q(outcome=Outcome.FAILED)
        if options["pending"]:
            wanted |= Q(outcome=Outcome.PENDING, received_at__lte=timezone.now() - PENDING_GRACE)
        rows = rows.filter(wanted)
        if options["since"]:
            rows = rows.filter(received_at__gte=parse_since(options["since"]))
        ids = list(rows.order_by("received_at").values_list("pk", flat=True))
        if options["ids"]:
            missing = set(options["ids"]) - set(ids)
            if missing:
                self.stderr.write(
                    "Skipped (unknown, rejected, or not matching the filters): "
                    + ", ".join(str(pk) for pk in sorted(missing))
                )
        if not ids:
            self.stdout.write("No delivery to replay.")
            return
        if options["dry_run"]:
            self.stdout.write(f"Dry run: {len(ids)} deliveries would be replayed:")
            for row in WebhookDelivery.objects.filter(pk__in=ids).order_by("received_at"):
                self.stdout.write(
                    f"  #{row.pk} {row.received_at:%Y-%m-%d %H:%M:%S} {row.generation_id} "
                    f"{row.status_hint} ({row.outcome}, {row.reason or '-'})"
                )
            return

        webhooks.mark_for_reprocessing(ids)
        if options["enqueue"]:
            for pk in ids:
                webhooks.enqueue(pk)
            self.stdout.write(f"{len(ids)} deliveries handed to Celery.")
            return
        outcomes: Counter[str] = Counter()
        for number, pk in enumerate(ids, start=1):
            outcome = webhooks.process(pk)
            outcomes[outcome] += 1
            if options["verbosity"] >= 2:
                self.stdout.write(f"  [{number}/{len(ids)}] #{pk}: {outcome}")
        summary = ", ".join(f"{count} {outcome}" for outcome, count in sorted(outcomes.items()))
        self.stdout.write(f"Replayed {len(ids)} deliveries: {summary}.")
        if outcomes[Outcome.FAILED]:
            raise CommandError(
                f"{outcomes[Outcome.FAILED]} still failed: see their traceback in the admin "
                "(Webhook deliveries, outcome “Processing failed”)."
            )
