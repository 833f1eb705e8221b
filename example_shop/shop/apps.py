from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ShopConfig(AppConfig):
    name = "example_shop.shop"
    label = "shop"
    verbose_name = _("Shop")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        import genlook_django

        from .genlook import ShopProductAdapter

        # Saving or deleting a product in the admin now updates it at Genlook (on commit,
        # through Celery), and `manage.py genlook_sync` pushes the whole catalog.
        genlook_django.register(self.get_model("Product"), ShopProductAdapter)
