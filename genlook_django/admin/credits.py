"""The credits dashboard: the changelist of ``CreditSnapshot``, listed in the admin index as
"Credits and usage" and guarded by ``genlook.view_creditsnapshot``.

Works with whatever ``AdminSite`` the host registers the app's admin on (it is a plain
``ModelAdmin`` with two views of its own). Everything it shows comes from
``services.credits``; the balance is the only API call, cached, and refreshed by the
"Refresh" button (a POST).
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from genlook_django.conf import genlook_settings
from genlook_django.models import CreditSnapshot, TryOn
from genlook_django.services import credits, ledger

from . import dialect
from .charts import Series, bar_chart, line_chart

TOP_UP_URL = "https://platform.genlook.app/topup"
RECENT_SNAPSHOTS = 6


def _percent(value: float | None) -> str:
    return "\N{EN DASH}" if value is None else f"{value * 100:.0f}%"


def _seconds(value: float | None) -> str:
    return "\N{EN DASH}" if value is None else f"{value:.1f} s"


def dashboard_context(request: HttpRequest, site: str = "admin") -> dict[str, Any]:
    """Everything the dashboard template shows (the balance may come from the cache)."""
    balance = credits.get_balance()
    now = timezone.now()  # after the balance: its snapshot belongs in the charts
    projection = credits.projection(balance.credits, now=now)
    days = credits.daily_stats(now=now)
    last_week = days[-credits.RATE_DAYS :]
    history = credits.balance_history(now=now)
    funnel = credits.funnel(now=now)
    threshold = genlook_settings.LOW_BALANCE_THRESHOLD
    changelist = reverse(f"{site}:genlook_tryon_changelist")

    labels = [date_format(day.day, "j M") for day in days]
    tryons_chart = bar_chart(
        str(_("Try-ons per day, last 30 days")),
        labels,
        [
            Series(str(_("Completed")), [d.completed for d in days], "genlook-series-ok"),
            Series(str(_("Failed")), [d.failed for d in days], "genlook-series-failed"),
        ],
    )
    balance_chart = None
    if history:
        balance_chart = line_chart(
            str(_("Credit balance, end of day")),
            [date_format(day, "j M") for day, _value in history],
            [Series(str(_("Credits")), [value for _day, value in history], "genlook-series-1")],
        )
    funnel_chart = bar_chart(
        str(_("Try-on funnel, last 30 days")),
        [str(_("Started")), str(_("Completed")), str(_("Added to cart"))],
        [
            Series(
                str(_("Try-ons")),
                [funnel.started, funnel.completed, funnel.added_to_cart],
                "genlook-series-1",
            )
        ],
    )
    timings = credits.timings(now=now)
    errors = [
        (
            code,
            count,
            changelist + "?" + urlencode({"state__exact": "failed", "error_code": code}),
        )
        for code, count in credits.top_errors(now=now)
    ]
    return {
        "balance": balance,
        "fetched_recently": balance.fetched_at is not None
        and (now - balance.fetched_at).total_seconds() < 60,
        "threshold": threshold,
        "is_low": threshold is not None
        and balance.credits is not None
        and balance.credits < int(threshold),
        "projection": projection,
        "per_day": f"{projection.per_day:.1f}",
        "days_left": None if projection.days_left is None else int(projection.days_left),
        "started_week": sum(d.started for d in last_week),
        "completed_week": sum(d.completed for d in last_week),
        "failed_week": sum(d.failed for d in last_week),
        "success_week": _percent(credits.success_rate(last_week)),
        "success_month": _percent(credits.success_rate(days)),
        "tryons_chart": tryons_chart,
        "balance_chart": balance_chart,
        "funnel": funnel,
        "funnel_chart": funnel_chart,
        "funnel_completed_rate": _percent(funnel.rate(funnel.completed, funnel.started)),
        "funnel_cart_rate": _percent(funnel.rate(funnel.added_to_cart, funnel.completed)),
        "timings": timings,
        "median": _seconds(timings.median_seconds),
        "p90": _seconds(timings.p90_seconds),
        "errors": errors,
        "snapshots": CreditSnapshot.objects.order_by("-taken_at", "-pk")[:RECENT_SNAPSHOTS],
        "spending": ledger.spending(since=credits.chart_start(now=now), now=now),
        "top_up_url": TOP_UP_URL,
        "tryons_url": changelist,
        "failed_url": changelist + "?" + urlencode({"state__exact": TryOn.State.FAILED}),
        "can_view_tryons": request.user.has_perm("genlook.view_tryon"),
        "watermark_url": reverse(f"{site}:genlook_watermarksettings_changelist"),
        "can_view_watermark": request.user.has_perm("genlook.view_watermarksettings")
        or request.user.has_perm("genlook.change_watermarksettings"),
    }


@admin.register(CreditSnapshot)
class CreditsAdmin(admin.ModelAdmin):
    """Its changelist is the credits dashboard; snapshots are a read-only log."""

    dashboard_template = "admin/genlook/creditsnapshot/dashboard.html"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_urls(self) -> list[Any]:
        info = self.opts.app_label, self.opts.model_name
        return [
            path(
                "refresh/",
                self.admin_site.admin_view(self.refresh_view),
                name="{}_{}_refresh".format(*info),
            ),
            *super().get_urls(),
        ]

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        dialect.warn_if_unavailable(request, "credits")
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("Credits and usage"),
            **dashboard_context(request, self.admin_site.name),
            **(extra_context or {}),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, self.dashboard_template, context)

    def change_view(self, request: HttpRequest, object_id: str, *args: Any, **kwargs: Any):
        # A snapshot has nothing to show beyond the dashboard's table.
        return HttpResponseRedirect(self._dashboard_url())

    def _dashboard_url(self) -> str:
        return reverse(f"{self.admin_site.name}:genlook_creditsnapshot_changelist")

    def refresh_view(self, request: HttpRequest) -> HttpResponse:
        return require_POST(self._refresh)(request)

    def _refresh(self, request: HttpRequest) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        if dialect.unavailable("credits"):  # the page's banner says why
            return HttpResponseRedirect(self._dashboard_url())
        balance = credits.get_balance(refresh=True)
        if balance.error:
            messages.error(
                request,
                _("Genlook could not be reached (%(error)s): the balance shown is the last known.")
                % {"error": balance.error},
            )
        else:
            messages.success(
                request,
                _("Balance refreshed: %(credits)s credits.") % {"credits": balance.credits},
            )
        return HttpResponseRedirect(self._dashboard_url())
