"""Webhook deliveries: a read-only log, with a "reprocess" action for accepted ones."""

from __future__ import annotations

import contextlib
import json
from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from genlook_django.admin.mixins import ExactIdSearchMixin, LargeListMixin, PrefixSearchMixin
from genlook_django.conf import genlook_settings
from genlook_django.models import WebhookDelivery
from genlook_django.services import webhooks

Verdict = WebhookDelivery.Verdict
Outcome = WebhookDelivery.Outcome

OUTCOME_COLOURS = {
    Outcome.PENDING: "#b26a00",
    Outcome.PROCESSED: "#1b7f3b",
    Outcome.DUPLICATE: "#666666",
    Outcome.IGNORED: "#666666",
    Outcome.FAILED: "#b00020",
    Outcome.NOT_PROCESSED: "#b00020",
}


class ReasonFilter(admin.SimpleListFilter):
    title = _("reason")
    parameter_name = "reason"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        reasons = (
            WebhookDelivery.objects.exclude(reason="")
            .order_by("reason")
            .values_list("reason", flat=True)
            .distinct()
        )
        return [(reason, reason) for reason in reasons[:50]]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value():
            return queryset.filter(reason=self.value())
        return queryset


def webhooks_notice() -> str:
    """What the list says above the deliveries: "off", "no_base_url", or nothing."""
    if not webhooks.enabled():
        return "off"
    if not genlook_settings.PUBLIC_BASE_URL:
        return "no_base_url"
    return ""


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(LargeListMixin, ExactIdSearchMixin, PrefixSearchMixin, admin.ModelAdmin):
    list_display = [
        "received_at",
        "verdict_badge",
        "reason",
        "outcome_badge",
        "try_on_link",
        "generation_id",
        "status_hint",
        "attempts",
        "remote_addr",
    ]
    list_filter = ["verdict", "outcome", ReasonFilter, ("received_at", admin.DateFieldListFilter)]
    # Indexed searches only (PrefixSearchMixin): a generation id's start, a reason, an IP;
    # an id-like term is first looked up exactly (ExactIdSearchMixin).
    search_fields = ["generation_id", "reason", "remote_addr"]
    prefix_search_fields = ("generation_id",)
    equal_search_fields = ("reason",)
    ip_search_fields = ("remote_addr",)
    exact_search_fields = ("generation_id", "body_hash")
    exact_search_uuid = "try_on__public_id"
    list_select_related = ["try_on"]
    actions = ["reprocess"]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "received_at",
                    "verdict_badge",
                    "reason",
                    "outcome_badge",
                    "try_on_link",
                ]
            },
        ),
        (_("Delivery"), {"fields": ["remote_addr", "headers_pretty", "body_pretty"]}),
        (
            _("Processing"),
            {
                "fields": [
                    "generation_id",
                    "status_hint",
                    "dedupe_key",
                    "attempts",
                    "processed_at",
                    "error",
                ]
            },
        ),
    ]

    class Media:
        css = {"all": ["genlook/admin/admin.css"]}

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> Any:
        context = {"webhooks_notice": webhooks_notice(), **(extra_context or {})}
        return super().changelist_view(request, context)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [name for fieldset in self.fieldsets for name in fieldset[1]["fields"]]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # the log is written by the receiver only

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_reprocess_permission(self, request: HttpRequest) -> bool:
        # The log is read-only here, but reprocessing is a change to what it records.
        opts = self.opts
        return request.user.has_perm(f"{opts.app_label}.change_{opts.model_name}")

    @admin.display(description=_("verdict"), ordering="verdict")
    def verdict_badge(self, obj: WebhookDelivery) -> str:
        colour = "#1b7f3b" if obj.verdict == Verdict.ACCEPTED else "#b00020"
        return format_html(
            '<strong style="color: {}">{}</strong>', colour, obj.get_verdict_display()
        )

    @admin.display(description=_("outcome"), ordering="outcome")
    def outcome_badge(self, obj: WebhookDelivery) -> str:
        return format_html(
            '<span style="color: {}">{}</span>',
            OUTCOME_COLOURS.get(obj.outcome, "#333333"),
            obj.get_outcome_display(),
        )

    @admin.display(description=_("try-on"))
    def try_on_link(self, obj: WebhookDelivery) -> str:
        if obj.try_on_id is None:
            return "-"
        url = reverse("admin:genlook_tryon_change", args=[obj.try_on_id])
        return format_html('<a href="{}">{}</a>', url, str(obj.try_on.public_id)[:8])

    @admin.display(description=_("headers"))
    def headers_pretty(self, obj: WebhookDelivery) -> str:
        return format_html("<pre>{}</pre>", json.dumps(obj.headers, indent=2, sort_keys=True))

    @admin.display(description=_("body"))
    def body_pretty(self, obj: WebhookDelivery) -> str:
        text = obj.body
        with contextlib.suppress(ValueError, RecursionError):
            text = json.dumps(json.loads(text), indent=2, ensure_ascii=False)
        note = _(" (truncated)") if obj.body_truncated else ""
        return format_html("<pre>{}</pre>{}", text, note)

    @admin.action(
        description=_("Reprocess (confirm with Genlook again)"), permissions=["reprocess"]
    )
    def reprocess(self, request: HttpRequest, queryset: QuerySet) -> None:
        """Process the selected accepted deliveries again. Harmless to repeat: each is
        checked with Genlook, and a finished try-on is never changed."""
        ids = list(queryset.filter(verdict=Verdict.ACCEPTED).values_list("pk", flat=True))
        webhooks.reprocess(ids)
        self.message_user(
            request,
            ngettext(
                "Reprocessing requested for %d delivery; its outcome shows the result.",
                "Reprocessing requested for %d deliveries; their outcome shows the result.",
                len(ids),
            )
            % len(ids),
            messages.SUCCESS,
        )
        skipped = queryset.count() - len(ids)
        if skipped:
            self.message_user(
                request,
                ngettext(
                    "%d rejected delivery skipped: only accepted ones are processed.",
                    "%d rejected deliveries skipped: only accepted ones are processed.",
                    skipped,
                )
                % skipped,
                messages.WARNING,
            )
