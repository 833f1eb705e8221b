from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from django.views.static import serve


def media(request, path):
    """MEDIA_ROOT read per request (tests change it), for the browser tests' live server."""
    return serve(request, path, document_root=settings.MEDIA_ROOT)


urlpatterns = [
    path("admin/", admin.site.urls),
    path("genlook/", include("genlook_django.urls")),
    re_path(r"^media/(?P<path>.*)$", media),
    path("sandbox/tryon/v1/", include("genlook_django.sandbox.urls")),
    path("sandbox/", include("genlook_django.sandbox.classic.urls")),
    path("", include("example_shop.shop.urls")),
]
