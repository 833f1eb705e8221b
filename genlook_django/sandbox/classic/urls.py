"""Genlook's classic API, to mount at the sandbox's root (its base URL, as
``https://api-sandbox.genlook.app`` is the classic one)::

    path("sandbox/tryon/v1/", include("genlook_django.sandbox.urls")),      # v1
    path("sandbox/", include("genlook_django.sandbox.classic.urls")),       # classic

Only ``v1/...``, ``_files/...`` and the root itself are answered here, so the include never
hides the v1 routes mounted below the same prefix.
"""

from django.urls import path, re_path

from genlook_django.sandbox import views as v1_views
from genlook_django.sandbox.classic import views

app_name = "genlook_sandbox_classic"

urlpatterns = [
    path("", views.index, name="root"),
    path("v1/try-on", views.try_on_view, name="try-on"),
    path("v1/try-on/batch", views.batch_view, name="batch"),
    path("v1/try-on/<str:generation_id>", views.status_view, name="status"),
    # Result images: the same signed, key-less file URLs as v1's, under this root.
    path("_files/<str:name>", v1_views.serve_file, name="file"),
    re_path(r"^v1/", views.not_found, name="not-found"),
]
