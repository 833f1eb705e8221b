"""The add-to-cart events the shop reports, for the funnel chart."""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class FunnelEvent(models.Model):
    """An add-to-cart reported by the shop (``track_add_to_cart``), for the funnel chart."""

    class Kind(models.TextChoices):
        ADDED_TO_CART = "added_to_cart", _("Added to cart")

    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    shopper_key = models.CharField(_("shopper key"), max_length=64, db_index=True)
    content_type = models.ForeignKey(
        ContentType, on_delete=models.CASCADE, verbose_name=_("product model")
    )
    object_id = models.CharField(_("product id"), max_length=255)
    try_on = models.ForeignKey(
        "TryOn",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="funnel_events",
        verbose_name=_("after try-on"),
    )
    created_at = models.DateTimeField(_("at"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("funnel event")
        verbose_name_plural = _("funnel events")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.kind} {self.object_id}"
