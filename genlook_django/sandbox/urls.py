"""The sandbox API, to mount under any prefix::

path("sandbox/tryon/v1/", include("genlook_django.sandbox.urls"))
"""

from django.urls import path, re_path

from genlook_django.sandbox import control, views

app_name = "genlook_sandbox"

urlpatterns = [
    path("", views.index, name="root"),
    path("images/upload", views.images_upload_view, name="images-upload"),
    path("try-on", views.try_on_view, name="try-on"),
    path("try-on/sync", views.try_on_sync_view, name="try-on-sync"),
    path("generations/<str:generation_id>", views.generation_view, name="generation"),
    path("products", views.products_view, name="products"),
    path("products/<path:external_id>", views.product_view, name="product"),
    path("account/credits", views.credits_view, name="credits"),
    path("customers/<path:customer_id>", views.customer_view, name="customer"),
    path("_files/<str:name>", views.serve_file, name="file"),
    path("_sandbox/stats", control.stats_view, name="control-stats"),
    path("_sandbox/generations", control.generations_view, name="control-generations"),
    path("_sandbox/faults", control.faults_view, name="control-faults"),
    path("_sandbox/reset", control.reset_view, name="control-reset"),
    path("_sandbox/credits", control.credits_view, name="control-credits"),
    path("_sandbox/config", control.config_view, name="control-config"),
    re_path(r"^", views.not_found, name="not-found"),  # JSON 404 for anything else below the root
]
