"""Settings of a project with no Celery app: no CELERY_* setting, no celery.py.

``GENLOOK_NOCELERY_DIR`` (set by the test) holds the database and the media files.
"""

import os
from pathlib import Path

WORK_DIR = Path(os.environ.get("GENLOOK_NOCELERY_DIR", "/tmp/genlook-nocelery"))

SECRET_KEY = "tests-only-not-secret"
DEBUG = False
ALLOWED_HOSTS = ["*"]
USE_TZ = True

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "rest_framework",
    "genlook_django",
    "genlook_django.sandbox",  # the fake Genlook the scenario talks to, over HTTP
    "tests.nocelery.catalogue",
]
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
]
ROOT_URLCONF = "tests.nocelery.urls"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {"context_processors": ["django.template.context_processors.request"]},
    }
]
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": WORK_DIR / "db.sqlite3",
        "OPTIONS": {"transaction_mode": "IMMEDIATE"},
    }
}
MEDIA_URL = "/media/"
MEDIA_ROOT = WORK_DIR / "media"
STATIC_URL = "/static/"

# BASE_URL is the sandbox the scenario starts (its port is known only then).
GENLOOK = {
    "API_KEY": "gk_nocelery",
    "PUBLIC_BASE_URL": "http://testserver",
    "PRODUCT_ADAPTERS": {"catalogue.Product": "tests.nocelery.catalogue.genlook.ProductAdapter"},
    "STATUS_POLL_INTERVAL": 0.1,
    "WIDGET_POLL_MS": 50,
}
# The sandbox runs beside the shop: it may fetch the product images served on 127.0.0.1.
GENLOOK_SANDBOX = {"API_KEYS": {"gk_nocelery": {"credits": 10}}, "BESIDE_SHOP": True}
