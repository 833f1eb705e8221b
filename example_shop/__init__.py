"""A small Django shop that uses genlook_django the way a merchant would."""

# Load the Celery app with Django, so that @shared_task binds to it.
from .celery import app as celery_app

__all__ = ["celery_app"]
