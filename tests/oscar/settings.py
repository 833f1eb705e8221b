"""A stock django-oscar project with genlook (the Oscar example's settings), for the tests
in tests/oscar: ``pytest --ds=tests.oscar.settings tests/oscar`` (``make test`` runs it)."""

import os
from pathlib import Path

OUTPUT = Path(__file__).resolve().parents[2] / "test-output" / "oscar"
os.environ.setdefault("EXAMPLE_OSCAR_VAR_DIR", str(OUTPUT))

from example_oscar.settings import *  # noqa: E402, F403

DEBUG = False
ALLOWED_HOSTS = ["*"]
ROOT_URLCONF = "tests.oscar.urls"
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
# No search index: the tests open product pages, not the catalogue's listings.
HAYSTACK_CONNECTIONS = {"default": {"ENGINE": "haystack.backends.simple_backend.SimpleEngine"}}
MEDIA_ROOT = OUTPUT / "media"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
LOGGING = {"version": 1, "disable_existing_loggers": False}

# Tests point GENLOOK at a sandbox server they start themselves (tests/support/catalog.py).
GENLOOK = {
    "API_KEY": "gk_test_default",
    "BASE_URL": "http://127.0.0.1:9/tryon/v1",
    "PUBLIC_BASE_URL": "http://testserver",
}
GENLOOK_SANDBOX = {"API_KEYS": {"gk_test_default": {"credits": 100}}, "BESIDE_SHOP": True}
