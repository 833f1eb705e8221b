from django.apps import AppConfig


class GenlookSandboxConfig(AppConfig):
    """The sandbox keeps its state in memory: it has no models and no migrations."""

    name = "genlook_django.sandbox"
    label = "genlook_sandbox"
    verbose_name = "Genlook Try-On API sandbox"
