from django.apps import AppConfig


class GenlookOscarConfig(AppConfig):
    """Registers Oscar's product model with Genlook and wires Oscar's signals and menu."""

    name = "genlook_django.contrib.oscar"
    label = "genlook_oscar"
    verbose_name = "Genlook virtual try-on for django-oscar"

    def ready(self) -> None:
        from . import dashboard, signals
        from .adapter import register_oscar_product

        register_oscar_product()
        signals.connect_basket()
        dashboard.add_menu_entry()
