"""Share links: which looks are open to anyone holding their link, and "stop sharing".

A read-only list (the token itself is never stored, so never shown); the one action
revokes the selected links, as the shopper's own "Stop sharing" does.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import admin, messages
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from genlook_django.admin.mixins import NoBulkDeleteMixin
from genlook_django.models import ShareLink
from genlook_django.services.tryons import sharing


class OpenFilter(admin.SimpleListFilter):
    title = _("link")
    parameter_name = "open"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [("yes", _("opens the look")), ("no", _("expired"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        now = timezone.now()
        if self.value() == "yes":
            return queryset.filter(expires_at__gt=now)
        if self.value() == "no":
            return queryset.filter(expires_at__lte=now)
        return queryset


@admin.register(ShareLink)
class ShareLinkAdmin(NoBulkDeleteMixin, admin.ModelAdmin):
    list_display = ["public_id", "try_on_link", "created_at", "expires_at", "opens"]
    list_filter = [OpenFilter]
    list_select_related = ["try_on"]
    search_fields = ["public_id"]  # searched exactly, below
    actions = ["stop_sharing"]
    fields = ["public_id", "try_on_link", "created_at", "expires_at", "opens"]
    readonly_fields = fields

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet, search_term: str
    ) -> tuple[QuerySet, bool]:
        """The link's or its try-on's public id, whole (what a shopper's complaint or the
        try-on page quotes): two indexed lookups, never a scan."""
        if not search_term.strip():
            return queryset, False
        try:
            wanted = uuid.UUID(search_term.strip())
        except ValueError:
            return queryset.none(), False
        return queryset.filter(Q(public_id=wanted) | Q(try_on__public_id=wanted)), False

    @admin.display(description=_("try-on"))
    def try_on_link(self, obj: ShareLink) -> str:
        url = reverse(f"{self.admin_site.name}:genlook_tryon_change", args=[obj.try_on_id])
        return format_html('<a href="{}">{}</a>', url, str(obj.try_on.public_id)[:8])

    @admin.display(description=_("opens the look"), boolean=True)
    def opens(self, obj: ShareLink) -> bool:
        return obj.expires_at > timezone.now()

    @admin.action(description=_("Stop sharing: revoke the selected links"), permissions=["delete"])
    def stop_sharing(self, request: HttpRequest, queryset: QuerySet) -> None:
        count = 0
        for link in queryset:
            sharing.revoke(link)
            count += 1
        self.message_user(
            request,
            ngettext(
                "%(count)d link revoked: it opens nothing now.",
                "%(count)d links revoked: they open nothing now.",
                count,
            )
            % {"count": count},
            messages.SUCCESS,
        )

    # Permissions: links are made by shoppers; staff with the delete permission may
    # revoke them (the action), nothing else ------------------------------------------

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
