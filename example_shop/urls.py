"""URLs of the example shop."""

from django.apps import apps
from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path
from django.views.i18n import JavaScriptCatalog

urlpatterns = [
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    # -- genlook_django -------------------------------------------------------------------
    # The try-on app's own URLs (storefront API, the widget's JS catalog, privacy notice).
    path("genlook/", include("genlook_django.urls")),
    # -------------------------------------------------------------------------------------
]

if apps.is_installed("genlook_django.sandbox"):
    # The Genlook API emulator, answering at the GENLOOK["BASE_URL"] of settings.py.
    urlpatterns.append(path("sandbox/tryon/v1/", include("genlook_django.sandbox.urls")))
    # Genlook's classic API (POST /v1/try-on ...), with /sandbox as its base URL.
    urlpatterns.append(path("sandbox/", include("genlook_django.sandbox.classic.urls")))

# Uploaded files (product images, try-on results), served by Django only while DEBUG.
urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

urlpatterns.append(path("", include("example_shop.shop.urls")))
