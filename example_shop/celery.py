"""The example shop's Celery app.

Without ``CELERY_BROKER_URL`` in the environment the settings run every task eagerly, in the
process that enqueues it. With a broker, start a worker next to the web server::

    CELERY_BROKER_URL=redis://localhost:6379/0 celery -A example_shop worker -l info
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "example_shop.settings")

app = Celery("example_shop")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
