"""Small pieces shared by the app's admin pages."""

from __future__ import annotations

import contextlib
import ipaddress
import re
import uuid
from typing import Any

from django.core.paginator import Paginator
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils.functional import cached_property

# One token of letters, digits and _ . : - with at least one digit: an id, not words.
_ID_LIKE = re.compile(r"^(?=.*\d)[\w.:-]{6,255}$")


class NoBulkDeleteMixin:
    """Hides Django's "delete selected" action: deleting these rows needs the page's own
    action, which also cleans up files and Genlook's copies."""

    def get_actions(self, request: HttpRequest, action_location: Any = None) -> dict[str, Any]:
        # Django 6.1 passes action_location; 5.2 does not know it.
        extra = {} if action_location is None else {"action_location": action_location}
        actions = super().get_actions(request, **extra)  # type: ignore[misc]
        actions.pop("delete_selected", None)
        return actions


class ExactIdSearchMixin:
    """A search term that looks like an id (one token with a digit in it, e.g. a UUID,
    ``gen_01H...``, ``shop-product-42``) is first looked up by *exact* match in
    ``exact_search_fields`` (each indexed), plus the UUID field ``exact_search_uuid``:
    index lookups, not a ``LIKE '%term%'`` scan over every row. Only when that finds
    nothing does the admin's usual ``search_fields`` search run (a partial id still works).
    """

    exact_search_fields: tuple[str, ...] = ()
    exact_search_uuid: str | None = None

    def exact_search(self, queryset: QuerySet, term: str) -> QuerySet | None:
        term = term.strip()
        if not _ID_LIKE.match(term):
            return None
        condition = Q()
        for name in self.exact_search_fields:
            condition |= Q(**{name: term})
        if self.exact_search_uuid:
            with contextlib.suppress(ValueError):
                condition |= Q(**{self.exact_search_uuid: uuid.UUID(term)})
        return queryset.filter(condition) if condition else None

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet, search_term: str
    ) -> tuple[QuerySet, bool]:
        exact = self.exact_search(queryset, search_term) if search_term else None
        if exact is not None and exact.exists():
            return exact, False
        return super().get_search_results(request, queryset, search_term)  # type: ignore[misc]


class PrefixSearchMixin:
    """The admin's search, as a merchant uses it on a big table, without a scan: the term
    is the start of ``prefix_search_fields`` (a case-sensitive ``LIKE 'term%'``, read off
    a ``varchar_pattern_ops`` index on PostgreSQL), the start of
    ``upper_prefix_search_fields`` in capitals (error codes), or equal to
    ``equal_search_fields`` (an IP address field only for a term that is an address).
    ``search_fields`` only turns the search box on; this decides what it finds."""

    prefix_search_fields: tuple[str, ...] = ()
    upper_prefix_search_fields: tuple[str, ...] = ()
    equal_search_fields: tuple[str, ...] = ()
    ip_search_fields: tuple[str, ...] = ()

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet, search_term: str
    ) -> tuple[QuerySet, bool]:
        term = search_term.strip()
        if not term:
            return queryset, False
        condition = Q()
        for name in self.prefix_search_fields:
            condition |= Q(**{f"{name}__startswith": term})
        for name in self.upper_prefix_search_fields:
            condition |= Q(**{f"{name}__startswith": term.upper()})
        for name in self.equal_search_fields:
            condition |= Q(**{name: term})
        with contextlib.suppress(ValueError):
            address = str(ipaddress.ip_address(term))
            for name in self.ip_search_fields:
                condition |= Q(**{name: address})
        return queryset.filter(condition), False


class CappedCountPaginator(Paginator):
    """Counts at most ``CAP`` rows (``SELECT COUNT(*)`` over ``LIMIT CAP + 1``): on a table of
    millions of try-ons a full count costs more than the page itself. Beyond the cap the
    list says ``CAP`` results and pages up to there; a filter or a search narrows it."""

    CAP = 10_000
    capped = False  # more than CAP rows matched

    @cached_property
    def count(self) -> int:
        object_list = self.object_list
        if isinstance(object_list, QuerySet):
            found = object_list.order_by()[: self.CAP + 1].count()
        else:
            found = len(object_list)
        self.capped = found > self.CAP
        return min(found, self.CAP)


class LargeListMixin:
    """For the lists that grow with the shop's traffic (try-ons, webhook deliveries): no
    second ``COUNT(*)`` of the whole table, and a capped count of the filtered one."""

    show_full_result_count = False
    paginator = CappedCountPaginator

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> Any:
        response = super().changelist_view(request, extra_context)  # type: ignore[misc]
        context = getattr(response, "context_data", None)
        changelist = context.get("cl") if context else None
        paginator = getattr(changelist, "paginator", None)
        if getattr(paginator, "capped", False):
            # Said on the page: the count (and "select all") stops at the cap.
            context["count_capped"] = paginator.CAP
        return response
