"""Batch jobs in the admin: pick model photos and products, follow the progress, browse the
results as a gallery per product, and use one as a catalog image."""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
)
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST
from PIL import UnidentifiedImageError

from genlook_django.models import BatchItem, BatchJob
from genlook_django.services import batches, catalog, files
from genlook_django.services.tryons import photos

from .batch_progress import LiveProgressMixin
from .tryons import _thumbnail

MAX_CHOICES = 2000  # products listed per model in the form (more: genlook_batch)


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleImageField(forms.FileField):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": "image/*"}))
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(item, initial) for item in data]
        return [single(data, initial)]


def product_choices() -> list[tuple[str, list[tuple[str, str]]]]:
    """Try-on-able products of every registered model, grouped by model."""
    groups = []
    for adapter in catalog.registered_adapters():
        options = [
            (f"{adapter.label}:{product.pk}", str(product))
            for product in adapter.get_queryset()[:MAX_CHOICES]
            if adapter.should_sync(product)
        ]
        if options:
            groups.append((str(adapter.model._meta.verbose_name_plural).capitalize(), options))
    return groups


class BatchJobForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200, required=False)
    photos = MultipleImageField(
        label=_("Model photos"),
        help_text=_("One or more photos of a model; each is tried on with every product."),
    )
    products = forms.MultipleChoiceField(
        label=_("Products"),
        widget=forms.SelectMultiple(attrs={"size": 14}),
        help_text=_("Hold Ctrl (or Cmd) to pick several."),
    )
    watermark = forms.BooleanField(
        label=_("Genlook watermark"),
        required=False,
        help_text=_("Catalog images usually go without."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["products"].choices = product_choices()

    def selected_products(self) -> list[Any]:
        found = []
        for reference in self.cleaned_data["products"]:
            label, _sep, pk = reference.partition(":")
            product = catalog.get_adapter(label).get_queryset().filter(pk=pk).first()
            if product is not None:
                found.append(product)
        return found


@admin.register(BatchJob)
class BatchJobAdmin(LiveProgressMixin, admin.ModelAdmin):
    list_display = ("__str__", "state", "progress_column", "created_by", "created_at")
    list_filter = ("state",)
    search_fields = ("name",)
    date_hierarchy = "created_at"
    list_select_related = ("created_by",)

    class Media:
        js = ["genlook/admin/batch_progress.js"]

    # Permissions: the model's own: view (progress, gallery, images), add (start a batch),
    # change (cancel; "use as catalog image", with the product model's change too), delete.

    # URLs ----------------------------------------------------------------------------------

    def get_urls(self) -> list[Any]:
        info = self.opts.app_label, self.opts.model_name
        view = self.admin_site.admin_view
        return [
            path("progress/", view(self.progress_view), name="{}_{}_progress".format(*info)),
            path(
                "<path:object_id>/items/<int:item_id>/image/",
                view(self.image_view),
                name="{}_{}_image".format(*info),
            ),
            path(
                "<path:object_id>/items/<int:item_id>/use/",
                view(require_POST(self.use_view)),
                name="{}_{}_use".format(*info),
            ),
            path(
                "<path:object_id>/cancel/",
                view(require_POST(self.cancel_view)),
                name="{}_{}_cancel".format(*info),
            ),
            path(
                "gallery/<int:content_type_id>/<str:object_id>/",
                view(self.gallery_view),
                name="{}_{}_gallery".format(*info),
            ),
            *super().get_urls(),
        ]

    def _url(self, name: str, *args: Any) -> str:
        return reverse(f"{self.admin_site.name}:genlook_batchjob_{name}", args=args)

    # Creating ------------------------------------------------------------------------------

    def add_view(
        self, request: HttpRequest, form_url: str = "", extra_context: dict | None = None
    ) -> HttpResponse:
        if not self.has_add_permission(request):
            raise PermissionDenied
        if request.method == "POST":
            form = BatchJobForm(request.POST, request.FILES)
            if form.is_valid():
                uploads = [(upload.name, upload.read()) for upload in form.cleaned_data["photos"]]
                try:
                    with transaction.atomic():
                        job = batches.create_job(
                            photos_in=uploads,
                            products=form.selected_products(),
                            name=form.cleaned_data["name"],
                            user=request.user,
                            watermark=form.cleaned_data["watermark"],
                        )
                        batches.start(job)
                except photos.PhotoError as exc:
                    form.add_error("photos", str(exc.message))
                except batches.BatchError as exc:
                    form.add_error(None, str(exc))
                else:
                    self.log_addition(request, job, [{"added": {}}])
                    self.message_user(
                        request,
                        _("Batch started: %(count)d try-ons.")
                        % {"count": batches.progress(job).total},
                        messages.SUCCESS,
                    )
                    return HttpResponseRedirect(self._url("change", job.pk))
        else:
            initial = [p for p in request.GET.get("products", "").split(",") if p]
            form = BatchJobForm(initial={"products": initial})
        context = {
            **self.admin_site.each_context(request),
            "title": _("New batch of try-ons"),
            "opts": self.opts,
            "form": form,
            "media": self.media + form.media,
            **(extra_context or {}),
        }
        return TemplateResponse(request, "admin/genlook/batchjob/add_form.html", context)

    # Following it ---------------------------------------------------------------------------

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        job = self.get_object(request, object_id)
        if job is None:
            raise Http404
        batches.poll_through(job)  # without a worker, this page asks Genlook for results
        job.refresh_from_db()
        progress = batches.progress(job)
        items = BatchItem.objects.filter(job=job).select_related("photo", "content_type")
        groups: OrderedDict[tuple[int, str], dict[str, Any]] = OrderedDict()
        can_use = self.has_change_permission(request, job)
        for item in items.order_by("content_type_id", "object_id", "photo_id"):
            key = (item.content_type_id, item.object_id)
            group = groups.setdefault(
                key,
                {
                    "label": item.product_label or item.object_id,
                    "gallery_url": self._url("gallery", *key),
                    "items": [],
                },
            )
            group["items"].append(self._item_context(request, job, item, can_use))
        running = job.state in (BatchJob.State.QUEUED, BatchJob.State.RUNNING)
        context = {
            **self.admin_site.each_context(request),
            "title": str(job),
            "opts": self.opts,
            "original": job,
            "job": job,
            "progress": progress,
            "groups": list(groups.values()),
            "refresh_seconds": 3 if running else None,
            "can_cancel": running and self.has_change_permission(request, job),
            "cancel_url": self._url("cancel", job.pk),
            "has_delete_permission": self.has_delete_permission(request, job),
            "delete_url": self._url("delete", job.pk),
            **(extra_context or {}),
        }
        return TemplateResponse(request, "admin/genlook/batchjob/detail.html", context)

    def _item_context(
        self, request: HttpRequest, job: BatchJob, item: BatchItem, can_use: bool
    ) -> dict[str, Any]:
        completed = item.state == BatchItem.State.COMPLETED
        field = batches.catalog_image_field(item) if completed else None
        return {
            "item": item,
            "image_url": self._url("image", job.pk, item.pk) if completed else None,
            "use_url": self._url("use", job.pk, item.pk) if field and can_use else None,
            "field": field,
        }

    def gallery_view(self, request: HttpRequest, content_type_id: int, object_id: str):
        """Every completed batch try-on of one product, across jobs."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        items = list(
            BatchItem.objects.filter(
                content_type_id=content_type_id,
                object_id=object_id,
                state=BatchItem.State.COMPLETED,
            )
            .select_related("photo", "job", "content_type")
            .order_by("-finished_at")
        )
        if not items:
            raise Http404
        can_use = self.has_change_permission(request)
        context = {
            **self.admin_site.each_context(request),
            "title": _("Try-ons of %(product)s") % {"product": items[0].product_label},
            "opts": self.opts,
            "entries": [self._item_context(request, item.job, item, can_use) for item in items],
        }
        return TemplateResponse(request, "admin/genlook/batchjob/gallery.html", context)

    def image_view(self, request: HttpRequest, object_id: str, item_id: int) -> HttpResponse:
        """A result image (``?thumb=1``: small; ``?download=1``: as an attachment)."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        item = get_object_or_404(BatchItem, pk=item_id, job_id=object_id)
        if not item.result_file:
            raise Http404
        try:
            handle = files.results_storage().open(item.result_file, "rb")
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
            response = FileResponse(
                handle,
                content_type="image/jpeg",
                as_attachment=bool(request.GET.get("download")),
                filename=f"tryon-{item.job_id}-{item.pk}.jpg",
            )
        response["Cache-Control"] = "private, max-age=300"
        response["X-Content-Type-Options"] = "nosniff"
        return response

    def use_view(self, request: HttpRequest, object_id: str, item_id: int) -> HttpResponse:
        if not self.has_change_permission(request):  # before telling what exists
            raise PermissionDenied
        item = get_object_or_404(BatchItem, pk=item_id, job_id=object_id)
        model = item.content_type.model_class()
        product_perm = f"{model._meta.app_label}.change_{model._meta.model_name}" if model else ""
        if not request.user.has_perm(product_perm):
            raise PermissionDenied
        try:
            product = batches.use_as_catalog_image(item)
        except batches.BatchError as exc:
            self.message_user(request, str(exc), messages.ERROR)
        else:
            self.message_user(
                request,
                _("The image is now the %(field)s of %(product)s.")
                % {"field": batches.catalog_image_field(item), "product": product},
                messages.SUCCESS,
            )
        back = request.POST.get("next", "")
        if not url_has_allowed_host_and_scheme(
            back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            back = self._url("change", item.job_id)
        return HttpResponseRedirect(back)

    def cancel_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        if not self.has_change_permission(request):  # before telling what exists
            raise PermissionDenied
        job = self.get_object(request, object_id)
        if job is None:
            raise Http404
        if not self.has_change_permission(request, job):
            raise PermissionDenied
        count = batches.cancel(job)
        self.message_user(request, _("%(count)d try-ons cancelled.") % {"count": count})
        return HttpResponseRedirect(self._url("change", job.pk))

    # Deleting: the files go too --------------------------------------------------------------

    def _delete_files(self, jobs: Any) -> None:
        for item in BatchItem.objects.filter(job__in=jobs).exclude(result_file=""):
            files.delete_quietly(files.results_storage(), item.result_file)
        for job in jobs:
            for photo in job.photos.all():
                files.delete_quietly(files.photos_storage(), photo.file_name)

    def delete_model(self, request: HttpRequest, obj: BatchJob) -> None:
        self._delete_files([obj])
        super().delete_model(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        jobs = list(queryset)
        self._delete_files(jobs)
        # The list's queryset carries the progress counts (aggregates): delete by key.
        plain = BatchJob.objects.filter(pk__in=[job.pk for job in jobs])
        super().delete_queryset(request, plain)
