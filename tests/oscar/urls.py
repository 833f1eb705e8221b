"""The Oscar example's URLs, with media read from MEDIA_ROOT per request (tests change it)."""

from django.conf import settings
from django.urls import re_path
from django.views.static import serve

from example_oscar.urls import urlpatterns as example_urlpatterns


def media(request, path):
    return serve(request, path, document_root=settings.MEDIA_ROOT)


urlpatterns = [re_path(r"^media/(?P<path>.*)$", media), *example_urlpatterns]
