"""List filters shared by the app's admin pages."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.contenttypes.models import ContentType
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from genlook_django.services import catalog


class RegisteredModelFilter(admin.SimpleListFilter):
    """The product models registered with Genlook (not every content type of the site)."""

    title = _("product model")
    parameter_name = "content_type__id__exact"  # the URL Django's own filter used

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        choices = []
        for adapter in catalog.registered_adapters():
            content_type = ContentType.objects.get_for_model(adapter.model)
            choices.append((str(content_type.pk), adapter.model._meta.verbose_name_plural))
        return sorted(choices, key=lambda choice: str(choice[1]).lower())

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        value = self.value()
        if value and value.isdigit():
            return queryset.filter(content_type_id=int(value))
        return queryset
