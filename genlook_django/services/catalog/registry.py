"""Registering the shop's product models, and the signals that keep Genlook in step.

``register(Product, ProductAdapter)`` connects ``post_save``/``post_delete`` (and the
relations the adapter watches). A handler makes no network call (and, for the product
itself, no query unless its adapter's ``variant_of`` makes one): it notes the product's
primary key, and when the transaction commits, one Celery task per product reconciles it
with Genlook (upsert, delete, or nothing when its content hash is unchanged).
A rolled-back transaction enqueues nothing.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from contextlib import ContextDecorator
from contextvars import ContextVar, Token
from typing import Any

from django.apps import apps
from django.core.exceptions import ImproperlyConfigured
from django.db import DEFAULT_DB_ALIAS, models
from django.db.models.signals import m2m_changed, post_delete, post_init, post_save
from django.utils.module_loading import import_string

from genlook_django import jobs
from genlook_django.conf import genlook_settings

from .adapters import ProductAdapter

logger = logging.getLogger("genlook_django.catalog")

ModelRef = type[models.Model] | str


class AlreadyRegistered(ImproperlyConfigured):
    pass


class NotRegistered(LookupError):
    pass


_adapters: dict[type[models.Model], ProductAdapter] = {}
_by_label: dict[str, ProductAdapter] = {}
_connected: dict[type[models.Model], list[tuple[Any, Any, str]]] = {}
_lock = threading.Lock()


def _resolve_model(model: ModelRef) -> type[models.Model]:
    if isinstance(model, str):
        return apps.get_model(model)
    return model


def register(
    model: ModelRef, adapter_class: type[ProductAdapter] | None = None, **options: Any
) -> ProductAdapter:
    """Register a product model with its adapter, and connect its signals.

    >>> register(Product)                               # the default adapter
    >>> register(Product, ShopProductAdapter)           # a subclass of ProductAdapter
    >>> register(Product, title_field="label")          # or attributes inline

    Call it from your ``AppConfig.ready()``, or name the adapter in
    ``GENLOOK["PRODUCT_ADAPTERS"]``. Returns the adapter instance.
    """
    model = _resolve_model(model)
    cls = adapter_class or ProductAdapter
    if options:
        cls = type(cls.__name__, (cls,), options)
    adapter = cls(model)
    with _lock:
        if model in _adapters:
            raise AlreadyRegistered(f"{model._meta.label} is already registered with Genlook.")
        _adapters[model] = adapter
        _by_label[adapter.label] = adapter
    _connect(model, adapter)
    return adapter


def unregister(model: ModelRef) -> None:
    model = _resolve_model(model)
    with _lock:
        adapter = _adapters.pop(model, None)
        if adapter is None:
            raise NotRegistered(f"{model._meta.label} is not registered with Genlook.")
        _by_label.pop(adapter.label, None)
    for signal, sender, uid in _connected.pop(model, []):
        signal.disconnect(sender=sender, dispatch_uid=uid)


def is_registered(model: ModelRef) -> bool:
    return _resolve_model(model) in _adapters


def get_adapter(model: ModelRef | models.Model) -> ProductAdapter:
    """The adapter of a registered model (a class, an instance, or ``"app_label.model"``)."""
    if isinstance(model, str):
        adapter = _by_label.get(model.lower())
        if adapter is None:
            adapter = _adapters.get(_resolve_model(model))
    else:
        cls = model if isinstance(model, type) else type(model)
        adapter = _adapters.get(cls) or _adapters.get(cls._meta.concrete_model)
    if adapter is None:
        raise NotRegistered(
            f"{model} is not registered with Genlook: call genlook_django.register() in "
            "your AppConfig.ready() or list it in GENLOOK['PRODUCT_ADAPTERS']."
        )
    return adapter


# A variant of a variant is followed this far (a loop in the shop's data ends there).
MAX_VARIANT_DEPTH = 5


def get_tryon_product(product: models.Model) -> models.Model:
    """The product ``product`` is tried on as: itself, or the product its adapter's
    ``variant_of`` names (a size or colour row of its own is tried on as its product).

    The try-on button, the storefront API, the funnel and the sync signals all go through
    it, so every variant counts as one product at Genlook. Raises ``NotRegistered`` for a
    model with no adapter.
    """
    for _step in range(MAX_VARIANT_DEPTH):
        parent = get_adapter(product).variant_of(product)
        if parent is None or parent is product:
            break
        product = parent
    return product


def registered_adapters() -> list[ProductAdapter]:
    return list(_adapters.values())


def register_from_settings() -> None:
    """Register what ``GENLOOK["PRODUCT_ADAPTERS"]`` names (called by the app's ``ready()``)."""
    adapters = genlook_settings.PRODUCT_ADAPTERS or {}
    if not isinstance(adapters, dict):
        raise ImproperlyConfigured(
            'GENLOOK["PRODUCT_ADAPTERS"] must be a dict: {"app_label.Model": "path.Adapter"}.'
        )
    for label, path in adapters.items():
        model = apps.get_model(label)
        if model in _adapters:
            continue
        adapter_class = import_string(path) if isinstance(path, str) else path
        register(model, adapter_class)


# -- Turning auto-sync off --------------------------------------------------------------

_disabled: ContextVar[int] = ContextVar("genlook_auto_sync_disabled", default=0)


class disable_auto_sync(ContextDecorator):
    """Saves and deletes in this block (or decorated function) enqueue no sync.

    For bulk imports: run ``manage.py genlook_sync`` afterwards, which pushes only what
    changed. It applies to the current thread (context) only; other requests keep syncing.

    >>> with disable_auto_sync():
    ...     import_catalog()
    """

    def __init__(self) -> None:
        self._tokens: list[Token[int]] = []

    def _recreate_cm(self) -> disable_auto_sync:  # one instance per decorated call
        return type(self)()

    def __enter__(self) -> disable_auto_sync:
        self._tokens.append(_disabled.set(_disabled.get() + 1))
        return self

    def __exit__(self, *exc_info: Any) -> None:
        _disabled.reset(self._tokens.pop())


def auto_sync_enabled() -> bool:
    return _disabled.get() == 0 and bool(genlook_settings.AUTO_SYNC)


# -- Enqueueing on commit -----------------------------------------------------------------

_pending = threading.local()


class _Flush:
    """The products already enqueued by the callbacks of one commit: each save registers
    its own callback (so a rolled-back savepoint drops exactly its own), and the first
    callback to run for a product enqueues it, the others skip it."""

    def __init__(self) -> None:
        self.started = False
        self.sent: set[tuple[str, Any]] = set()


def _current_flush(using: str) -> _Flush:
    flushes = _pending.__dict__.setdefault("flushes", {})
    flush = flushes.get(using)
    if flush is None or flush.started:  # that commit has run: start a new one
        flush = flushes[using] = _Flush()
    return flush


def _json_pk(pk: Any) -> Any:
    return pk if isinstance(pk, int | str) else str(pk)


_said_no_catalog = threading.Event()


def _no_catalog() -> None:
    """Said once per process: with the classic API saves sync nothing (no catalog)."""
    if not _said_no_catalog.is_set():
        _said_no_catalog.set()
        logger.warning(
            "GENLOOK API is 'classic', which has no products catalog: product saves and "
            "deletions are not synced; each try-on sends the product's image and category."
        )


def enqueue_sync(model: type[models.Model], pks: Iterable[Any], using: str | None = None) -> None:
    """Sync these products once the current transaction commits (at once without one).

    A product saved several times in a transaction is enqueued once; a rollback enqueues
    nothing. No query and no network call happen here.
    """
    if genlook_settings.classic:
        _no_catalog()
        return
    using = using or DEFAULT_DB_ALIAS
    label = get_adapter(model).label
    keys = [(label, _json_pk(pk)) for pk in pks if pk is not None]
    if not keys:
        return
    flush = _current_flush(using)

    def enqueue_genlook_sync() -> None:
        flush.started = True
        for key in keys:
            if key not in flush.sent:
                flush.sent.add(key)
                jobs.enqueue("genlook.sync_product", *key)

    # robust: a broker that is down is logged; it must not fail the shop's request.
    jobs.on_commit(enqueue_genlook_sync, using=using)


# -- Signal wiring --------------------------------------------------------------------------


def _on_product_change(sender: type[models.Model], instance: models.Model, **kwargs: Any) -> None:
    if auto_sync_enabled():
        # A variant's change is its product's (the adapter's variant_of may read it).
        try:
            product = get_tryon_product(instance)
        except Exception:  # the shop's save must not fail for it: sync the row itself
            logger.exception("Genlook: variant_of failed on %s:%s", sender.__name__, instance.pk)
            product = instance
        enqueue_sync(type(product), [product.pk], kwargs.get("using"))


class _RelatedChange:
    """Re-syncs the product(s) a watched related instance leads to.

    For a foreign key path, the product the row pointed to when it was loaded is
    remembered (``post_init``, from the instance's own data: no query), so moving a row from
    product A to product B re-syncs both.
    """

    def __init__(self, product_model: type[models.Model], related: type[models.Model], path: Any):
        self.product_model = product_model
        self.path = path
        self.fk_attname = None
        self.memo = ""
        if isinstance(path, str):
            try:
                field = related._meta.get_field(path)
            except Exception:
                field = None
            if field is not None and field.many_to_one:
                self.fk_attname = field.attname  # read the id: no query, works after delete
                self.memo = f"_genlook_{product_model._meta.label_lower}:{field.attname}"

    def remember(self, sender: Any, instance: models.Model, **kwargs: Any) -> None:
        """``post_init``: note the product the row points to as loaded (None if deferred)."""
        instance.__dict__[self.memo] = instance.__dict__.get(self.fk_attname)

    def products(self, instance: models.Model, created: bool = False) -> list[Any]:
        if self.fk_attname:
            current = getattr(instance, self.fk_attname)
            previous = None if created else instance.__dict__.get(self.memo)
            if previous is not None and previous != current:
                return [current, previous]  # moved: the old product lost it
            return [current]
        value = self.path(instance) if callable(self.path) else getattr(instance, self.path)
        if isinstance(value, models.Manager):
            value = value.all()
        if value is None:
            return []
        if isinstance(value, models.Model):
            return [value.pk]
        return [item.pk if isinstance(item, models.Model) else item for item in value]

    def __call__(self, sender: Any, instance: models.Model, **kwargs: Any) -> None:
        if auto_sync_enabled():
            pks = self.products(instance, created=bool(kwargs.get("created")))
            enqueue_sync(self.product_model, pks, kwargs.get("using"))
        if self.fk_attname and kwargs.get("signal") is post_save:
            # Saved: the row now belongs to its current product.
            instance.__dict__[self.memo] = instance.__dict__.get(self.fk_attname)


class _M2MChange:
    """Re-syncs the products on either side of a watched many-to-many change."""

    def __init__(self, product_model: type[models.Model]):
        self.product_model = product_model

    def __call__(self, sender: Any, instance: models.Model, action: str, **kwargs: Any) -> None:
        if not auto_sync_enabled():
            return
        using = kwargs.get("using")
        if isinstance(instance, self.product_model):
            if action.startswith("post_"):
                enqueue_sync(self.product_model, [instance.pk], using)
        elif action == "pre_clear":  # from the other side: read the products before they go
            enqueue_sync(self.product_model, self._linked(sender, instance), using)
        elif action.startswith("post_") and kwargs.get("pk_set"):
            enqueue_sync(self.product_model, kwargs["pk_set"], using)

    def _linked(self, through: type[models.Model], instance: models.Model) -> list[Any]:
        product_fk = other_fk = None
        for field in through._meta.concrete_fields:
            if not field.many_to_one:
                continue
            if field.related_model is self.product_model and product_fk is None:
                product_fk = field
            elif isinstance(instance, field.related_model):
                other_fk = field
        if product_fk is None or other_fk is None:
            return []
        return list(
            through._default_manager.filter(**{other_fk.attname: instance.pk}).values_list(
                product_fk.attname, flat=True
            )
        )


def _connect(model: type[models.Model], adapter: ProductAdapter) -> None:
    label = adapter.label
    wired: list[tuple[Any, Any, str]] = []

    def connect(signal: Any, receiver: Any, sender: Any, uid: str) -> None:
        signal.connect(receiver, sender=sender, weak=False, dispatch_uid=uid)
        wired.append((signal, sender, uid))

    connect(post_save, _on_product_change, model, f"genlook:{label}:save")
    connect(post_delete, _on_product_change, model, f"genlook:{label}:delete")
    for related, path in dict(adapter.watch).items():
        related_model = _resolve_model(related)
        handler = _RelatedChange(model, related_model, path)
        uid = f"genlook:{label}:{related_model._meta.label_lower}"
        connect(post_save, handler, related_model, uid + ":save")
        connect(post_delete, handler, related_model, uid + ":delete")
        if handler.fk_attname:
            connect(post_init, handler.remember, related_model, uid + ":init")
    for name in adapter.watch_m2m:
        through = getattr(model, name).through
        connect(m2m_changed, _M2MChange(model), through, f"genlook:{label}:m2m:{name}")
    _connected[model] = wired
