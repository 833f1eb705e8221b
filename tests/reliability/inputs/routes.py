"""R5's map of the project's URLs: every URL pattern, classified by what protects it (a new
one is unclassified until it is said here), and the statuses each kind of URL may answer a
stranger, by method."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.urls import URLResolver, get_resolver

METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}

# Every URL of the project, by what protects it. A URL not listed here fails the test: say
# what it is before it ships.
GENLOOK_ROUTES = {
    "me": "own",  # the requesting shopper's own context; no object id
    "tryon-list": "own",  # POST only: starts the requester's own try-on
    "tryon-detail": "owned",  # object ids: the owner's, else 404 (docs/storefront-api.md)
    "tryon-result": "owned",
    "photo-detail": "owned",
    "tryon-shares": "owned",  # POST: a share link to the owner's own try-on
    "share": "owned",  # DELETE: the owner revokes their link
    "schema": "public",
    "jsi18n": "public",
    "privacy": "public",
    "widget-button": "public",  # a public product's button; the requester's own CSRF token
    "webhook": "token",  # a per-try-on secret token, for Genlook (docs/webhooks.md)
    "shared": "token",  # a share link's secret token: the look, for anyone holding it
    "shared-image": "token",
    "photo-link": "token",  # a signed, expiring link to a photo, for the classic API
}
SHOP_ROUTES = {
    "catalog": "public",
    "product": "public",  # a product's slug: public
    "cart": "session",  # the session's own cart
    "cart_add": "session",
    "cart_remove": "session",
}
ROOT_ROUTES = {"set_language": "public", "javascript-catalog": "public"}
# genlook_<model>_<action>: admin_site.admin_view (staff), then the model's permissions.
ADMIN_ACTIONS = {
    "changelist",
    "add",
    "change",
    "delete",
    "history",
    "result",
    "retry",
    "erase_shopper",
    "image",
    "use",
    "cancel",
    "gallery",
    "refresh",
    "preview",
    "progress",  # the batch jobs' list's live progress (view permission)
    "purge",  # the retention purge (delete_tryon)
}


@dataclass(frozen=True)
class Route:
    urlconf: str
    route: str
    namespace: str
    name: str | None
    params: tuple[str, ...]

    @property
    def label(self) -> str:
        return f"{self.namespace}:{self.name or self.route}"


def project_routes(urlconf: str) -> list[Route]:
    """Every URL pattern of ``urlconf``, includes walked."""

    def walk(resolver: URLResolver, prefix: str, namespace: str) -> Iterator[Route]:
        for pattern in resolver.url_patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                inner = ":".join(part for part in (namespace, pattern.namespace) if part)
                yield from walk(pattern, route, inner)
            else:
                params = tuple(getattr(pattern.pattern, "converters", {}))
                params += tuple(pattern.pattern.regex.groupindex) if not params else ()
                yield Route(urlconf, route, namespace, pattern.name, params)

    return list(walk(get_resolver(urlconf), "", ""))


def classify(route: Route) -> str | None:
    if route.namespace == "genlook":
        return GENLOOK_ROUTES.get(route.name or "")
    if route.namespace == "shop":
        return SHOP_ROUTES.get(route.name or "")
    if route.namespace in ("genlook_sandbox", "genlook_sandbox_classic"):
        # Genlook's API (v1: x-api-key; classic: Bearer); not in a live shop (check W002)
        return "emulator"
    if route.namespace == "admin":
        if (route.name or "").startswith("genlook_"):
            _app, _model, action = route.name.split("_", 2)
            return "staff" if action in ADMIN_ACTIONS else None
        return "django-admin"  # Django's own admin pages (staff)
    if route.namespace == "" and route.name in ROOT_ROUTES:
        return ROOT_ROUTES[route.name]
    if route.namespace == "" and route.name is None and route.route.startswith("^media/"):
        return "media"  # product images; try-on files live in the private storages
    return None


# The statuses each kind of URL may answer a stranger, by method (docs/storefront-api.md:
# "anyone else gets the same 404 as for an id that never existed"; a method a view does not
# have is 405; an unsafe request without a valid CSRF token is 403).
OWNED_METHODS = {
    "tryon-detail": {"GET", "HEAD", "DELETE", "OPTIONS"},
    "tryon-result": {"GET", "HEAD", "OPTIONS"},
    "photo-detail": {"GET", "HEAD", "DELETE", "OPTIONS"},
    "tryon-shares": {"POST", "OPTIONS"},
    "share": {"DELETE", "OPTIONS"},
}


def owned_statuses(name: str, method: str) -> set[int]:
    if method == "OPTIONS":
        return {200}  # DRF's description of the view, the same for any id (checked)
    return {403, 404} if method in OWNED_METHODS[name] else {403, 405}


def own_statuses(name: str, method: str) -> set[int]:
    if method == "OPTIONS":
        return {200}
    if name == "me":
        return {200} if method in ("GET", "HEAD") else {403, 405}
    return {400, 403} if method == "POST" else {403, 405}  # tryon-list: no list to read


def public_statuses(name: str, method: str) -> set[int]:
    if method in ("GET", "HEAD"):
        return {200}
    if method == "OPTIONS":
        return {405} if name in ("privacy", "widget-button") else {200}  # require_safe
    return {403, 405}


def shop_statuses(name: str, method: str) -> set[int]:
    if name in ("cart_add", "cart_remove"):
        return {302, 403} if method == "POST" else {405}  # require_POST
    if name == "cart":
        return {200, 403}  # any method shows the session's own cart
    return {200} if method in ("GET", "HEAD", "OPTIONS") else {403, 405}


def admin_statuses(staff: bool, method: str) -> set[int]:
    # Strangers are sent to the login page. Staff without the model's permission get 403,
    # 405 for a POST-only view; for an id that does not exist, Django's history and delete
    # views send them to the admin index and the batch views answer 404 (staff may learn
    # that an admin row exists; never what it holds: the body is scanned like any other).
    return {302, 403, 404, 405} if staff else {302}


def by_name(routes: list[Route], namespace: str, name: str) -> Route:
    return next(r for r in routes if r.namespace == namespace and r.name == name)


def admin_kwargs(route: Route) -> list[dict[str, Any]]:
    """The URL arguments of an admin route: one set per existing object of its model (the
    admin pages the API key is searched in)."""
    if not route.params:
        return [{}]
    from django.apps import apps

    if route.name.endswith("_gallery"):
        from genlook_django.models import BatchItem

        return [
            {"content_type_id": i.content_type_id, "object_id": i.object_id}
            for i in BatchItem.objects.all()[:3]
        ]
    if route.name.endswith(("_image", "_use")):
        from genlook_django.models import BatchItem

        return [{"object_id": i.job_id, "item_id": i.pk} for i in BatchItem.objects.all()[:3]]
    model = apps.get_model("genlook", route.name.split("_")[1])
    rows = model.objects.order_by("-pk").values_list("pk", flat=True)[:6]
    return [{"object_id": str(pk)} for pk in rows]
