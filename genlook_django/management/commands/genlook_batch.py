"""``manage.py genlook_batch``: try model photos on products, for the catalog.

Examples::

    manage.py genlook_batch --photo model-a.jpg --photo model-b.jpg shop.Product
    manage.py genlook_batch --photo model.jpg shop.product:12 shop.product:15 --output out/
    manage.py genlook_batch --photo model.jpg shop.Product --ids 3 7 --enqueue

Every (photo, product) pair becomes one try-on of a ``BatchJob`` (listed in the admin under
*Batch jobs*, with a gallery per product). By default the command runs the job itself, in
``--workers`` threads within the shared request budget; ``--enqueue`` hands it to the
Celery workers instead and follows its progress (``--no-wait``: returns at once).
"""

from __future__ import annotations

import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from genlook_django.conf import genlook_settings
from genlook_django.models import BatchItem, BatchJob
from genlook_django.services import batches, catalog, files
from genlook_django.services.tryons import photos

from .genlook_sync import ProgressBar


class BatchProgressBar(ProgressBar):
    """genlook_sync's bar, counting try-ons (completed or failed) instead of API calls."""

    unit = " try-ons"

    def throughput(self, rate: float) -> str:
        return f"{rate * 60:6.1f}/min"


class Command(BaseCommand):
    help = "Try model photos on products in a batch (catalog images), within the rate budget."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "products",
            nargs="+",
            metavar="PRODUCT",
            help='"app_label.Model" (every try-on-able product of it) or "app_label.model:pk".',
        )
        parser.add_argument(
            "--photo",
            action="append",
            required=True,
            metavar="FILE",
            help="A model photo (JPEG, PNG, WebP); repeatable.",
        )
        parser.add_argument("--ids", nargs="+", metavar="PK", help="Only these products.")
        parser.add_argument("--name", default="", help="A name for the job (shown in the admin).")
        parser.add_argument(
            "--watermark", action="store_true", help="Ask Genlook for its watermark."
        )
        parser.add_argument(
            "--workers",
            type=int,
            help="Try-ons run at once (default: GENLOOK SYNC_WORKERS); the shared request "
            "budget bounds the rate whatever this is.",
        )
        parser.add_argument(
            "--enqueue", action="store_true", help="Run on the Celery workers, not here."
        )
        parser.add_argument(
            "--no-wait", action="store_true", help="With --enqueue: do not follow the job."
        )
        parser.add_argument(
            "--output", metavar="DIR", help="Also write the results there, a folder per product."
        )
        parser.add_argument("--no-progress", action="store_true", help="Only the summary.")

    def products(self, specs: list[str], ids: list[str] | None) -> list[Any]:
        found: list[Any] = []
        for spec in specs:
            label, _sep, pk = spec.partition(":")
            try:
                adapter = catalog.get_adapter(label)
            except (catalog.NotRegistered, LookupError, ValueError) as exc:
                raise CommandError(f"{label}: not a registered product model ({exc}).") from exc
            queryset = adapter.get_queryset()
            if pk:
                queryset = queryset.filter(pk=pk)
            elif ids:
                queryset = queryset.filter(pk__in=ids)
            matched = [product for product in queryset if adapter.should_sync(product)]
            if pk and not matched:
                raise CommandError(f"{spec}: no such product, or it cannot be tried on.")
            found.extend(matched)
        if not found:
            raise CommandError("No product to try on.")
        return found

    def handle(self, *args: Any, **options: Any) -> None:
        photo_files = []
        for path in options["photo"]:
            try:
                photo_files.append((Path(path).name, Path(path).read_bytes()))
            except OSError as exc:
                raise CommandError(f"{path}: {exc}") from exc
        products = self.products(options["products"], options["ids"])
        try:
            job = batches.create_job(
                photos_in=photo_files,
                products=products,
                name=options["name"],
                watermark=options["watermark"],
            )
        except (batches.BatchError, photos.PhotoError) as exc:
            raise CommandError(str(exc)) from exc
        total = batches.progress(job).total
        self.stdout.write(
            f"Batch {job.pk}: {len(photo_files)} photo(s) x {len(products)} product(s) = "
            f"{total} try-ons with {genlook_settings.BASE_URL}"
        )
        bar = None if options["no_progress"] else BatchProgressBar(self.stdout, total)

        def on_item(item: BatchItem) -> None:
            if bar is not None:
                bar.update(SimpleNamespace(requests=0, ok=item.state == BatchItem.State.COMPLETED))

        if options["enqueue"]:
            batches.start(job)
            if options["no_wait"]:
                self.stdout.write(f"Enqueued: follow it in the admin (batch job {job.pk}).")
                return
            seen: set[int] = set()
            while True:
                job.refresh_from_db()
                batches.poll_through(job)
                for item in BatchItem.objects.filter(job=job, state__in=BatchItem.FINAL_STATES):
                    if item.pk not in seen:
                        seen.add(item.pk)
                        on_item(item)
                if job.state in (BatchJob.State.DONE, BatchJob.State.CANCELLED):
                    break
                time.sleep(1.0)
        else:
            workers = options["workers"] or int(genlook_settings.SYNC_WORKERS)
            batches.run_in_process(job, workers=workers, on_item=on_item)
        if bar is not None:
            bar.close()
        progress = batches.progress(job)
        self.stdout.write(
            f"Batch {job.pk}: {progress.completed} completed, {progress.failed} failed "
            f"of {progress.total}."
        )
        for item in BatchItem.objects.filter(job=job, state=BatchItem.State.FAILED)[:20]:
            self.stdout.write(f"  failed: {item}: {item.error_code} {item.error_message[:120]}")
        if options["output"]:
            self.write_results(job, Path(options["output"]))
        if progress.failed:
            raise CommandError(f"{progress.failed} try-on(s) failed.", returncode=2)

    def write_results(self, job: BatchJob, folder: Path) -> None:
        storage = files.results_storage()
        written = 0
        completed = BatchItem.objects.filter(job=job, state=BatchItem.State.COMPLETED)
        for item in completed.select_related("photo", "content_type"):
            product = f"{item.content_type.app_label}.{item.content_type.model}-{item.object_id}"
            target = folder / product / f"photo{item.photo_id}-item{item.pk}.jpg"
            target.parent.mkdir(parents=True, exist_ok=True)
            with storage.open(item.result_file, "rb") as stored:
                target.write_bytes(stored.read())
            written += 1
        self.stdout.write(f"{written} image(s) written under {folder}.")
