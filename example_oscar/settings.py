"""Settings for the django-oscar example: a stock Oscar 4 shop with genlook-django.

Run it like the other example (``make demo-oscar``): SQLite and media files under
``<repo>/var/oscar/``, tasks run inline, and Genlook pointed at the sandbox this same
server mounts under ``/sandbox/tryon/v1/``::

    DJANGO_SETTINGS_MODULE=example_oscar.settings python manage.py migrate
    DJANGO_SETTINGS_MODULE=example_oscar.settings python manage.py seed_oscar_demo --with-admin
    DJANGO_SETTINGS_MODULE=example_oscar.settings python manage.py runserver

Everything below the "genlook" markers is what a merchant adds to a stock Oscar project
(docs/oscar.md); the rest is Oscar's own set-up.
"""

import os
from pathlib import Path

from oscar.defaults import *  # noqa: F403  (Oscar's settings, as Oscar's docs start)

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("EXAMPLE_OSCAR_VAR_DIR", BASE_DIR / "var" / "oscar"))
VAR_DIR.mkdir(parents=True, exist_ok=True)

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "example-oscar-insecure-key-do-not-deploy")
DEBUG = os.environ.get("DJANGO_DEBUG", "1") == "1"
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]

INSTALLED_APPS = [
    # -- genlook ---------------------------------------------------------------------------
    "genlook_django",  # above django.contrib.admin: the credits banner in the admin
    # Above Oscar's apps: its catalogue/detail.html (the button) is found before Oscar's.
    "genlook_django.contrib.oscar",
    "rest_framework",
    "genlook_django.sandbox",  # the Genlook API emulator; remove it to go live
    # --------------------------------------------------------------------------------------
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.sites",
    "django.contrib.flatpages",
    "oscar.config.Shop",
    "oscar.apps.analytics.apps.AnalyticsConfig",
    "oscar.apps.checkout.apps.CheckoutConfig",
    "oscar.apps.address.apps.AddressConfig",
    "oscar.apps.shipping.apps.ShippingConfig",
    "oscar.apps.catalogue.apps.CatalogueConfig",
    "oscar.apps.catalogue.reviews.apps.CatalogueReviewsConfig",
    "oscar.apps.communication.apps.CommunicationConfig",
    "oscar.apps.partner.apps.PartnerConfig",
    "oscar.apps.basket.apps.BasketConfig",
    "oscar.apps.payment.apps.PaymentConfig",
    "oscar.apps.offer.apps.OfferConfig",
    "oscar.apps.order.apps.OrderConfig",
    "oscar.apps.customer.apps.CustomerConfig",
    "oscar.apps.search.apps.SearchConfig",
    "oscar.apps.voucher.apps.VoucherConfig",
    "oscar.apps.wishlists.apps.WishlistsConfig",
    "oscar.apps.dashboard.apps.DashboardConfig",
    "oscar.apps.dashboard.reports.apps.ReportsDashboardConfig",
    "oscar.apps.dashboard.users.apps.UsersDashboardConfig",
    "oscar.apps.dashboard.orders.apps.OrdersDashboardConfig",
    "oscar.apps.dashboard.catalogue.apps.CatalogueDashboardConfig",
    "oscar.apps.dashboard.offers.apps.OffersDashboardConfig",
    "oscar.apps.dashboard.partners.apps.PartnersDashboardConfig",
    "oscar.apps.dashboard.pages.apps.PagesDashboardConfig",
    "oscar.apps.dashboard.ranges.apps.RangesDashboardConfig",
    "oscar.apps.dashboard.reviews.apps.ReviewsDashboardConfig",
    "oscar.apps.dashboard.vouchers.apps.VouchersDashboardConfig",
    "oscar.apps.dashboard.communications.apps.CommunicationsDashboardConfig",
    "oscar.apps.dashboard.shipping.apps.ShippingDashboardConfig",
    "widget_tweaks",
    "haystack",
    "treebeard",
    "sorl.thumbnail",
    "django_tables2",
    "example_oscar.catalog_seed",
]

SITE_ID = 1

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "oscar.apps.basket.middleware.BasketMiddleware",
    "django.contrib.flatpages.middleware.FlatpageFallbackMiddleware",
]

ROOT_URLCONF = "example_oscar.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.template.context_processors.i18n",
                "django.contrib.messages.context_processors.messages",
                "oscar.apps.search.context_processors.search_form",
                "oscar.apps.checkout.context_processors.checkout",
                "oscar.apps.communication.notifications.context_processors.notifications",
                "oscar.core.context_processors.metadata",
            ]
        },
    }
]

AUTHENTICATION_BACKENDS = (
    "oscar.apps.customer.auth_backends.EmailBackend",
    "django.contrib.auth.backends.ModelBackend",
)

# Oscar's catalogue pages list products through a search backend; Haystack's simple engine
# finds none of them, so the demo keeps a Whoosh index in var/ (`make demo-oscar` builds it).
HAYSTACK_CONNECTIONS = {
    "default": {
        "ENGINE": "haystack.backends.whoosh_backend.WhooshEngine",
        "PATH": str(VAR_DIR / "whoosh"),
    }
}

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": VAR_DIR / "db.sqlite3",
        "OPTIONS": {"transaction_mode": "IMMEDIATE", "timeout": 20},  # genlook.W090
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

USE_TZ = True
TIME_ZONE = "UTC"
LANGUAGE_CODE = "en-gb"
STATIC_URL = "/static/"
MEDIA_URL = "/media/"
MEDIA_ROOT = VAR_DIR / "media"

OSCAR_SHOP_NAME = "Genlook Oscar demo"
OSCAR_DEFAULT_CURRENCY = "EUR"

# -- genlook -------------------------------------------------------------------------------
PORT = os.environ.get("PORT", "8000")
GENLOOK = {
    "API_KEY": os.environ.get("GENLOOK_API_KEY", "gk_sandbox_demo"),
    "BASE_URL": os.environ.get("GENLOOK_BASE_URL", f"http://127.0.0.1:{PORT}/sandbox/tryon/v1"),
    # Genlook fetches the product images itself: the address this shop is served at.
    "PUBLIC_BASE_URL": os.environ.get("PUBLIC_BASE_URL", f"http://127.0.0.1:{PORT}"),
    "TASKS": "inline",  # no worker in the demo: syncs and try-ons run in the web process
}
GENLOOK_SANDBOX = {
    "API_KEYS": {"gk_sandbox_demo": {"credits": 200}},
    "BESIDE_SHOP": True,  # the sandbox may fetch this shop's images on 127.0.0.1
    "GENERATION_SECONDS": 4,
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"genlook_django": {"handlers": ["console"], "level": "INFO"}},
}
