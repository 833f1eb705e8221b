"""How the shop's products become Genlook products (registered in ``apps.py``).

Every attribute below is what the default adapter would find on its own for this model; they
are spelled out to show where each value comes from. See docs/products.md.
"""

from genlook_django import GarmentCategory, ProductAdapter

from .models import Category


class ShopProductAdapter(ProductAdapter):
    # externalId: "shop.product:<pk>" by default; it never changes, unlike a slug.
    title_field = "name"
    description_field = "description"
    image_fields = ["image"]  # made absolute with GENLOOK["PUBLIC_BASE_URL"]
    category_field = "category"  # kept in the product's metadata at Genlook
    category_map = {Category.HATS: GarmentCategory.CAPS}
    active_field = "is_active"  # inactive (or image-less) products are removed from Genlook
    valid_for_days = None  # kept at Genlook until deleted here
