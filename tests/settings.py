"""Settings for the test suite: SQLite in memory, local files, eager tasks, the sandbox."""

from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent

SECRET_KEY = "tests-only-not-secret"
DEBUG = False
ALLOWED_HOSTS = ["*"]
USE_TZ = True
TIME_ZONE = "UTC"

INSTALLED_APPS = [
    # Above django.contrib.admin: its admin/base_site.html adds the credits banner (docs/admin.md).
    "genlook_django",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "genlook_django.sandbox",
    "example_shop.shop",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]

ROOT_URLCONF = "tests.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]

DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}

STATIC_URL = "/static/"
MEDIA_URL = "/media/"
MEDIA_ROOT = BASE_DIR / "test-output" / "media"

CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True

# Tests point GENLOOK at a sandbox server they start themselves (see tests/conftest.py).
GENLOOK = {
    "API_KEY": "gk_test_default",
    "BASE_URL": "http://127.0.0.1:9/tryon/v1",
    "PUBLIC_BASE_URL": "http://testserver",
}
# The suite serves product images and webhooks on 127.0.0.1, beside the in-process sandbox:
# let it fetch them (strict tests turn BESIDE_SHOP off; see docs/sandbox.md).
GENLOOK_SANDBOX = {"API_KEYS": {"gk_test_default": {"credits": 100}}, "BESIDE_SHOP": True}
