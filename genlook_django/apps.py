from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GenlookConfig(AppConfig):
    name = "genlook_django"
    label = "genlook"
    verbose_name = _("Genlook virtual try-on")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from genlook_django import checks  # noqa: F401  (registers the system checks)
        from genlook_django.services import webhooks
        from genlook_django.services.catalog import register_from_settings
        from genlook_django.services.retention import connect_user_erasure
        from genlook_django.services.tryons import erasure

        register_from_settings()
        connect_user_erasure()  # a deleted user's try-ons are erased here and at Genlook
        erasure.connect_signals()  # owed erasures follow try-ons' ends; sign-in keeps try-ons
        webhooks.connect_signals()  # a lost answer's waiting webhook is processed again
