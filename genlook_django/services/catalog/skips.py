"""Why a product is kept from Genlook: a machine-readable reason and a sentence."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models


class SkipReason(models.TextChoices):
    """Why a product is not at Genlook: a machine-readable code and its human label."""

    INACTIVE = "inactive", "not active"
    NO_IMAGE = "no_image", "no image"
    NO_TITLE = "no_title", "no title"
    SHOULD_SYNC = "should_sync", "should_sync() returned False"
    IMAGE_NOT_PUBLIC = "image_not_public", "image URL not absolute/public"


@dataclass(frozen=True)
class Skip:
    """Why one product is kept from Genlook: ``reason`` (a ``SkipReason`` value) and a
    sentence for the merchant (``message``)."""

    reason: str
    message: str

    def __str__(self) -> str:
        return f"{self.reason}: {self.message}"
