"""The one lazy settings object over ``settings.GENLOOK``.

Every value is read when it is accessed, never at import time, so ``override_settings``
works in tests and nothing is frozen into default arguments.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings as django_settings
from django.core.exceptions import ImproperlyConfigured

OFFICIAL_BASE_URL = "https://api.genlook.app/tryon/v1"
CLASSIC_BASE_URL = "https://api.genlook.app"

DEFAULTS: dict[str, Any] = {
    # Credentials and endpoint.
    "API_KEY": None,
    "BASE_URL": OFFICIAL_BASE_URL,
    # The dialect spoken: "v1", or "classic" (Genlook's classic API: Bearer, POST
    # /v1/try-on with image URLs; see docs/classic-api.md). With "classic", BASE_URL left
    # at v1's address means the classic one, https://api.genlook.app.
    "API": "v1",
    # Classic: seconds a shopper's photo link (genlook:photo-link) stays valid for Genlook
    # to fetch, and try-ons sent per POST /v1/try-on/batch (1 to 100).
    "PHOTO_LINK_MAX_AGE": 3600,
    "CLASSIC_BATCH_SIZE": 50,
    # HTTP behaviour, in seconds.
    "CONNECT_TIMEOUT": 5.0,
    "READ_TIMEOUT": 30.0,
    "SYNC_TIMEOUT": 100.0,
    "MAX_RETRIES": 4,
    "BACKOFF_INITIAL": 0.5,
    "BACKOFF_MAX": 30.0,
    # One request budget per API key, shared by every thread and process of the shop.
    "RATE_LIMIT": 100,
    "RATE_PERIOD": 60.0,
    # "auto" picks Redis when RATE_LIMIT_REDIS_URL is set, then a shared Django cache,
    # then an in-process limiter. Or force "redis", "cache" or "local".
    "RATE_LIMIT_BACKEND": "auto",
    "RATE_LIMIT_REDIS_URL": None,
    "RATE_LIMIT_CACHE": "default",
    # Where tasks run (see docs/settings.md, "Tasks"): "inline" in the process that asks
    # for them (no broker, no worker), "celery" published to the project's Celery app, or
    # "auto": "celery" when the project has a Celery app that does not run tasks eagerly.
    "TASKS": "auto",
    # Product catalog sync (see docs/products.md).
    # {"app_label.Model": "dotted.path.to.Adapter"}: registered when the app is ready, like
    # calling genlook_django.register(Model, Adapter) yourself.
    "PRODUCT_ADAPTERS": {},
    # Prefix for relative image URLs (local MEDIA_URL), e.g. "https://shop.example.com".
    # Genlook fetches product images itself, so they must be absolute and reachable.
    "PUBLIC_BASE_URL": None,
    # False: saves and deletes no longer enqueue syncs (run genlook_sync instead).
    "AUTO_SYNC": True,
    # Celery retries of a transient sync failure (5xx, 429, network), with backoff up to
    # SYNC_RETRY_BACKOFF_MAX seconds, before the product is left FAILED.
    "SYNC_MAX_RETRIES": 5,
    "SYNC_RETRY_BACKOFF_MAX": 600.0,
    # Threads genlook_sync uses; the shared request budget still bounds the rate.
    "SYNC_WORKERS": 4,
    # Image audit: the smallest side accepted, bytes allowed, seconds per fetch.
    "IMAGE_MIN_SIDE": 256,
    "IMAGE_MAX_BYTES": 10 * 1024 * 1024,
    "IMAGE_AUDIT_TIMEOUT": 10.0,
    # -- Storefront try-ons (see docs/storefront-api.md, docs/widget.md, docs/privacy.md) --
    # Aliases in Django's STORAGES: results, and shoppers' photos (keep that one private).
    "RESULTS_STORAGE": "default",
    "PHOTOS_STORAGE": "default",
    # The photo pipeline: bytes and pixels accepted, the shortest side, the long edge it
    # is downscaled to, and the JPEG quality it is re-encoded at.
    "PHOTO_MAX_BYTES": 10 * 1024 * 1024,
    "PHOTO_MAX_PIXELS": 50_000_000,
    "PHOTO_MIN_EDGE": 256,
    "PHOTO_LONG_EDGE": 1024,
    "PHOTO_QUALITY": 85,
    # PNG, WebP, HEIC and progressive JPEG cannot be decoded at a reduced scale: their
    # whole pixel grid is held while the photo is made small, so they get a lower bound.
    "PHOTO_MAX_PIXELS_FULL_DECODE": 16_000_000,
    # Photos normalised at once per process (each may hold ~4 bytes per pixel of its
    # source); an upload that finds no slot within PHOTO_PIPELINE_WAIT seconds is answered
    # 503 UPLOADS_BUSY. None: no cap.
    "PHOTO_PIPELINE_CONCURRENCY": 2,
    "PHOTO_PIPELINE_WAIT": 3.0,
    # A shopper's last photo is offered again ("use my last photo") for this many days.
    "PHOTO_REUSE_DAYS": 7,
    # Where an uploaded JPEG is decoded and re-encoded: "auto" (by the worker when one runs
    # the tasks, else in the request), "request", or "worker" (services/tryons/intake.py).
    "PHOTO_NORMALISE": "auto",
    # Sent to Genlook with every upload and try-on: output.watermark (None: the account's
    # default) and keepForDays (1, 3 or 7; None: the account's retention).
    "WATERMARK": None,
    "KEEP_FOR_DAYS": 1,
    # Consent: the version recorded with each try-on, and the privacy text it links to
    # (None: the app's own page, genlook:privacy).
    "CONSENT_VERSION": "1",
    "PRIVACY_URL": None,
    # Share links to one look (docs/widget.md, "Sharing a look"): days a link works (never
    # past the result's RETENTION_DAYS), links a try-on may have at once, and the shop's
    # name on the shared page (None: the Sites framework's current site, else the host).
    "SHARE_LINK_DAYS": 7,
    "SHARE_LINKS_PER_TRY_ON": 5,
    "SHOP_NAME": None,
    # Quotas: (count, seconds) per shopper, and try-ons per rolling 24 hours for the shop.
    "UPLOAD_QUOTA": (10, 300),
    "TRY_ON_QUOTA": (50, 7 * 24 * 3600),
    "DAILY_TRY_ON_BUDGET": 1000,
    # Per client network (an IPv4 address, an IPv6 /64), whatever its sessions: (count,
    # seconds) or None; and new photos for the whole shop, (count, seconds) or None.
    "IP_UPLOAD_QUOTA": (30, 3600),
    "IP_TRY_ON_QUOTA": (100, 24 * 3600),
    "UPLOAD_BUDGET": (300, 3600),
    # Where the client's address is read: None = REMOTE_ADDR only. Behind proxies, the
    # header they set (e.g. "X-Forwarded-For") and how many of them append to it.
    "CLIENT_IP_HEADER": None,
    "TRUSTED_PROXY_COUNT": 1,
    # After Genlook answers 402 (no credits), refuse new try-ons for this many seconds.
    "CREDITS_RETRY_AFTER": 120.0,
    # Results: the status view asks Genlook itself when its last check is older than
    # STATUS_POLL_INTERVAL seconds: "auto" = only when tasks run eagerly (no worker).
    "STATUS_POLL_THROUGH": "auto",
    "STATUS_POLL_INTERVAL": 1.5,
    # Seconds allowed to those checks (connect, answer) and to the result's download, so
    # a status request stays short; what does not fit is tried again on the next one.
    "STATUS_POLL_CONNECT_TIMEOUT": 2.0,
    "STATUS_POLL_READ_TIMEOUT": 3.0,
    "STATUS_POLL_DOWNLOAD_TIMEOUT": 5.0,
    # The widget's status poll, in milliseconds, and when a try-on is given up, in seconds.
    "WIDGET_POLL_MS": 500,
    # GET /tryons/{id}/?wait=<seconds>: the request waits at most this long for the
    # try-on's state to change (the widget asks for this much; 0: waits off). The change
    # is announced through the cache STATUS_WAIT_CACHE (shared by every process: Redis),
    # read every STATUS_WAIT_TICK seconds by one thread per process; during a wait the
    # database is read every STATUS_WAIT_DB_INTERVAL seconds: "auto" = every second with
    # a cache each process keeps to itself (LocMem, Dummy), else only when the wait ends.
    "STATUS_WAIT_MAX": 10.0,
    "STATUS_WAIT_CACHE": "default",
    "STATUS_WAIT_TICK": 0.05,
    "STATUS_WAIT_DB_INTERVAL": "auto",
    "RESULT_TIMEOUT": 600.0,
    # -- Admin: credits, retention (see docs/admin.md) --
    # The balance (GET /account/credits) is cached this many seconds; a fetch stores a
    # CreditSnapshot at most once per CREDITS_SNAPSHOT_INTERVAL seconds.
    "CREDITS_CACHE_SECONDS": 300,
    "CREDITS_SNAPSHOT_INTERVAL": 900,
    # Below this balance: a banner across the admin, the credits_low signal (once per
    # crossing) and, with LOW_BALANCE_MAIL_ADMINS, a mail to settings.ADMINS. None: off.
    "LOW_BALANCE_THRESHOLD": 20,
    "LOW_BALANCE_MAIL_ADMINS": False,
    # Shoppers' photos and result images are deleted this many days after they were made
    # (genlook_purge, the genlook.purge_expired task); the try-on rows are kept, anonymised,
    # for the statistics, and deleted after STATS_RETENTION_DAYS. None: kept.
    "RETENTION_DAYS": 7,
    "STATS_RETENTION_DAYS": 365,
    # -- Webhooks and the reconciler (see docs/webhooks.md) --
    # Ask Genlook to POST completions to PUBLIC_BASE_URL + a per-try-on URL (needs
    # PUBLIC_BASE_URL). Results never depend on webhooks alone: polling and the reconciler
    # still run. None: on with the classic API (its contract has webhook_url), off with v1.
    "WEBHOOKS": None,
    # When set, every delivery must also carry a valid Genlook-Signature (HMAC-SHA256 of
    # "<timestamp>.<body>"); list several secrets to rotate one without losing deliveries.
    "WEBHOOK_SIGNING_SECRETS": [],
    # Seconds a signature's timestamp may be off from now (replays outside it are refused).
    "WEBHOOK_TOLERANCE": 300.0,
    # Largest body accepted, in bytes (413 beyond, without reading the rest).
    "WEBHOOK_MAX_BODY": 64 * 1024,
    # Confirm every delivery with GET /generations/{id} before recording anything: the
    # payload is only a hint. Turn off only with signing secrets (manage.py check warns).
    "WEBHOOK_CONFIRM": True,
    # At most this many confirmations (GET /generations/{id}) per try-on for its webhook
    # deliveries; beyond, deliveries are stored but not confirmed (polling and the
    # reconciler still bring the result). A bound on what a token holder can make the API
    # budget pay. None: no bound.
    "WEBHOOK_MAX_CONFIRMATIONS": 5,
    # The reconciler (task genlook.reconcile_try_ons, command genlook_reconcile): open
    # try-ons and batch items nobody has checked for RECONCILE_AFTER seconds are polled;
    # any still open RECONCILE_MAX_AGE seconds on is failed (TIMED_OUT). Pending
    # ones are already given up RESULT_TIMEOUT after their submission: keep
    # RECONCILE_MAX_AGE at least RESULT_TIMEOUT.
    "RECONCILE_AFTER": 120.0,
    "RECONCILE_MAX_AGE": 1800.0,
}


class GenlookSettings:
    """``settings.GENLOOK`` with defaults, e.g. ``genlook_settings.BASE_URL``."""

    def _user_settings(self) -> dict[str, Any]:
        value = getattr(django_settings, "GENLOOK", None) or {}
        if not isinstance(value, dict):
            raise ImproperlyConfigured("settings.GENLOOK must be a dict.")
        return value

    def __getattr__(self, name: str) -> Any:
        if name not in DEFAULTS:
            raise AttributeError(f"Unknown Genlook setting {name!r}.")
        return self._user_settings().get(name, DEFAULTS[name])

    def require(self, name: str) -> Any:
        """The value of ``name``, or an error that says where to set it."""
        value = getattr(self, name)
        if value in (None, ""):
            raise ImproperlyConfigured(
                f"Genlook setting {name} is missing: add it to settings.GENLOOK, "
                f'e.g. GENLOOK = {{"{name}": ...}}.'
            )
        return value

    @property
    def classic(self) -> bool:
        """Whether the classic API is spoken (``API = "classic"``)."""
        return self.API == "classic"

    @property
    def api_base_url(self) -> str:
        """Where the client sends its calls: ``BASE_URL``, except that with the classic API
        v1's default address stands for the classic one."""
        base = str(self.BASE_URL or OFFICIAL_BASE_URL)
        if self.classic and base.rstrip("/") == OFFICIAL_BASE_URL:
            return CLASSIC_BASE_URL
        return base

    @property
    def webhooks_on(self) -> bool:
        """``WEBHOOKS``, or when left at None, whether the classic API is spoken."""
        value = self.WEBHOOKS
        return self.classic if value is None else bool(value)

    def unknown_keys(self) -> list[str]:
        return sorted(set(self._user_settings()) - set(DEFAULTS))


genlook_settings = GenlookSettings()
