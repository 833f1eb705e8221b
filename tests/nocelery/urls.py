from django.urls import include, path

urlpatterns = [path("genlook/", include("genlook_django.urls"))]
