"""An Oscar project that does not mount the Django admin (genlook.W051)."""

from django.apps import apps
from django.urls import include, path

urlpatterns = [
    path("genlook/", include("genlook_django.urls")),
    path("", include(apps.get_app_config("oscar").urls[0])),
]
