"""The retention purge from the admin, beside ``manage.py genlook_purge``: a page under
the try-ons (``purge/``) showing what the purge would delete now (its dry run, counts
only) and a button that runs it (the ``genlook.purge_expired`` task, on commit: inline
without a worker). Needs the ``delete_tryon`` permission."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _

from genlook_django import jobs
from genlook_django.conf import genlook_settings
from genlook_django.services import retention

PURGE_TEMPLATE = "admin/genlook/tryon/purge.html"


def can_purge(request: HttpRequest, app_label: str) -> bool:
    return request.user.has_perm(f"{app_label}.delete_tryon")


class RetentionPurgeMixin:
    """For ``TryOnAdmin``: the ``purge/`` page."""

    def purge_urls(self) -> list[Any]:
        info = self.opts.app_label, self.opts.model_name  # type: ignore[attr-defined]
        view = self.admin_site.admin_view(self.purge_view)  # type: ignore[attr-defined]
        return [path("purge/", view, name="{}_{}_purge".format(*info))]

    def purge_view(self, request: HttpRequest) -> HttpResponse:
        opts = self.opts  # type: ignore[attr-defined]
        if not can_purge(request, opts.app_label):
            raise PermissionDenied
        here = reverse(f"{self.admin_site.name}:{opts.app_label}_{opts.model_name}_purge")  # type: ignore[attr-defined]
        if request.method == "POST":
            jobs.enqueue_on_commit("genlook.purge_expired")
            self.message_user(  # type: ignore[attr-defined]
                request,
                _("Purge started; the figures below show what is left to purge."),
                messages.SUCCESS,
            )
            return HttpResponseRedirect(here)
        report = retention.purge_expired(dry_run=True).as_dict()
        lines = [
            (
                key,
                label.replace("deleted", "to delete").replace("anonymised", "to anonymise"),
                report[key],
            )
            for key, label in retention.REPORT_LINES
        ]
        context = {
            **self.admin_site.each_context(request),  # type: ignore[attr-defined]
            "title": _("Retention purge"),
            "opts": opts,
            "lines": lines,
            "nothing_to_do": not any(report.values()),
            "retention_days": genlook_settings.RETENTION_DAYS,
            "stats_retention_days": genlook_settings.STATS_RETENTION_DAYS,
            "runs_inline": jobs.runs_inline(),
        }
        request.current_app = self.admin_site.name  # type: ignore[attr-defined]
        return TemplateResponse(request, PURGE_TEMPLATE, context)
