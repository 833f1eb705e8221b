"""The try-on admin's two actions: "retry" (failed try-ons) and "erase this shopper"
(GDPR, behind a confirmation page listing what goes)."""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from genlook_django.admin import dialect
from genlook_django.models import TryOn
from genlook_django.services import retention
from genlook_django.services.tryons import quotas, start

CONFIRM_LIST_LIMIT = 50


class TryOnActionsMixin:
    """For ``TryOnAdmin``: the permissions, actions and views of retry and erase."""

    def has_retry_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(f"{self.opts.app_label}.add_tryon")

    def has_erase_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(f"{self.opts.app_label}.delete_tryon")

    # Retry -----------------------------------------------------------------------------

    def _retry(self, request: HttpRequest, try_ons: list[TryOn], *, one: bool = False) -> list:
        done, refused = [], []
        for try_on in try_ons:
            try:
                done.append(start.retry(try_on))
            except (start.TryOnRefused, quotas.QuotaExceeded) as exc:
                refused.append((try_on, exc.message))
        if done and one:
            self.message_user(
                request, _("Sent to Genlook again: this is the new try-on."), messages.SUCCESS
            )
        elif done:
            self.message_user(
                request,
                ngettext(
                    "%d try-on sent to Genlook again; the new one is at the top of the list.",
                    "%d try-ons sent to Genlook again; the new ones are at the top of the list.",
                    len(done),
                )
                % len(done),
                messages.SUCCESS,
            )
        for try_on, reason in refused:
            self.message_user(
                request,
                _("Try-on %(id)s not retried: %(reason)s")
                % {"id": str(try_on.public_id)[:8], "reason": reason},
                messages.WARNING,
            )
        return done

    @admin.action(description=_("Retry the failed try-ons"), permissions=["retry"])
    def retry_failed(self, request: HttpRequest, queryset: QuerySet) -> None:
        failed = list(queryset.filter(state=TryOn.State.FAILED).select_related("photo"))
        skipped = queryset.exclude(state=TryOn.State.FAILED).count()
        self._retry(request, failed)
        if skipped:
            self.message_user(
                request,
                ngettext(
                    "%d try-on skipped: only failed ones are retried.",
                    "%d try-ons skipped: only failed ones are retried.",
                    skipped,
                )
                % skipped,
                messages.INFO,
            )

    def retry_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        if not self.has_retry_permission(request):
            raise PermissionDenied
        try_on = self.get_object(request, object_id)
        if try_on is None:
            raise Http404
        done = self._retry(request, [try_on], one=True)
        target = done[0] if done else try_on
        return HttpResponseRedirect(self._url("change", target.pk))

    # Erase this shopper ----------------------------------------------------------------

    def _erase_page(
        self, request: HttpRequest, keys: list[str], *, action: bool, back: str
    ) -> TemplateResponse:
        shown = keys[:CONFIRM_LIST_LIMIT]
        context = {
            **self.admin_site.each_context(request),
            "title": _("Erase these shoppers?") if len(keys) > 1 else _("Erase this shopper?"),
            "opts": self.opts,
            "shoppers": [retention.local_data(key) for key in shown],
            "hidden_count": len(keys) - len(shown),
            "shopper_keys": ",".join(keys),
            "action": action,
            "back_url": back,
            "action_checkbox_name": ACTION_CHECKBOX_NAME,
            "selected": request.POST.getlist(ACTION_CHECKBOX_NAME)[:1],
        }
        request.current_app = self.admin_site.name
        dialect.warn_if_unavailable(request, "erasure")
        return TemplateResponse(request, "admin/genlook/tryon/erase_shopper.html", context)

    def _erase(self, request: HttpRequest, keys: list[str]) -> None:
        reports = [retention.erase_shopper(key) for key in keys]
        if dialect.warn_if_unavailable(request, "erasure"):  # nothing to ask of Genlook
            self.message_user(
                request,
                _("%(shoppers)d shopper(s) erased here (try-ons: %(try_ons)d, photos: %(photos)d).")
                % {
                    "shoppers": len(reports),
                    "try_ons": sum(r.try_ons for r in reports),
                    "photos": sum(r.photos for r in reports),
                },
                messages.SUCCESS,
            )
            return
        self.message_user(
            request,
            ngettext(
                "%(shoppers)d shopper erased here (try-ons: %(try_ons)d, photos: %(photos)d); "
                "Genlook is asked to erase them too.",
                "%(shoppers)d shoppers erased here (try-ons: %(try_ons)d, photos: %(photos)d); "
                "Genlook is asked to erase them too.",
                len(reports),
            )
            % {
                "shoppers": len(reports),
                "try_ons": sum(r.try_ons for r in reports),
                "photos": sum(r.photos for r in reports),
            },
            messages.SUCCESS,
        )

    @admin.action(description=_("Erase these shoppers (GDPR)…"), permissions=["erase"])
    def erase_shoppers(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        """Every try-on, photo and file of the selected try-ons' shoppers, here and at
        Genlook; a confirmation page first, which posts back the shopper keys it listed."""
        if request.POST.get("confirm") == "yes" and "genlook_shoppers" in request.POST:
            keys = [key for key in request.POST["genlook_shoppers"].split(",") if key]
            self._erase(request, keys)
            return None
        keys = sorted(set(queryset.exclude(shopper_key="").values_list("shopper_key", flat=True)))
        if not keys:
            self.message_user(
                request,
                _("The selected try-ons are anonymised already: no shopper to erase."),
                messages.INFO,
            )
            return None
        return self._erase_page(request, keys, action=True, back=self._url("changelist"))

    def erase_shopper_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        if not self.has_erase_permission(request):
            raise PermissionDenied
        try_on = self.get_object(request, object_id)
        if try_on is None or not try_on.shopper_key:
            raise Http404
        if request.method == "POST" and request.POST.get("confirm") == "yes":
            self._erase(request, [try_on.shopper_key])
            return HttpResponseRedirect(self._url("changelist"))
        return self._erase_page(
            request, [try_on.shopper_key], action=False, back=self._url("change", try_on.pk)
        )
