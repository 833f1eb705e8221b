"""The watermark settings the merchant edits in the admin."""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _


class WatermarkSettings(models.Model):
    """The one row of watermark settings the merchant edits in the admin."""

    class Position(models.TextChoices):
        TOP_LEFT = "top-left", _("Top left")
        TOP_RIGHT = "top-right", _("Top right")
        BOTTOM_LEFT = "bottom-left", _("Bottom left")
        BOTTOM_RIGHT = "bottom-right", _("Bottom right")
        CENTER = "center", _("Centre")

    genlook_watermark = models.BooleanField(
        _("Genlook watermark"),
        default=True,
        help_text=_("Ask Genlook to brand results with the logo set in the Genlook dashboard."),
    )
    overlay_enabled = models.BooleanField(
        _("apply my logo"), default=False, help_text=_("Lay the logo below over stored results.")
    )
    logo = models.ImageField(_("logo"), upload_to="genlook/watermark/", blank=True)
    position = models.CharField(
        _("position"), max_length=16, choices=Position.choices, default=Position.BOTTOM_RIGHT
    )
    scale = models.FloatField(
        _("width (share of the image)"),
        default=0.2,
        validators=[MinValueValidator(0.02), MaxValueValidator(1.0)],
        help_text=_("The logo's width as a share of the result's width: 0.02 to 1."),
    )
    opacity = models.FloatField(
        _("opacity"),
        default=0.8,
        validators=[MinValueValidator(0.0), MaxValueValidator(1.0)],
        help_text=_("0: invisible, 1: as drawn."),
    )
    margin = models.FloatField(
        _("margin (share of the width)"),
        default=0.03,
        validators=[MinValueValidator(0.0), MaxValueValidator(0.25)],
        help_text=_("The gap to the edges as a share of the result's width: 0 to 0.25."),
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("watermark settings")
        verbose_name_plural = _("watermark settings")

    def __str__(self) -> str:
        return str(_("Watermark settings"))

    @classmethod
    def load(cls) -> WatermarkSettings:
        settings_row, _created = cls.objects.get_or_create(pk=1)
        return settings_row
