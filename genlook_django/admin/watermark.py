"""Watermark settings: one editable row, with a live preview of the logo overlay.

The changelist goes straight to the one row (created with the defaults on first visit);
nothing to add or delete. The preview is an admin-only view that renders ``apply_logo``
over a sample image with the values of the form (GET parameters; a POST when a new logo is
chosen but not saved yet), which ``genlook/admin/watermark.js`` shows as the form changes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.widgets import AdminFileWidget
from django.core.exceptions import FieldDoesNotExist, PermissionDenied
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseNotAllowed,
    HttpResponseRedirect,
)
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _
from PIL import Image, UnidentifiedImageError

from genlook_django.conf import genlook_settings
from genlook_django.models import WatermarkSettings
from genlook_django.services import logo_stash, watermark

SAMPLE_IMAGE = Path(__file__).resolve().parent.parent / "static/genlook/admin/sample-result.jpg"
LOGO_MAX_BYTES = 2 * 1024 * 1024
LOGO_MAX_PIXELS = 4096 * 4096

SCALE = {"min_value": 0.02, "max_value": 1.0}
OPACITY = {"min_value": 0.0, "max_value": 1.0}
MARGIN = {"min_value": 0.0, "max_value": 0.25}


def _check_logo(upload: Any) -> None:
    if upload.size > LOGO_MAX_BYTES:
        raise forms.ValidationError(_("The logo must be at most 2 MB."), code="too_large")
    upload.seek(0)
    try:
        with Image.open(upload) as image:
            width, height = image.size
    except (UnidentifiedImageError, OSError):
        raise forms.ValidationError(_("The logo is not an image."), code="invalid") from None
    finally:
        upload.seek(0)
    if width * height > LOGO_MAX_PIXELS or min(width, height) < 16:
        raise forms.ValidationError(
            _("The logo must be between 16 and 4096 pixels a side."), code="size"
        )


class WatermarkSettingsForm(forms.ModelForm):
    class Meta:
        model = WatermarkSettings
        fields = [
            "genlook_watermark",
            "overlay_enabled",
            "logo",
            "position",
            "scale",
            "opacity",
            "margin",
        ]
        widgets = {
            "scale": forms.NumberInput(attrs={"step": "0.01", "min": "0.02", "max": "1"}),
            "opacity": forms.NumberInput(attrs={"step": "0.05", "min": "0", "max": "1"}),
            "margin": forms.NumberInput(attrs={"step": "0.01", "min": "0", "max": "0.25"}),
            "logo": AdminFileWidget(attrs={"accept": "image/png,image/webp,image/jpeg"}),
        }

    # A logo chosen when the form last had an error, kept aside (``logo_stash``).
    pending_logo = forms.CharField(required=False, widget=forms.HiddenInput)

    def clean_logo(self) -> Any:
        logo = self.cleaned_data.get("logo")
        if logo and hasattr(logo, "content_type"):  # a new upload
            _check_logo(logo)
        return logo

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        new_upload = "logo" in self.files
        pending = logo_stash.load(data.get("pending_logo", "")) if not new_upload else None
        if pending is not None and "logo" not in self.errors and not self.data.get("logo-clear"):
            data["logo"] = pending  # chosen before the last error: saved now
        if data.get("overlay_enabled") and not data.get("logo"):
            self.add_error("logo", _("Upload a logo to apply it to results."))
        return data

    def full_clean(self) -> None:
        super().full_clean()
        if not self.is_bound or not self._errors:
            return
        # The form goes back with an error: a valid logo just chosen is kept aside and
        # carried by the page, so it need not be chosen again and the preview shows it.
        upload = self.files.get("logo")
        token = self.data.get("pending_logo", "")
        if upload is not None and "logo" not in self._errors:
            upload.seek(0)
            token = logo_stash.stash(upload.read(), upload.name)
        elif not logo_stash.original_name(token):
            token = ""
        self.data = self.data.copy()
        self.data["pending_logo"] = token
        self.instance._genlook_pending_logo = token  # for the preview field


def _field_label(name: str) -> str:
    try:
        return str(WatermarkSettings._meta.get_field(name).verbose_name).capitalize()
    except FieldDoesNotExist:  # a non-field error, or the preview's own "pending"
        return str(_("Logo"))


class PreviewForm(forms.Form):
    """The preview's parameters; any left out take the saved settings' values."""

    position = forms.ChoiceField(choices=WatermarkSettings.Position.choices, required=False)
    scale = forms.FloatField(required=False, **SCALE)
    opacity = forms.FloatField(required=False, **OPACITY)
    margin = forms.FloatField(required=False, **MARGIN)
    logo = forms.FileField(required=False)
    pending = forms.CharField(required=False)  # a ``logo_stash`` token

    def clean_logo(self) -> Any:
        logo = self.cleaned_data.get("logo")
        if logo:
            _check_logo(logo)
        return logo


@admin.register(WatermarkSettings)
class WatermarkSettingsAdmin(admin.ModelAdmin):
    form = WatermarkSettingsForm
    fieldsets = [
        (
            _("Genlook's watermark"),
            {
                "fields": ["genlook_watermark"],
                "description": _(
                    "Genlook brands each result with the logo set in your Genlook dashboard "
                    "(output.watermark), before the result reaches the shop."
                ),
            },
        ),
        (
            _("Your logo on stored results"),
            {
                "fields": [
                    "overlay_enabled",
                    "logo",
                    "position",
                    "scale",
                    "opacity",
                    "margin",
                    "preview",
                    "pending_logo",
                ],
                "classes": ["genlook-logo-fieldset"],
                "description": _(
                    "Laid over each new result when it is stored here. Results already "
                    "stored are not changed."
                ),
            },
        ),
    ]

    class Media:
        css = {"all": ["genlook/admin/admin.css"]}
        js = ["genlook/admin/watermark.js"]

    # The one row -------------------------------------------------------------------------

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        row = WatermarkSettings.load()
        return HttpResponseRedirect(
            reverse(f"{self.admin_site.name}:genlook_watermarksettings_change", args=[row.pk])
        )

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        fields = ["preview"]
        if genlook_settings.WATERMARK is not None:
            fields.append("genlook_watermark")
        return fields

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> list[Any]:
        fieldsets = super().get_fieldsets(request, obj)
        forced = genlook_settings.WATERMARK
        if forced is None:
            return fieldsets
        note = _(
            'Set to %(value)s by GENLOOK["WATERMARK"] in the project\'s settings, which wins '
            "over this page. Remove the setting to choose here."
        ) % {"value": _("on") if forced else _("off")}
        first = (fieldsets[0][0], {**fieldsets[0][1], "description": note})
        return [first, *fieldsets[1:]]

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        # With WATERMARK set, genlook_watermark is read-only: the stored choice is kept for
        # the day the setting is removed.
        super().save_model(request, obj, form, change)
        logo_stash.discard(form.cleaned_data.get("pending_logo", ""))  # saved as the logo now
        messages.info(
            request, _("The settings apply to new try-ons; stored results are not changed.")
        )

    @admin.display(description=_("preview"))
    def preview(self, obj: WatermarkSettings | None) -> str:
        url = reverse(f"{self.admin_site.name}:genlook_watermarksettings_preview")
        current = {}
        pending = getattr(obj, "_genlook_pending_logo", None)
        if pending is not None:
            # The form came back with an error: its values may be the wrong ones, so the
            # preview starts from the saved settings (and follows the form once changed).
            obj = WatermarkSettings.objects.filter(pk=obj.pk).first()
        if obj is not None:
            current = {
                "position": obj.position,
                "scale": obj.scale,
                "opacity": obj.opacity,
                "margin": obj.margin,
            }
        if pending:
            current["pending"] = pending
        note = ""
        if pending:
            note = format_html(
                '<p class="genlook-preview__pending" data-genlook-pending-name>{}</p>',
                _("Your new logo “%(name)s” is kept: correct the error and save.")
                % {"name": logo_stash.original_name(pending)},
            )
        return format_html(
            '<div class="genlook-preview">'
            '<img src="{}?{}" data-genlook-preview="{}" data-state="ready" width="280" '
            'height="373" alt="{}">'
            '<p class="genlook-preview__status" data-genlook-preview-status role="status"></p>'
            '<p class="genlook-preview__text">{}</p>{}</div>',
            url,
            urlencode(current),
            url,
            _("A sample result with your logo, placed as set in this form"),
            _(
                "A sample image with your logo as set here: it follows your changes before "
                "you save. Genlook's own watermark is added by Genlook, and not shown here."
            ),
            note,
        )

    # The preview image ---------------------------------------------------------------------

    def get_urls(self) -> list[Any]:
        info = self.opts.app_label, self.opts.model_name
        return [
            path(
                "preview/",
                self.admin_site.admin_view(self.preview_view),
                name="{}_{}_preview".format(*info),
            ),
            *super().get_urls(),
        ]

    def preview_view(self, request: HttpRequest) -> HttpResponse:
        """The sample image with the logo: the saved one, or the one POSTed (not saved)."""
        if request.method not in ("GET", "HEAD", "POST"):
            return HttpResponseNotAllowed(["GET", "HEAD", "POST"])
        if not self.has_view_permission(request):
            raise PermissionDenied
        if request.method == "POST":
            form = PreviewForm(request.POST, request.FILES)
        else:
            form = PreviewForm(request.GET)
        if not form.is_valid():
            # Said as the form says it ("width (share of the image): ..."): the page's
            # script shows this text under the preview.
            return HttpResponseBadRequest(
                "; ".join(
                    f"{_field_label(name)}: {' '.join(errors)}"
                    for name, errors in form.errors.items()
                ),
                content_type="text/plain; charset=utf-8",
            )
        row = watermark.current_settings()
        values = {
            name: form.cleaned_data[name]
            if form.cleaned_data.get(name) not in (None, "")
            else getattr(row, name)
            for name in ("position", "scale", "opacity", "margin")
        }
        sample = SAMPLE_IMAGE.read_bytes()
        upload = form.cleaned_data.get("logo") or logo_stash.load(form.cleaned_data["pending"])
        logo = upload.read() if upload else None
        if logo is None and row.logo:
            try:
                with row.logo.open("rb") as stored:
                    logo = stored.read()
            except OSError:
                logo = None
        if logo is None:
            content, state = sample, "no-logo"
        else:
            try:
                overlay = watermark.LogoOverlay(logo, **values)
                content, state = watermark.apply_logo(sample, overlay, quality=85), "logo"
            except (ValueError, OSError, UnidentifiedImageError) as exc:
                return HttpResponseBadRequest(str(exc), content_type="text/plain; charset=utf-8")
        response = HttpResponse(content, content_type="image/jpeg")
        response["Cache-Control"] = "no-store"
        response["X-Genlook-Preview"] = state
        return response
