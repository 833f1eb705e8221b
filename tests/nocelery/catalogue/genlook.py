from genlook_django import ProductAdapter


class ProductAdapter(ProductAdapter):
    title_field = "title"
    image_fields = ["picture_url"]
    active_field = "is_public"
