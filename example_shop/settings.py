"""Settings for the example shop.

The embedded default needs nothing but the Python packages: SQLite and media files under
``<repo>/var/``, Celery tasks run eagerly in the web process, and Genlook pointed at the
sandbox that this same server mounts under ``/sandbox/tryon/v1/``::

    python manage.py migrate
    python manage.py seed_demo --with-admin
    python manage.py runserver

Everything a real deployment changes comes from the environment: ``DJANGO_SECRET_KEY``,
``DJANGO_DEBUG``, ``DJANGO_ALLOWED_HOSTS``, ``CELERY_BROKER_URL`` (then run a worker),
``GENLOOK_API_KEY`` and ``GENLOOK_BASE_URL`` (the real API is
``https://api.genlook.app/tryon/v1``), ``GENLOOK_API=classic`` (Genlook's classic API),
``DATABASE_URL`` (PostgreSQL), ``REDIS_URL`` (the
shared request budget and cache), ``GENLOOK_STORAGE=s3`` with ``AWS_*`` (django-storages).
The whole list, and how to run gunicorn, the worker and beat: docs/deployment.md.
"""

import os
from pathlib import Path

from django.utils.translation import gettext_lazy as _

from example_shop import deploy


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("EXAMPLE_SHOP_VAR_DIR", BASE_DIR / "var"))

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "example-shop-insecure-key-do-not-deploy")
DEBUG = env_bool("DJANGO_DEBUG", True)
ALLOWED_HOSTS = os.environ.get("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]").split(",")

INSTALLED_APPS = [
    # Above django.contrib.admin, so that its admin/base_site.html puts the Genlook credits
    # banner on every admin page (see docs/admin.md).
    "genlook_django",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    # The Genlook API emulator, served by this same process (see urls.py). Remove it, and
    # point GENLOOK_BASE_URL at the real API, to go live.
    "genlook_django.sandbox",
    "example_shop.shop",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

if not env_bool("EXAMPLE_SHOP_SANDBOX", True):  # production: no emulator mounted
    INSTALLED_APPS.remove("genlook_django.sandbox")

ROOT_URLCONF = "example_shop.urls"
WSGI_APPLICATION = "example_shop.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]

# -- data --------------------------------------------------------------------------------

VAR_DIR.mkdir(parents=True, exist_ok=True)

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": VAR_DIR / "db.sqlite3",
        # A write transaction takes the lock when it begins, so two shoppers' try-ons
        # stored at once wait for each other instead of failing (genlook.W090).
        "OPTIONS": {"transaction_mode": "IMMEDIATE", "timeout": 20},
    }
}
if os.environ.get("DATABASE_URL"):  # e.g. postgresql://shop:secret@db:5432/shop
    DATABASES["default"] = deploy.database_from_url(
        os.environ["DATABASE_URL"],
        conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE", "60")),
        pool_size=int(os.environ.get("DATABASE_POOL_SIZE", "0")),
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
REDIS_URL = os.environ.get("REDIS_URL", "")  # e.g. redis://127.0.0.1:6379/1
if REDIS_URL:  # one cache for every process (and GENLOOK's request budget, below)
    CACHES["default"] = {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
    }
    # Sessions read from the cache, written through to the database: no query per request.
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"

# A CDN or web server in front of local media: its absolute URL (Genlook fetches product
# images by URL). Relative, Django serves the files itself, and only while DEBUG.
MEDIA_URL = os.environ.get("DJANGO_MEDIA_URL", "media/")
MEDIA_ROOT = VAR_DIR / "media"
MEDIA_ROOT.mkdir(parents=True, exist_ok=True)

# Shoppers' photos and try-on results: a directory no URL serves. genlook_django streams
# each file to its owner only (GENLOOK["PHOTOS_STORAGE"] and ["RESULTS_STORAGE"] below).
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    "genlook_private": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": VAR_DIR / "private"},
    },
}

# GENLOOK_STORAGE=s3: media (product images, public) and genlook_private (never public) in
# S3 or an S3-compatible store, through django-storages (deploy.s3_storages).
if os.environ.get("GENLOOK_STORAGE", "local").lower() == "s3":
    STORAGES.update(deploy.s3_storages())

if env_bool("DJANGO_HTTPS", False):  # behind TLS (a proxy setting X-Forwarded-Proto)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = True
    SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = int(os.environ.get("DJANGO_HSTS_SECONDS", "0"))
CSRF_TRUSTED_ORIGINS = deploy.env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

# -- languages ---------------------------------------------------------------------------

LANGUAGE_CODE = "en"
LANGUAGES = [
    ("en", _("English")),
    ("fr", _("French")),
    ("es", _("Spanish")),
    ("de", _("German")),
    ("ja", _("Japanese")),
]
USE_I18N = True
USE_TZ = True
TIME_ZONE = "UTC"

# -- Celery ------------------------------------------------------------------------------

# No broker configured: run tasks in-process, so the demo needs no Redis or RabbitMQ.
_broker_url = os.environ.get("CELERY_BROKER_URL", "")
CELERY_BROKER_URL = _broker_url or "memory://"
CELERY_TASK_ALWAYS_EAGER = not _broker_url
# In eager mode a failing task would otherwise fail silently; show its traceback while DEBUG.
CELERY_TASK_EAGER_PROPAGATES = DEBUG
# With a worker, run `celery -A example_shop beat` too: the reconciler polls try-ons nobody
# has checked lately and fails those open too long (docs/webhooks.md). Harmless when eager.
# Also: retry products whose sync failed transiently, purge expired files, read credits.
CELERY_BEAT_SCHEDULE = deploy.beat_schedule()
# With a worker: one queue per deployment (CELERY_TASK_DEFAULT_QUEUE), no result backend,
# and long tasks (/try-on/sync holds its worker thread for the generation) not prefetched.
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("CELERY_TASK_DEFAULT_QUEUE", "celery")
CELERY_TASK_IGNORE_RESULT = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Redis redelivers a task a worker took but never acknowledged (it died: acks_late) only
# after the visibility timeout (1 hour by default). Keep it above the longest task plus
# the longest countdown (SYNC_RETRY_BACKOFF_MAX, 600 s by default). RabbitMQ ignores it.
CELERY_BROKER_TRANSPORT_OPTIONS = deploy.broker_transport_options()

# -- Genlook -----------------------------------------------------------------------------

# GENLOOK_API=classic speaks Genlook's classic API (docs/classic-api.md); the sandbox
# mounted below serves it at /sandbox/, v1 at /sandbox/tryon/v1/.
GENLOOK_API = os.environ.get("GENLOOK_API", "v1")
_SANDBOX_URL = "http://127.0.0.1:8000/sandbox" + ("" if GENLOOK_API == "classic" else "/tryon/v1")

GENLOOK = {
    "API": GENLOOK_API,
    "API_KEY": os.environ.get("GENLOOK_API_KEY", "gk_sandbox_demo"),
    "BASE_URL": os.environ.get("GENLOOK_BASE_URL", _SANDBOX_URL),
    # Genlook fetches product images by URL: MEDIA_URL is relative, so say where the shop
    # is served. With the real API this must be reachable from the internet (or use S3).
    "PUBLIC_BASE_URL": os.environ.get("PUBLIC_BASE_URL", "http://127.0.0.1:8000"),
    # Tasks run in the web process without a broker; with one, they must reach the workers
    # (manage.py check fails, genlook.E031, if the Celery app were not loaded).
    "TASKS": "celery" if _broker_url else "inline",
    # Storefront try-ons (docs/widget.md, docs/privacy.md): private files, and Genlook
    # forgets photos and results after one day.
    "PHOTOS_STORAGE": "genlook_private",
    "RESULTS_STORAGE": "genlook_private",
    "KEEP_FOR_DAYS": 1,
    # The name on a shared look's page (docs/widget.md, "Sharing a look").
    "SHOP_NAME": "Lumen Atelier",
    # Every web process and worker shares one request budget per key (docs/settings.md).
    "RATE_LIMIT_REDIS_URL": REDIS_URL or None,
    # Genlook's default is 100 requests a minute per key; set these if yours was raised.
    "RATE_LIMIT": int(os.environ.get("GENLOOK_RATE_LIMIT", "100")),
    "RATE_PERIOD": float(os.environ.get("GENLOOK_RATE_PERIOD", "60")),
    # GENLOOK_WEBHOOKS=1: the sandbox POSTs completions to PUBLIC_BASE_URL (docs/webhooks.md).
    # webhook_url is not part of Genlook's v1 contract: it is never sent to the real API.
    # The classic API's contract has it: there webhooks are on unless GENLOOK_WEBHOOKS=0.
    "WEBHOOKS": env_bool("GENLOOK_WEBHOOKS", GENLOOK_API == "classic"),
    # Behind a proxy (nginx, a load balancer), REMOTE_ADDR is the proxy's: name the header
    # it sets (e.g. X-Forwarded-For), or every shopper shares one per-address quota.
    "CLIENT_IP_HEADER": os.environ.get("GENLOOK_CLIENT_IP_HEADER") or None,
    "TRUSTED_PROXY_COUNT": int(os.environ.get("GENLOOK_TRUSTED_PROXY_COUNT", "1")),
}
# Any other GENLOOK setting, as a JSON object (e.g. {"RECONCILE_MAX_AGE": 900}).
GENLOOK.update(deploy.env_json("GENLOOK_OVERRIDES"))
GENLOOK_SANDBOX = {
    "API_KEYS": {"gk_sandbox_demo": {"credits": 200}},
    "GENERATION_SECONDS": 4,
    # The sandbox runs in this very server, beside the shop: it may fetch product images from
    # 127.0.0.1. The real Genlook cannot; GENLOOK_SANDBOX_BESIDE_SHOP=0 makes the sandbox as
    # strict (every try-on then fails PRODUCT_IMAGE_FETCH_FAILED, see docs/sandbox.md).
    "BESIDE_SHOP": env_bool("GENLOOK_SANDBOX_BESIDE_SHOP", True),
}
if "genlook_django.sandbox" in INSTALLED_APPS:
    # The token of the sandbox's control endpoints (_sandbox/: reset, credits, faults,
    # generations), never the API key: random, made once in var/, printed by seed_demo.
    # Server-side only: never put it in a page.
    GENLOOK_SANDBOX["CONTROL_TOKEN"] = os.environ.get("GENLOOK_SANDBOX_CONTROL_TOKEN") or (
        deploy.local_secret(VAR_DIR / "sandbox-control-token")
    )

# -- logging -----------------------------------------------------------------------------

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"short": {"format": "%(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "short"}},
    "loggers": {
        "genlook_django": {"handlers": ["console"], "level": "INFO"},
        "example_shop": {"handlers": ["console"], "level": "INFO"},
    },
}
