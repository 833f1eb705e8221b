"""Synced products: status, last sync, error and remote expiry, with sync actions."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from genlook_django import jobs
from genlook_django.admin import dialect
from genlook_django.admin.filters import RegisteredModelFilter
from genlook_django.admin.mixins import ExactIdSearchMixin, NoBulkDeleteMixin
from genlook_django.models import SyncedProduct
from genlook_django.services import catalog

CONFIRM_LIST_LIMIT = 100  # rows listed by name on the confirmation page; the rest counted

STATUS_COLOURS = {
    SyncedProduct.Status.PENDING: "#b26a00",
    SyncedProduct.Status.SYNCED: "#1b7f3b",
    SyncedProduct.Status.FAILED: "#b00020",
    SyncedProduct.Status.DELETED: "#666666",
}


class ImageIssuesFilter(admin.SimpleListFilter):
    title = _("image audit")
    parameter_name = "images"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [
            ("issues", _("Has issues")),
            ("ok", _("No issues")),
            ("unchecked", _("Not checked")),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() == "issues":
            return queryset.filter(images_checked_at__isnull=False).exclude(image_issues=[])
        if self.value() == "ok":
            return queryset.filter(images_checked_at__isnull=False, image_issues=[])
        if self.value() == "unchecked":
            return queryset.filter(images_checked_at__isnull=True)
        return queryset


@admin.register(SyncedProduct)
class SyncedProductAdmin(ExactIdSearchMixin, NoBulkDeleteMixin, admin.ModelAdmin):
    list_display = [
        "product_name",
        "external_id",
        "status_badge",
        "last_synced_at",
        "remote_expires_at",
        "short_error",
        "images_ok",
    ]
    list_display_links = ["external_id"]
    list_filter = ["status", ImageIssuesFilter, RegisteredModelFilter]
    search_fields = ["external_id", "object_id", "last_error"]
    # An id-like term: exact, indexed lookups first (ExactIdSearchMixin).
    exact_search_fields = ("external_id", "object_id")
    date_hierarchy = "last_synced_at"
    list_select_related = ["content_type"]
    actions = ["sync_now", "delete_at_genlook", "refresh_from_genlook", "audit_images"]
    fieldsets = [
        (None, {"fields": ["external_id", "source_link", "status_badge", "last_synced_at"]}),
        (
            _("Last error"),
            {"fields": ["last_error", "last_error_code", "failure_count"]},
        ),
        (
            _("At Genlook"),
            {"fields": ["remote_expires_at", "remote_images", "remote_pretty", "content_hash"]},
        ),
        (_("Image audit"), {"fields": ["images_checked_at", "image_issues_list"]}),
        (_("Record"), {"fields": ["created_at", "updated_at"]}),
    ]

    # What the classic API cannot do (no catalog at Genlook): only the image audit is left.
    GENLOOK_ACTIONS = ("sync_now", "delete_at_genlook", "refresh_from_genlook")

    def get_actions(self, request: HttpRequest, action_location: Any = None) -> dict[str, Any]:
        # NoBulkDeleteMixin hands action_location on to Django 6.1 (5.2 does not know it).
        actions = super().get_actions(request, action_location)
        if dialect.unavailable("products"):
            for name in self.GENLOOK_ACTIONS:
                actions.pop(name, None)
        return actions

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        dialect.warn_if_unavailable(request, "products")
        return super().changelist_view(request, extra_context)

    class Media:
        css = {"all": ["genlook/admin/admin.css"]}

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        # The products themselves, one query per product model for the page, not per row.
        return super().get_queryset(request).prefetch_related("source")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [name for fieldset in self.fieldsets for name in fieldset[1]["fields"]]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # rows are made by the sync

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # forgetting a row would lose track of the product at Genlook

    # Columns --------------------------------------------------------------------------

    @admin.display(description=_("product"), ordering="object_id")
    def product_name(self, obj: SyncedProduct) -> str:
        """The product's name (as its adapter titles it), linked to where it is edited."""
        product = obj.source
        if product is None:
            label = obj.remote.get("title") or f"#{obj.object_id}"
            return format_html('<span class="genlook-muted">{}</span>', label)
        model = type(product)
        try:
            adapter = catalog.get_adapter(model)
        except catalog.NotRegistered:
            name, url = str(product), self._admin_change_url(model, product.pk)
        else:  # the adapter says where it is edited (Oscar: its dashboard)
            name = adapter.get_title(product) or str(product)
            url = adapter.get_edit_url(product.pk, self.admin_site.name)
        if not url:
            return format_html('<span class="genlook-product-name">{}</span>', name)
        return format_html('<a class="genlook-product-name" href="{}">{}</a>', url, name)

    def _admin_change_url(self, model: Any, pk: Any) -> str | None:
        opts = model._meta
        try:
            return reverse(
                f"{self.admin_site.name}:{opts.app_label}_{opts.model_name}_change", args=[pk]
            )
        except NoReverseMatch:
            return None

    @admin.display(description=_("shop product"), ordering="object_id")
    def source_link(self, obj: SyncedProduct) -> str:
        label = f"{obj.content_type.app_label}.{obj.content_type.model} #{obj.object_id}"
        model = obj.content_type.model_class()
        if model is not None and catalog.is_registered(model):  # e.g. Oscar's dashboard
            url = catalog.get_adapter(model).get_edit_url(obj.object_id, self.admin_site.name)
        else:
            url = self._admin_change_url(model, obj.object_id) if model is not None else None
        if not url:
            return label
        return format_html('<a href="{}">{}</a>', url, label)

    @admin.display(description=_("status"), ordering="status")
    def status_badge(self, obj: SyncedProduct) -> str:
        return format_html(
            '<strong style="color:{}">{}</strong>',
            STATUS_COLOURS.get(obj.status, "inherit"),
            obj.get_status_display(),
        )

    @admin.display(description=_("error"))
    def short_error(self, obj: SyncedProduct) -> str:
        if not obj.last_error:
            return ""
        text = (
            obj.last_error
            if len(obj.last_error) <= 40
            else obj.last_error[:39] + "\N{HORIZONTAL ELLIPSIS}"
        )
        return format_html('<span title="{}">{}</span>', obj.last_error, text)

    @admin.display(description=_("images OK"), boolean=True)
    def images_ok(self, obj: SyncedProduct) -> bool | None:
        if obj.images_checked_at is None:
            return None
        return not obj.image_issues

    @admin.display(description=_("images at Genlook"))
    def remote_images(self, obj: SyncedProduct) -> str:
        return (
            format_html_join(
                "",
                '<div><a href="{}" target="_blank" rel="noopener">{}</a></div>',
                ((url, url) for url in obj.image_urls),
            )
            or "-"
        )

    @admin.display(description=_("Genlook's answer"))
    def remote_pretty(self, obj: SyncedProduct) -> str:
        return format_html(
            '<pre style="white-space:pre-wrap">{}</pre>',
            json.dumps(obj.remote, indent=2, sort_keys=True, ensure_ascii=False),
        )

    @admin.display(description=_("image issues"))
    def image_issues_list(self, obj: SyncedProduct) -> str:
        if obj.images_checked_at is None:
            return _("Not checked yet: use the action “Audit images”.")
        if not obj.image_issues:
            return _("No issues.")
        return format_html_join(
            "",
            "<div><strong>{}</strong> {} <code>{}</code></div>",
            (
                (issue.get("problem", ""), issue.get("message", ""), issue.get("url", ""))
                for issue in obj.image_issues
            ),
        )

    # Actions --------------------------------------------------------------------------

    def _registered(self, queryset: QuerySet) -> list[tuple[SyncedProduct, str]]:
        rows = []
        for row in queryset.select_related("content_type"):
            model = row.content_type.model_class()
            if model is not None and catalog.is_registered(model):
                rows.append((row, catalog.get_adapter(model).label))
        return rows

    @admin.action(description=_("Sync now (push even if unchanged)"), permissions=["change"])
    def sync_now(self, request: HttpRequest, queryset: QuerySet) -> None:
        rows = self._registered(queryset)
        for row, label in rows:
            jobs.enqueue_on_commit("genlook.sync_product", label, row.object_id, True)
        self.message_user(
            request,
            ngettext(
                "Sync requested for %d product; its status shows the outcome.",
                "Sync requested for %d products; their status shows the outcome.",
                len(rows),
            )
            % len(rows),
            messages.SUCCESS,
        )
        skipped = queryset.count() - len(rows)
        if skipped:
            self.message_user(
                request,
                _("%d product(s) skipped: their model is no longer registered.") % skipped,
                messages.WARNING,
            )

    @admin.action(description=_("Delete at Genlook…"), permissions=["change"])
    def delete_at_genlook(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        """Ask first, listing the products; the confirmation acts on exactly those.

        The confirmation form posts back the listed rows' ids in one field
        (``genlook_targets``): with "select all N", the changelist posted only the current
        page's checkboxes, and one field per row would hit DATA_UPLOAD_MAX_NUMBER_FIELDS.
        """
        deleted = SyncedProduct.Status.DELETED
        if request.POST.get("confirm") != "yes":
            targets = list(queryset.exclude(status=deleted).order_by("pk"))
            shown = targets[:CONFIRM_LIST_LIMIT]
            context = {
                **self.admin_site.each_context(request),
                "title": _("Delete these products at Genlook?"),
                "opts": self.model._meta,
                "targets": targets,
                "shown": shown,
                "hidden_count": len(targets) - len(shown),
                "target_ids": ",".join(str(row.pk) for row in targets),
                # The changelist needs one checkbox to run the action; the ids above decide.
                "selected": [targets[0].pk] if targets else [],
                "action_checkbox_name": ACTION_CHECKBOX_NAME,
            }
            return TemplateResponse(
                request, "admin/genlook/syncedproduct/delete_at_genlook.html", context
            )
        if "genlook_targets" in request.POST:  # what the confirmation page listed
            ids = [pk for pk in request.POST["genlook_targets"].split(",") if pk.isdigit()]
            queryset = SyncedProduct.objects.filter(pk__in=ids)
        targets = list(queryset.exclude(status=deleted))
        for row in targets:
            jobs.enqueue_on_commit("genlook.delete_product", row.pk)
        self.message_user(
            request,
            ngettext(
                "Deletion at Genlook requested for %d product.",
                "Deletion at Genlook requested for %d products.",
                len(targets),
            )
            % len(targets),
            messages.SUCCESS,
        )
        return None

    @admin.action(description=_("Refresh from Genlook"), permissions=["change"])
    def refresh_from_genlook(self, request: HttpRequest, queryset: QuerySet) -> None:
        ids = list(queryset.values_list("pk", flat=True))
        for pk in ids:
            jobs.enqueue_on_commit("genlook.refresh_product", pk)
        self.message_user(
            request,
            ngettext(
                "Refresh requested for %d product.", "Refresh requested for %d products.", len(ids)
            )
            % len(ids),
            messages.SUCCESS,
        )

    @admin.action(description=_("Audit images (before a credit is spent)"), permissions=["change"])
    def audit_images(self, request: HttpRequest, queryset: QuerySet) -> None:
        ids = list(queryset.values_list("pk", flat=True))
        jobs.enqueue_on_commit("genlook.audit_product_images", ids)
        self.message_user(
            request,
            ngettext(
                "Image audit requested for %d product; see the “images OK” column.",
                "Image audit requested for %d products; see the “images OK” column.",
                len(ids),
            )
            % len(ids),
            messages.SUCCESS,
        )
