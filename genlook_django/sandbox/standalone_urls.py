"""The urlconf of a standalone sandbox (SandboxServer, ``manage.py genlook_sandbox``): the v1
API at ``/tryon/v1/`` and the classic one at ``/v1/...`` as on api.genlook.app, nothing of
the host project, JSON errors only."""

from django.urls import include, path, re_path

from genlook_django.sandbox import views

urlpatterns = [
    path("tryon/v1/", include("genlook_django.sandbox.urls")),
    path("", include("genlook_django.sandbox.classic.urls")),
    re_path(r"^", views.not_found),
]

handler500 = views.server_error
