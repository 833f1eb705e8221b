"""A product whose images live in a related model, for the tests only.

The models belong to an isolated app registry (no migration, invisible to the project's
checks and flushes); ``gallery_tables`` creates their tables once per test session.
"""

from __future__ import annotations

import sys

from django.apps import AppConfig
from django.apps.registry import Apps
from django.db import models


class GalleryConfig(AppConfig):
    name = "tests.catalog"
    label = "gallery"


gallery_apps = Apps(
    installed_apps=[GalleryConfig(GalleryConfig.name, sys.modules["tests.catalog"])]
)


class Garment(models.Model):
    name = models.CharField(max_length=100)
    description = models.TextField(blank=True)

    class Meta:
        app_label = "gallery"
        apps = gallery_apps

    def __str__(self) -> str:
        return self.name


class GarmentPhoto(models.Model):
    garment = models.ForeignKey(Garment, on_delete=models.CASCADE, related_name="photos")
    position = models.PositiveIntegerField(default=0)
    caption = models.CharField(max_length=100, blank=True)
    picture = models.ImageField(upload_to="gallery/")

    class Meta:
        app_label = "gallery"
        apps = gallery_apps
        ordering = ["position", "pk"]

    def __str__(self) -> str:
        return self.picture.name


class GarmentNote(models.Model):
    """Related, but without any file: not an image source."""

    garment = models.ForeignKey(Garment, on_delete=models.CASCADE, related_name="notes")
    text = models.CharField(max_length=100)

    class Meta:
        app_label = "gallery"
        apps = gallery_apps

    def __str__(self) -> str:
        return self.text


MODELS = [Garment, GarmentPhoto, GarmentNote]
