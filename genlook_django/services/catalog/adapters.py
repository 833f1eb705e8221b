"""``ProductAdapter``: how one of the shop's models maps to a Genlook product.

A simple model needs a few lines (often none): the defaults find a ``name``/``title``, a
``description``, every ``ImageField``, a ``category`` and an ``is_active`` flag by
themselves. Override an attribute, or a ``get_*`` method for anything computed.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from django.core.exceptions import FieldDoesNotExist, ImproperlyConfigured
from django.db import models
from django.db.models.fields.files import FieldFile
from django.urls import NoReverseMatch, reverse

from .categories import normalise_category
from .fields import FieldSpec, attribute_path, file_field_of, jsonable, related_model
from .payload import ProductPayload, absolute_url, html_to_text, present, stable_image_url
from .skips import Skip, SkipReason

if TYPE_CHECKING:
    from django.db.models import QuerySet

ANON_PREFIX = "_anon_"


class ProductAdapter:
    """Maps instances of one model to Genlook products. Subclass and set what differs.

    Attributes (``None`` means "find it by convention"):

    - ``external_id_field``: a unique field used as ``externalId`` (e.g. ``"sku"``); by
      default ``"<app_label>.<model>:<pk>"``, which never changes and never collides.
    - ``title_field``: default ``name``, then ``title``, else ``str(instance)``.
    - ``description_field``: default ``description`` if the model has one.
    - ``strip_html``: descriptions holding HTML (tags or entities) are pushed as plain text
      (default True; plain text is left as it is).
    - ``require_title``: a product whose title is blank is kept from Genlook (default True).
    - ``image_fields``: field or attribute names giving images: a file field, a URL string,
      a related object or related manager (each object's first ``ImageField``, else its
      first ``FileField``), a method, or an iterable of those; default every ``ImageField``
      of the model.
    - ``category_field`` / ``category``: the shop's category field (default ``category``),
      or one fixed category for the whole model; ``category_map`` maps the shop's values
      to ``GarmentCategory`` (common words such as "t-shirt" or "sunglasses" already map).
    - ``active_field``: a boolean that must be true (default ``is_active``, ``active``,
      then ``is_public``); ``False``: the model has no such flag, every product is active.
    - ``url_field``: the product's page in the shop, linked from a shared look (default
      the model's ``get_absolute_url``; none: the look is shared without a link).

    ``title_field``, ``description_field``, ``category_field``, ``active_field`` and each
    entry of ``image_fields`` are resolved by ``resolve()``: a field or attribute name, a
    dotted path (``"parent.title"``), a method name of the model or of the adapter, or a
    callable taking the instance.
    - ``valid_for_days``: how long Genlook keeps the product; ``None`` = forever.
    - ``metadata_fields``: more fields copied into the product's ``metadata``.
    - ``watch``: ``{related model or "app.Model": "path to the product"}``; a save or delete
      of that model re-syncs the product(s) the path leads to (a foreign key name, a related
      manager name, or a callable ``f(instance) -> product(s)``).
    - ``watch_m2m``: many-to-many field names of the product whose changes re-sync it.
    - ``queryset_select_related`` / ``queryset_prefetch_related``: for bulk sync.
    - ``catalog_image_field``: an image (or file) field of the product that the batch
      admin's "use as catalog image" fills with a try-on result; ``None``: not offered.

    Variants: ``variant_of(instance)`` names the product a variant (a size, a colour) is
    tried on as; the button, the storefront API, the funnel and the sync signals use that
    product instead (``get_tryon_product``). ``get_edit_url(pk)`` is where the synced
    products admin links to (default: the model's Django admin change page).
    """

    external_id_field: str | None = None
    title_field: FieldSpec | None = None
    description_field: FieldSpec | None = None
    strip_html: bool = True
    require_title: bool = True
    image_fields: Sequence[FieldSpec] | None = None
    category_field: FieldSpec | None = None
    category: str | None = None
    category_map: Mapping[str, str] = {}
    active_field: FieldSpec | bool | None = None
    valid_for_days: int | None = None
    metadata_fields: Sequence[str] = ()
    watch: Mapping[Any, Any] = {}
    watch_m2m: Sequence[str] = ()
    queryset_select_related: Sequence[str] = ()
    queryset_prefetch_related: Sequence[str] = ()
    catalog_image_field: str | None = None
    url_field: FieldSpec | None = None

    def __init__(self, model: type[models.Model]) -> None:
        self.model = model
        self.label = model._meta.label_lower
        opts = model._meta
        field_names = {f.name for f in opts.get_fields()}

        def first(*names: str) -> str | None:
            return next((n for n in names if n in field_names), None)

        self._title_field = self._spec("title_field") or first("name", "title")
        self._description_field = self._spec("description_field") or first("description")
        if self.image_fields is not None:
            self._image_fields = tuple(self.image_fields)
        else:
            self._image_fields = tuple(
                f.name for f in opts.concrete_fields if isinstance(f, models.ImageField)
            )
        for name in self._image_fields:
            if not isinstance(name, str):
                continue
            related = related_model(model, name)
            if related is not None and file_field_of(related) is None:
                raise ImproperlyConfigured(
                    f"{type(self).__name__}.image_fields: {self.label}.{name} leads to "
                    f"{related._meta.label}, which has no ImageField or FileField. Name a "
                    "relation to a model with one, or override get_images()."
                )
        self._category_field = self._spec("category_field") or first("category")
        active = self._spec("active_field")
        self.all_active = active is False  # said explicitly: the model has no such flag
        self._active_field = (
            None if active is False else active or first("is_active", "active", "is_public")
        )
        if self.valid_for_days is not None and not 1 <= self.valid_for_days <= 365:
            raise ImproperlyConfigured(
                f"{type(self).__name__}.valid_for_days must be 1-365 or None (forever)."
            )
        if self.external_id_field:
            try:
                opts.get_field(self.external_id_field)
            except FieldDoesNotExist:
                raise ImproperlyConfigured(
                    f"{type(self).__name__}.external_id_field: {self.label} has no field "
                    f"{self.external_id_field!r}."
                ) from None

    def __repr__(self) -> str:
        return f"<{type(self).__name__} for {self.label}>"

    def _spec(self, attribute: str) -> Any:
        """A ``*_field`` attribute as set: a function set on the class is not bound."""
        raw = inspect.getattr_static(self, attribute, None)
        if isinstance(raw, staticmethod | classmethod | property):
            return getattr(self, attribute)
        return raw

    def resolve(self, instance: models.Model, spec: FieldSpec) -> Any:
        """The value ``spec`` (an adapter's ``*_field``) gives for ``instance``.

        - a callable: called with the instance, ``spec(instance)``;
        - a name of the model (a field, a property, a method: called without arguments),
          or a dotted path through relations (``"parent.title"``, ``"brand.get_name"``);
        - else a method of the adapter, called with the instance (``"title_of"`` for
          ``def title_of(self, product)``).

        Anything else raises ``ImproperlyConfigured``: a misnamed field is an error, never
        a silently empty value.
        """
        if callable(spec):
            return spec(instance)
        first = spec.split(".", 1)[0]
        if "." in spec or hasattr(type(instance), first) or first in vars(instance):
            return attribute_path(instance, spec)
        method = getattr(self, spec, None)
        if callable(method):
            return method(instance)
        raise ImproperlyConfigured(
            f"{type(self).__name__}: {self.label} has no attribute {spec!r}, and the adapter "
            f"has no method {spec!r}. Name a field, a property, a method of the model or of "
            "the adapter, or give a callable taking the product."
        )

    @staticmethod
    def describe_spec(spec: Any) -> str:
        """A field spec as a merchant would recognise it (for skip messages and checks)."""
        if isinstance(spec, str):
            return spec
        return getattr(spec, "__name__", None) or repr(spec)

    # What is pushed -------------------------------------------------------------------

    def get_external_id(self, instance: models.Model) -> str:
        if self.external_id_field:
            value = getattr(instance, self.external_id_field)
            if value in (None, ""):
                raise ValueError(f"{self.label} {instance.pk}: {self.external_id_field} is empty.")
            return str(value)
        return f"{self.label}:{instance.pk}"

    def get_title(self, instance: models.Model) -> str:
        if self._title_field:
            return str(self.resolve(instance, self._title_field) or "")
        return str(instance)

    def get_url(self, instance: models.Model) -> str | None:
        """The product's page in the shop (``url_field``, else ``get_absolute_url``)."""
        spec = self._spec("url_field")
        if spec:
            return str(self.resolve(instance, spec) or "") or None
        get_absolute_url = getattr(instance, "get_absolute_url", None)
        return str(get_absolute_url()) if callable(get_absolute_url) else None

    def get_description(self, instance: models.Model) -> str:
        """The description; with ``strip_html``, HTML becomes plain text (``html_to_text``)."""
        if self._description_field:
            text = str(self.resolve(instance, self._description_field) or "")
            return html_to_text(text) if self.strip_html else text
        return ""

    def get_images(self, instance: models.Model) -> Iterable[FieldFile | str]:
        """The product's images, as file fields and URL strings.

        Each name in ``image_fields`` may give a file field, a URL string, a related
        object, a related manager (in its model's default ordering), a method, or an
        iterable of those; a related object stands for its first ``ImageField`` (else its
        first ``FileField``). Empty files and values are left out.
        """
        for name in self._image_fields:
            value = self.resolve(instance, name)
            if isinstance(value, models.Manager):
                value = value.all()
            if value is None or isinstance(value, FieldFile | str | models.Model):
                value = [value]
            for item in value:
                image = self._as_image(name, item)
                if image:
                    yield image

    def _as_image(self, name: str, item: Any) -> Any:
        """A related object becomes its image file; anything else is kept as it is."""
        if not isinstance(item, models.Model):
            return item
        field_name = file_field_of(type(item))
        if field_name is None:
            raise ImproperlyConfigured(
                f"{type(self).__name__}.image_fields: {name!r} gives {item._meta.label} "
                "objects, which have no ImageField or FileField: override get_images() to "
                "return their image files or URLs."
            )
        return getattr(item, field_name)

    def get_image_urls(self, instance: models.Model) -> list[str]:
        """Absolute, de-duplicated image URLs (relative ones get ``PUBLIC_BASE_URL``)."""
        urls: list[str] = []
        seen: set[str] = set()
        for image in self.get_images(instance):
            if isinstance(image, FieldFile):
                if not image.name:
                    continue
                url = image.url
            else:
                url = str(image)
            url = absolute_url(url)
            if stable_image_url(url) not in seen:  # the same image, signed twice, is one
                seen.add(stable_image_url(url))
                urls.append(url)
        return urls

    def get_category(self, instance: models.Model) -> str | None:
        """One of ``GarmentCategory`` or ``None``; kept in the product's metadata."""
        value = self.category
        if value is None and self._category_field:
            value = self.resolve(instance, self._category_field)
        return normalise_category(value, self.category_map)

    def get_metadata(self, instance: models.Model) -> dict[str, Any]:
        metadata: dict[str, Any] = {}
        category = self.get_category(instance)
        if category:
            metadata["category"] = category
        for name in self.metadata_fields:
            metadata[name] = jsonable(getattr(instance, name, None))
        return metadata

    def get_valid_for_days(self, instance: models.Model) -> int | None:
        return self.valid_for_days

    def should_sync(self, instance: models.Model) -> bool:
        """Whether Genlook should know this product. False removes it from Genlook.

        Default: ``get_skip()`` finds nothing: active (when the model has such a flag), with
        at least one image, and a title (with ``require_title``). An override that returns
        False for its own reasons is reported as ``should_sync`` by ``explain_skip()``.
        """
        return self.get_skip(instance) is None

    def get_skip(self, instance: models.Model) -> Skip | None:
        """Why the default rules keep ``instance`` from Genlook, or None when they do not."""
        if self._active_field is not None:
            active = self.resolve(instance, self._active_field)
            if not active:
                name = self.describe_spec(self._active_field)
                return Skip(SkipReason.INACTIVE, f"not active ({name} is {active!r})")
        has_image = any(
            (image.name if isinstance(image, FieldFile) else image)
            for image in self.get_images(instance)
        )
        if not has_image:
            if self._image_fields:
                where = ", ".join(self.describe_spec(spec) for spec in self._image_fields)
                message = f"no image ({where} gave none)"
            else:
                message = (
                    f"no image: {self.label} has no ImageField; set image_fields on "
                    f"{type(self).__name__} (e.g. a related manager such as 'images')"
                )
            return Skip(SkipReason.NO_IMAGE, message)
        if self.require_title and not present(self.get_title(instance)):
            return Skip(SkipReason.NO_TITLE, "the title is empty")
        return None

    def explain_skip(self, instance: models.Model) -> Skip:
        """Why ``should_sync(instance)`` returned False: ``get_skip()``'s reason, else
        ``should_sync`` (an override said no for reasons of its own)."""
        return self.get_skip(instance) or Skip(
            SkipReason.SHOULD_SYNC, f"{type(self).__name__}.should_sync() returned False"
        )

    def get_payload(self, instance: models.Model) -> ProductPayload:
        external_id = self.get_external_id(instance)
        if external_id.startswith(ANON_PREFIX):
            raise ValueError(f"External ids must not start with {ANON_PREFIX!r}: {external_id}")
        return ProductPayload(
            external_id=external_id,
            title=self.get_title(instance),
            description=self.get_description(instance),
            image_urls=tuple(self.get_image_urls(instance)),
            metadata=self.get_metadata(instance),
            valid_for_days=self.get_valid_for_days(instance),
        )

    # Variants and links -----------------------------------------------------------------

    def variant_of(self, instance: models.Model) -> models.Model | None:
        """The product ``instance`` is a variant of, and is tried on as; None: itself.

        Override for a model whose variants (sizes, colours) are rows of their own: the
        try-on button of a variant's page, a try-on started from it and its add-to-cart
        all count for that product, and a variant's save re-syncs it. Keep variants out of
        ``get_queryset()`` so they are not synced on their own.
        """
        return None

    def get_edit_url(self, pk: Any, admin_name: str = "admin") -> str | None:
        """Where the merchant edits the product (linked from the synced products admin):
        the model's change page on the admin site ``admin_name``, or None without one."""
        opts = self.model._meta
        try:
            return reverse(f"{admin_name}:{opts.app_label}_{opts.model_name}_change", args=[pk])
        except NoReverseMatch:
            return None

    # What is read ---------------------------------------------------------------------

    def get_queryset(self) -> QuerySet:
        """Every instance (inactive ones too: ``should_sync`` removes them from Genlook)."""
        queryset = self.model._default_manager.all()
        if self.queryset_select_related:
            queryset = queryset.select_related(*self.queryset_select_related)
        if self.queryset_prefetch_related:
            queryset = queryset.prefetch_related(*self.queryset_prefetch_related)
        return queryset
