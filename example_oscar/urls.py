"""URLs of the Oscar example: Oscar's own, plus genlook's one include (and the sandbox)."""

from django.apps import apps
from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    # -- genlook: the storefront API, the widget's JS catalog, the privacy notice ----------
    path("genlook/", include("genlook_django.urls")),
]

if apps.is_installed("genlook_django.sandbox"):
    urlpatterns.append(path("sandbox/tryon/v1/", include("genlook_django.sandbox.urls")))

urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
urlpatterns.append(path("", include(apps.get_app_config("oscar").urls[0])))
