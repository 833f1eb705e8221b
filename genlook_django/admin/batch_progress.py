"""The batch jobs' list with live progress: each row's counts come with the list's own
query, the running jobs are advanced when the list is shown (without a worker, by the
same ``batches.poll_through`` as a job's own page), and a small script refreshes the
bars from ``progress/`` while any job listed is open."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from genlook_django.models import BatchJob
from genlook_django.services import batches

OPEN_JOB_STATES = (BatchJob.State.QUEUED, BatchJob.State.RUNNING)
LIVE_JOBS_LIMIT = 20  # running jobs the list advances and follows at a time


def render_progress(progress: batches.Progress) -> str:
    return format_html(
        '<progress max="{}" value="{}"></progress> <span data-genlook-progress-text>{} / {}{}'
        "</span>",
        progress.total or 1,
        progress.done,
        progress.done,
        progress.total,
        format_html(", {} failed", progress.failed) if progress.failed else "",
    )


def _progress_of(job: BatchJob) -> batches.Progress:
    return batches.Progress(
        getattr(job, "items_total", 0),
        getattr(job, "items_completed", 0),
        getattr(job, "items_failed", 0),
    )


class LiveProgressMixin:
    """For ``BatchJobAdmin``: the ``progress_column``, and the ``progress/`` view."""

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        # Each row's progress counted in the list's own query, not one query per row.
        queryset = super().get_queryset(request)  # type: ignore[misc]
        return queryset.annotate(**batches.PROGRESS_COUNTS)

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        batches.advance_open_jobs(limit=LIVE_JOBS_LIMIT)  # a no-op when a worker runs
        return super().changelist_view(request, extra_context)  # type: ignore[misc]

    @admin.display(description=_("progress"))
    def progress_column(self, job: BatchJob) -> str:
        return format_html(
            '<span class="genlook-batch-live" data-genlook-job="{}" data-genlook-open="{}">'
            "{}</span>",
            job.pk,
            "1" if job.state in OPEN_JOB_STATES else "0",
            render_progress(_progress_of(job)),
        )

    def progress_view(self, request: HttpRequest) -> HttpResponse:
        """The progress of the jobs listed (``?ids=1,2``), the open ones advanced first
        when no worker runs."""
        if not self.has_view_permission(request):  # type: ignore[attr-defined]
            raise PermissionDenied
        ids = [int(pk) for pk in request.GET.get("ids", "").split(",") if pk.isdigit()]
        ids = ids[:LIVE_JOBS_LIMIT]
        for job in BatchJob.objects.filter(pk__in=ids, state__in=OPEN_JOB_STATES):
            batches.poll_through(job)
        jobs = BatchJob.objects.filter(pk__in=ids).annotate(**batches.PROGRESS_COUNTS)
        payload = {
            str(job.pk): {
                "state": job.state,
                "state_label": str(job.get_state_display()),
                "open": job.state in OPEN_JOB_STATES,
                "html": str(render_progress(_progress_of(job))),
            }
            for job in jobs
        }
        response = JsonResponse({"jobs": payload})
        response["Cache-Control"] = "no-store"
        return response
