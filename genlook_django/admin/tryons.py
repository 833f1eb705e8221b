"""Try-ons: a read-only log with result thumbnails, timings and error codes, and two
actions: "retry" (failed ones) and "erase this shopper" (GDPR, with a confirmation page).

Result images are streamed by an admin view (``<pk>/result/``) to staff with the view
permission; they are never linked from storage. Shoppers' photos are not shown.
"""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.urls import NoReverseMatch, path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST
from PIL import Image, UnidentifiedImageError

from genlook_django.admin.filters import RegisteredModelFilter
from genlook_django.admin.mixins import (
    ExactIdSearchMixin,
    LargeListMixin,
    NoBulkDeleteMixin,
    PrefixSearchMixin,
)
from genlook_django.models import TryOn
from genlook_django.services import files

from .retention import RetentionPurgeMixin, can_purge
from .tryon_actions import TryOnActionsMixin

THUMB_SIZE = (96, 128)  # twice the CSS size, for sharp thumbnails on dense screens
CONFIRM_LIST_LIMIT = 50


def _seconds(delta: timedelta | None) -> str:
    if delta is None:
        return "-"
    seconds = delta.total_seconds()
    return f"{seconds:.1f} s" if seconds < 120 else f"{seconds / 60:.1f} min"


def _thumbnail(content: bytes) -> bytes:
    with Image.open(io.BytesIO(content)) as image:
        image.draft("RGB", (THUMB_SIZE[0] * 2, THUMB_SIZE[1] * 2))  # JPEG: decode small
        image = image.convert("RGB")
        image.thumbnail(THUMB_SIZE)
        out = io.BytesIO()
        image.save(out, "JPEG", quality=80)
    return out.getvalue()


@admin.register(TryOn)
class TryOnAdmin(
    TryOnActionsMixin,
    RetentionPurgeMixin,
    LargeListMixin,
    ExactIdSearchMixin,
    PrefixSearchMixin,
    NoBulkDeleteMixin,
    admin.ModelAdmin,
):
    list_display = ["thumbnail", "product_link", "state_badge", "created_at", "took"]
    list_display_links = ["thumbnail"]
    list_filter = [
        "state",
        ("created_at", admin.DateFieldListFilter),
        "error_code",
        RegisteredModelFilter,
    ]
    # Prefixes, not substrings (PrefixSearchMixin): a partial id or an error code's start,
    # read off an index, never a LIKE '%term%' over every row; a whole id or a UUID is
    # found exactly first (ExactIdSearchMixin).
    search_fields = ["generation_id", "product_external_id", "error_code", "shopper_key"]
    prefix_search_fields = ("generation_id", "product_external_id")
    upper_prefix_search_fields = ("error_code",)
    equal_search_fields = ("shopper_key",)
    # An id-like term: exact, indexed lookups first (ExactIdSearchMixin).
    exact_search_fields = ("generation_id", "product_external_id", "shopper_key")
    exact_search_uuid = "public_id"
    # No date_hierarchy: its month links cost a scan of the table; the date filter does not.
    list_select_related = ["content_type"]
    list_per_page = 50
    actions = ["retry_failed", "erase_shoppers"]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "public_id",
                    "result_preview",
                    "product_link",
                    "product_external_id",
                    "state_badge",
                    "retry_of_link",
                    "shared",
                ]
            },
        ),
        (_("Outcome"), {"fields": ["error_code", "error_message", "result_file"]}),
        (
            _("Timings"),
            {
                "fields": [
                    "created_at",
                    "submitted_at",
                    "remote_finished_at",
                    "finished_at",
                    "queued",
                    "generating",
                    "total",
                    "last_checked_at",
                    "checks",
                ]
            },
        ),
        (
            _("Genlook"),
            {"fields": ["generation_id", "consent_version", "withdrawn_at", "shopper_key", "raw"]},
        ),
    ]

    class Media:
        css = {"all": ["genlook/admin/admin.css"]}

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        # The products' names, one query per product model rather than one per row.
        return super().get_queryset(request).prefetch_related("product")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [name for fieldset in self.fieldsets for name in fieldset[1]["fields"]]

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> Any:
        context = {"can_purge": can_purge(request, self.opts.app_label), **(extra_context or {})}
        return super().changelist_view(request, context)

    # Permissions: a log, not a form ----------------------------------------------------

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Rows go with their shopper ("erase this shopper") or the retention purge, which
        # also delete the files and ask Genlook to forget them.
        return False

    # URLs ------------------------------------------------------------------------------

    def get_urls(self) -> list[Any]:
        info = self.opts.app_label, self.opts.model_name
        view = self.admin_site.admin_view
        return [
            *self.purge_urls(),
            path(
                "<path:object_id>/result/",
                view(self.result_view),
                name="{}_{}_result".format(*info),
            ),
            path(
                "<path:object_id>/retry/",
                view(require_POST(self.retry_view)),
                name="{}_{}_retry".format(*info),
            ),
            path(
                "<path:object_id>/erase-shopper/",
                view(self.erase_shopper_view),
                name="{}_{}_erase_shopper".format(*info),
            ),
            *super().get_urls(),
        ]

    def _url(self, name: str, *args: Any) -> str:
        return reverse(f"{self.admin_site.name}:genlook_tryon_{name}", args=args)

    def result_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """The result image (``?thumb=1``: a small JPEG), for staff who may view try-ons."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        try_on = self.get_object(request, object_id)
        if try_on is None or not try_on.result_file:
            raise Http404
        storage = files.results_storage()
        try:
            handle = storage.open(try_on.result_file, "rb")
        except OSError:
            raise Http404 from None
        if request.GET.get("thumb"):
            with handle:
                try:
                    content = _thumbnail(handle.read())
                except (UnidentifiedImageError, OSError):
                    raise Http404 from None
            response: HttpResponse = HttpResponse(content, content_type="image/jpeg")
        else:
            response = FileResponse(handle, content_type="image/jpeg")
        response["Cache-Control"] = "private, max-age=300"
        response["X-Content-Type-Options"] = "nosniff"
        return response

    # Columns ---------------------------------------------------------------------------

    @admin.display(description=_("try-on"), ordering="created_at")
    def thumbnail(self, obj: TryOn) -> str:
        """The result's thumbnail (an empty frame without one) over the try-on's short id."""
        short_id = str(obj.public_id)[:8]
        if obj.state != TryOn.State.COMPLETED or not obj.result_file:
            image = format_html('<span class="{}"></span>', "genlook-thumb genlook-thumb--empty")
        else:
            image = format_html(
                '<img class="genlook-thumb" src="{}?thumb=1" alt="" loading="lazy" width="48" '
                'height="64">',
                self._url("result", obj.pk),
            )
        return format_html('{}<span class="genlook-id">{}</span>', image, short_id)

    @admin.display(description=_("result"))
    def result_preview(self, obj: TryOn) -> str:
        if obj.state != TryOn.State.COMPLETED or not obj.result_file:
            return "-"
        url = self._url("result", obj.pk)
        return format_html(
            '<a href="{}" target="_blank" rel="noopener"><img class="genlook-result" src="{}" '
            'alt="{}"></a>',
            url,
            url,
            _("The try-on result"),
        )

    @admin.display(description=_("state"), ordering="state")
    def state_badge(self, obj: TryOn) -> str:
        badge = format_html(
            '<span class="genlook-state genlook-state--{}">{}</span>',
            obj.state,
            obj.get_state_display(),
        )
        if not obj.error_code:
            return badge
        return format_html(
            '{}<br><code class="genlook-code" title="{}">{}</code>',
            badge,
            obj.error_message[:300],
            obj.error_code,
        )

    @admin.display(description=_("product"), ordering="object_id")
    def product_link(self, obj: TryOn) -> str:
        product = obj.product
        label = str(product) if product is not None else ""
        label = label or obj.product_external_id or f"{obj.content_type}:{obj.object_id}"
        try:
            url = reverse(
                f"{self.admin_site.name}:{obj.content_type.app_label}_"
                f"{obj.content_type.model}_change",
                args=[obj.object_id],
            )
        except NoReverseMatch:
            return format_html("{}", label)
        return format_html('<a href="{}">{}</a>', url, label)

    @admin.display(description=_("retry of"))
    def retry_of_link(self, obj: TryOn) -> str:
        if obj.retry_of_id is None:
            return "-"
        original = TryOn.objects.filter(pk=obj.retry_of_id).only("public_id").first()
        if original is None:
            return "-"
        return format_html(
            '<a href="{}">{}</a>',
            self._url("change", original.pk),
            str(original.public_id)[:8],
        )

    @admin.display(description=_("shared"))
    def shared(self, obj: TryOn) -> str:
        """The share links that still open this look, linked to their list (to revoke)."""
        count = obj.share_links.filter(expires_at__gt=timezone.now()).count()
        if not count:
            return "-"
        url = reverse(f"{self.admin_site.name}:genlook_sharelink_changelist")
        label = ngettext("%(count)d open link", "%(count)d open links", count) % {"count": count}
        return format_html('<a href="{}?q={}">{}</a>', url, obj.public_id, label)

    @admin.display(description=_("queued"))
    def queued(self, obj: TryOn) -> str:
        """From the shopper's request to Genlook accepting it."""
        return _seconds(obj.submitted_at - obj.created_at if obj.submitted_at else None)

    @admin.display(description=_("generating"))
    def generating(self, obj: TryOn) -> str:
        """From Genlook accepting it to the result stored (or the failure recorded)."""
        if not obj.submitted_at or not obj.finished_at:
            return "-"
        return _seconds(obj.finished_at - obj.submitted_at)

    @admin.display(description=_("total"))
    def total(self, obj: TryOn) -> str:
        return _seconds(obj.finished_at - obj.created_at if obj.finished_at else None)

    @admin.display(description=_("took"))
    def took(self, obj: TryOn) -> str:
        """The total, and where the time went: waiting to be sent, then at Genlook."""
        if not obj.finished_at:
            return "-"
        return format_html(
            '{}<span class="genlook-muted genlook-small">{} {}</span>'
            '<span class="genlook-muted genlook-small">{} {}</span>',
            self.total(obj),
            _("queue"),
            self.queued(obj),
            _("Genlook"),
            self.generating(obj),
        )

    # Views -----------------------------------------------------------------------------

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> Any:
        extra_context = dict(extra_context or {})
        obj = self.get_object(request, object_id) if object_id else None
        if obj is not None:
            extra_context["genlook_can_retry"] = (
                obj.state == TryOn.State.FAILED and self.has_retry_permission(request)
            )
            extra_context["genlook_can_erase"] = bool(obj.shopper_key) and (
                self.has_erase_permission(request)
            )
        return super().changeform_view(request, object_id, form_url, extra_context)
