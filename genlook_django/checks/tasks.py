"""How work is handed over: a Celery app, or inline."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register

from genlook_django.conf import genlook_settings


@register(Tags.compatibility)
def check_tasks(app_configs=None, **kwargs):
    """Where tasks run (``jobs``): never published to a broker nobody configured."""
    from genlook_django import jobs

    setting = genlook_settings.TASKS
    if setting not in jobs.MODES:
        return [
            Error(
                f"GENLOOK TASKS is {setting!r}.",
                hint='Use "auto" (the default), "celery" or "inline".',
                id="genlook.E030",
            )
        ]
    app = jobs.celery_app()
    if setting == "celery" and app is None:
        return [
            Error(
                'GENLOOK TASKS is "celery" but this project has no Celery app: product '
                "syncs, try-ons and webhooks would have nowhere to go.",
                hint="Define the project's Celery app (proj/celery.py, imported in "
                "proj/__init__.py: https://docs.celeryq.dev/en/stable/django/), or set "
                'GENLOOK["TASKS"] = "inline" to run them in the web process.',
                id="genlook.E031",
            )
        ]
    if setting == "auto" and app is None and getattr(settings, "CELERY_BROKER_URL", None):
        return [
            Warning(
                "CELERY_BROKER_URL is set but no Celery app is loaded: Genlook tasks run "
                "inline, in the web process.",
                hint="Import the project's Celery app in proj/__init__.py so tasks go to "
                'its workers, or set GENLOOK["TASKS"] = "inline" to say that is intended.',
                id="genlook.W030",
            )
        ]
    return []
