from genlook_django.adapters import ProductAdapter


class ProductAdapter(ProductAdapter):
    title_field = "title"
    image_fields = ["picture_url"]
    active_field = "is_public"
