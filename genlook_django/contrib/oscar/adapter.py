"""``OscarProductAdapter``: how an Oscar product becomes a Genlook product.

- the title is Oscar's ``get_title()``, the description is stripped of its HTML;
- the images are the product's ``ProductImage`` rows, in their display order;
- only public products are at Genlook (``is_public``): hiding one removes it;
- a child product (a size, a colour) is tried on as its parent: children are not synced on
  their own, and a child's change re-syncs its parent;
- the category is read from the product's categories, each walked up Oscar's category tree
  ("Clothing > Shirts" gives ``tops``) until one maps to a ``GarmentCategory``.

Images (``ProductImage``) and categories (the ``ProductCategory`` through model, as the
dashboard edits them, or ``product.categories.add()``) re-sync the product they belong to.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.core.exceptions import ObjectDoesNotExist
from django.db import models
from django.urls import NoReverseMatch, reverse
from oscar.core.loading import get_model

from genlook_django.conf import genlook_settings
from genlook_django.services import catalog
from genlook_django.services.catalog import ProductAdapter, normalise_category

CHILD = "child"


def product_model() -> type[models.Model]:
    """Oscar's Product, wherever the shop's catalogue app lives (forked or not)."""
    return get_model("catalogue", "Product")


def tried_on_pks(row: models.Model) -> list[Any]:
    """For a watched image or category row: the product it re-syncs (a child's parent)."""
    try:
        product = row.product
    except ObjectDoesNotExist:  # the product went in the same delete
        return []
    if product.structure == CHILD and product.parent_id is not None:
        return [product.parent_id]
    return [product.pk]


class OscarProductAdapter(ProductAdapter):
    """The adapter ``genlook_django.contrib.oscar`` registers. Subclass it and name yours
    in ``GENLOOK["PRODUCT_ADAPTERS"]`` (``{"catalogue.Product": "shop.genlook.Adapter"}``)
    to change what is mapped."""

    title_field = "get_title"
    description_field = "description"
    image_fields = ("images",)
    active_field = "is_public"
    queryset_prefetch_related = ("images", "categories")

    def __init__(self, model: type[models.Model]) -> None:
        # Watched relations are resolved here, through Oscar's loading, so a forked
        # catalogue app's models are the ones watched.
        self.watch = {
            get_model("catalogue", "ProductImage"): tried_on_pks,
            get_model("catalogue", "ProductCategory"): tried_on_pks,
            **type(self).watch,
        }
        self.watch_m2m = tuple(dict.fromkeys(("categories", *type(self).watch_m2m)))
        super().__init__(model)

    def get_queryset(self):
        """Standalone and parent products: a child is tried on as its parent."""
        return super().get_queryset().exclude(structure=CHILD)

    def variant_of(self, instance: models.Model) -> models.Model | None:
        if getattr(instance, "structure", None) != CHILD or instance.parent_id is None:
            return None
        try:
            return instance.parent
        except ObjectDoesNotExist:  # deleted together with its parent
            return None

    def get_category(self, instance: models.Model) -> str | None:
        if self.category is not None:
            return normalise_category(self.category, self.category_map)
        for category in instance.categories.all():
            # The category itself first, then its parents up to the root.
            for node in reversed(category.get_ancestors_and_self()):
                found = normalise_category(node.name, self.category_map)
                if found:
                    return found
        return None

    def get_edit_url(self, pk: Any, admin_name: str = "admin") -> str | None:
        """Oscar's dashboard page of the product."""
        try:
            return reverse("dashboard:catalogue-product", kwargs={"pk": pk})
        except NoReverseMatch:
            return super().get_edit_url(pk, admin_name)


def register_oscar_product() -> None:
    """Register Oscar's product with ``OscarProductAdapter``, unless the shop registered
    it already (``GENLOOK["PRODUCT_ADAPTERS"]`` or its own ``register()`` call)."""
    model = product_model()
    named = genlook_settings.PRODUCT_ADAPTERS or {}
    if isinstance(named, dict) and any(
        apps.get_model(label) is model for label in named if isinstance(label, str)
    ):
        return  # the shop's own adapter: registered by genlook_django's ready()
    if not catalog.is_registered(model):
        catalog.register(model, OscarProductAdapter)
