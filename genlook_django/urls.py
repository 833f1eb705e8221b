"""The storefront's URLs. Include them once in the project::

path("genlook/", include("genlook_django.urls")),
"""

from django.urls import path

from .api import sharing as api_sharing
from .api import views as api
from .api.schema import StorefrontSchemaView
from .views import javascript_catalog, privacy
from .views import widget as widget_views
from .views.photo_link import photo_link
from .views.shared import shared_image, shared_look
from .views.webhooks import receive as webhook_receive

app_name = "genlook"

urlpatterns = [
    path("api/me/", api.MeView.as_view(), name="me"),
    path("api/tryons/", api.TryOnListView.as_view(), name="tryon-list"),
    path("api/tryons/<uuid:public_id>/", api.TryOnDetailView.as_view(), name="tryon-detail"),
    path(
        "api/tryons/<uuid:public_id>/result/",
        api.TryOnResultView.as_view(),
        name="tryon-result",
    ),
    path(
        "api/tryons/<uuid:public_id>/shares/",
        api_sharing.ShareListView.as_view(),
        name="tryon-shares",
    ),
    path("api/shares/<uuid:public_id>/", api_sharing.ShareDetailView.as_view(), name="share"),
    path("api/photos/<uuid:public_id>/", api.PhotoDetailView.as_view(), name="photo-detail"),
    path("api/schema/", StorefrontSchemaView.as_view(), name="schema"),
    path("jsi18n/", javascript_catalog, name="jsi18n"),
    path("privacy/", privacy, name="privacy"),
    # A shared look, opened by anyone holding the link (docs/widget.md, "Sharing a look").
    path("shared/<str:token>/", shared_look, name="shared"),
    path("shared/<str:token>/image/", shared_image, name="shared-image"),
    # The button as an HTML fragment, for front ends without templates (docs/headless.md).
    path("widget/button/", widget_views.button, name="widget-button"),
    # Genlook POSTs completions here (GENLOOK["WEBHOOKS"]); see docs/webhooks.md.
    path("webhooks/<str:token>/", webhook_receive, name="webhook"),
    # The classic API fetches shoppers' photos here (signed, expiring links).
    path("photos/<str:token>/", photo_link, name="photo-link"),
]
