"""``ProductAdapter``: how one of the shop's models maps to a Genlook product.

A simple model needs a few lines (often none): the defaults find a ``name``/``title``, a
``description``, every ``ImageField``, a ``category`` and an ``is_active`` flag by
themselves. Override an attribute, or a ``get_*`` method for anything computed.
"""

from __future__ import annotations

import hashlib
import html
import inspect
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from django.core.exceptions import FieldDoesNotExist, ImproperlyConfigured, ObjectDoesNotExist
from django.db import models
from django.db.models.fields.files import FieldFile
from django.utils.html import strip_tags

from .conf import genlook_settings

if TYPE_CHECKING:
    from django.db.models import QuerySet

ANON_PREFIX = "_anon_"
# A field spec: a field or attribute name, a dotted path, a method name of the model or of
# the adapter, or a callable taking the instance (see ``ProductAdapter.resolve``).
FieldSpec = str | Callable[[models.Model], Any]
PAYLOAD_VERSION = 1  # bump when the payload's shape changes: every product is pushed again


class GarmentCategory(models.TextChoices):
    """The garment types Genlook knows (the AI also infers it from title and images)."""

    TOPS = "tops", "Tops"
    BOTTOMS = "bottoms", "Bottoms"
    DRESSES = "dresses", "Dresses"
    OUTERWEAR = "outerwear", "Outerwear"
    EYEWEAR = "eyewear", "Eyewear"
    CAPS = "caps", "Caps and hats"


_SYNONYMS: dict[str, list[str]] = {
    GarmentCategory.TOPS: [
        "top",
        "shirt",
        "t-shirt",
        "tshirt",
        "tee",
        "blouse",
        "sweater",
        "jumper",
        "pullover",
        "hoodie",
        "sweatshirt",
        "polo",
        "knitwear",
        "cardigan",
        "tank",
        "vest-top",
        "camisole",
    ],
    GarmentCategory.BOTTOMS: [
        "bottom",
        "trouser",
        "pant",
        "jean",
        "short",
        "skirt",
        "legging",
        "chino",
        "jogger",
    ],
    GarmentCategory.DRESSES: ["dress", "gown", "frock"],
    GarmentCategory.OUTERWEAR: [
        "outerwear",
        "jacket",
        "coat",
        "parka",
        "blazer",
        "anorak",
        "raincoat",
        "gilet",
    ],
    GarmentCategory.EYEWEAR: ["eyewear", "glass", "sunglass", "spectacle", "goggle"],
    GarmentCategory.CAPS: ["cap", "hat", "beanie", "headwear", "beret"],
}
DEFAULT_CATEGORY_MAP: dict[str, str] = {
    word: str(category) for category, words in _SYNONYMS.items() for word in words
}


def normalise_category(value: Any, extra: Mapping[str, str] | None = None) -> str | None:
    """A shop's category value ("T-Shirts", "Sunglasses", "hats") to a Genlook category.

    Case, ``_``/``-``/space and plural endings do not matter; ``extra`` (an adapter's
    ``category_map``) is tried first, then the ``GarmentCategory`` values, then the built-in
    words (``DEFAULT_CATEGORY_MAP``). ``None`` when nothing matches.

    >>> normalise_category("T-Shirts")
    'tops'
    >>> normalise_category("Accessories", {"accessories": "eyewear"})
    'eyewear'
    >>> normalise_category("Socks") is None
    True
    """
    if value is None:
        return None
    text = str(value).strip().lower().replace("_", "-")
    if not text:
        return None
    candidates = [text, text.replace(" ", "-"), text.replace("-", "")]
    candidates += [c[:-1] for c in candidates if c.endswith("s")]
    candidates += [c[:-2] for c in candidates if c.endswith("es")]
    for mapping in (
        {k.lower(): v for k, v in (extra or {}).items()},
        {c.value: c.value for c in GarmentCategory},
        DEFAULT_CATEGORY_MAP,
    ):
        for candidate in candidates:
            if candidate in mapping:
                return mapping[candidate]
    return None


class ImageURLNotPublic(ImproperlyConfigured):
    """An image URL Genlook could not fetch: relative, with no ``PUBLIC_BASE_URL`` to prefix.

    A set-up error, not a property of the product: the sync records it as a failure (it
    does not withdraw products from Genlook), with the skip reason ``image_not_public``.
    """

    reason = "image_not_public"


def absolute_url(url: str, base_url: str | None = None) -> str:
    """``url`` made absolute with ``PUBLIC_BASE_URL`` (storages such as S3 already are)."""
    if urlsplit(url).scheme in ("http", "https"):
        return url
    if url.startswith("//"):
        return "https:" + url
    base = base_url if base_url is not None else genlook_settings.PUBLIC_BASE_URL
    if not base:
        raise ImageURLNotPublic(
            f"The image URL {url!r} is relative, and Genlook must fetch it from the internet: "
            'set GENLOOK = {"PUBLIC_BASE_URL": "https://your-shop.example"}.'
        )
    return urljoin(base.rstrip("/") + "/", url.lstrip("/"))


# Query parameters that sign a URL or make it expire, as storages add them to each ``url()``
# (S3 SigV2/SigV4, CloudFront, Google Cloud Storage, Alibaba OSS; Azure SAS when ``sig`` is
# there). They change on every read, so the content hash leaves them out.
_SIGNING_PREFIXES = ("x-amz-", "x-goog-", "x-oss-")
_SIGNING_PARAMS = frozenset(
    {"awsaccesskeyid", "googleaccessid", "ossaccesskeyid"}  # who signed
    | {"signature", "expires", "policy", "key-pair-id"}  # S3 SigV2, GCS V2, CloudFront
)
_AZURE_SAS_PARAMS = frozenset(
    {"sig", "sv", "ss", "srt", "sp", "se", "st", "spr", "sr", "si", "sdd", "ses"}
    | {"skoid", "sktid", "skt", "ske", "sks", "skv", "saoid", "suoid", "scid"}
)


def stable_image_url(url: str) -> str:
    """``url`` without the query parameters that sign it (what identifies the image).

    A storage with query-string authentication (S3's default ``querystring_auth``, GCS or
    Azure signed URLs) signs the URL anew on each ``url()`` call; hashing the signed form
    would make every product look changed on every sync.
    """
    parts = urlsplit(url)
    if not parts.query:
        return url
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    azure = any(name.lower() == "sig" for name, _ in pairs)

    def signing(name: str) -> bool:
        name = name.lower()
        return (
            name.startswith(_SIGNING_PREFIXES)
            or name in _SIGNING_PARAMS
            or (azure and name in _AZURE_SAS_PARAMS)
        )

    kept = [(name, value) for name, value in pairs if not signing(name)]
    if len(kept) == len(pairs):
        return url
    return urlunsplit(parts._replace(query=urlencode(kept)))


def _file_field_of(model: type[models.Model]) -> str | None:
    """The image a related object stands for: its first ImageField, else its first FileField."""
    files = [f for f in model._meta.concrete_fields if isinstance(f, models.FileField)]
    images = [f for f in files if isinstance(f, models.ImageField)]
    chosen = (images or files or [None])[0]
    return chosen.name if chosen is not None else None


def _related_model(model: type[models.Model], name: str) -> type[models.Model] | None:
    """The model a relation of ``model`` called ``name`` leads to (None: not a relation)."""
    try:
        field = model._meta.get_field(name)
    except FieldDoesNotExist:
        for relation in model._meta.related_objects:  # "photo_set": the accessor's name
            if relation.get_accessor_name() == name:
                return relation.related_model
        return None
    return field.related_model if field.is_relation else None


class SkipReason(models.TextChoices):
    """Why a product is not at Genlook: a machine-readable code and its human label."""

    INACTIVE = "inactive", "not active"
    NO_IMAGE = "no_image", "no image"
    NO_TITLE = "no_title", "no title"
    SHOULD_SYNC = "should_sync", "should_sync() returned False"
    IMAGE_NOT_PUBLIC = "image_not_public", "image URL not absolute/public"


@dataclass(frozen=True)
class Skip:
    """Why one product is kept from Genlook: ``reason`` (a ``SkipReason`` value) and a
    sentence for the merchant (``message``)."""

    reason: str
    message: str

    def __str__(self) -> str:
        return f"{self.reason}: {self.message}"


_HTML_TAG = re.compile(r"</?[a-zA-Z][^<>]*>|<!--.*?-->", re.DOTALL)
_HTML_ENTITY = re.compile(r"&(?:[a-zA-Z][a-zA-Z0-9]*|#[0-9]+|#[xX][0-9a-fA-F]+);")
_HTML_BREAK = re.compile(
    r"<\s*br\s*/?\s*>|</\s*(?:p|div|li|ul|ol|h[1-6]|tr|table|blockquote|section|article)\s*>",
    re.IGNORECASE,
)


def html_to_text(text: str) -> str:
    """Plain text from an HTML fragment (a rich text editor's description).

    Tags are removed (a ``<br>`` or the end of a paragraph, list item, heading... becomes a
    line break), entities unescaped (``&amp;`` -> ``&``), runs of spaces collapsed, blank
    lines kept single. Text with neither a tag nor an entity is returned unchanged.
    """
    if not (_HTML_TAG.search(text) or _HTML_ENTITY.search(text)):
        return text
    text = _HTML_BREAK.sub("\n", text)
    text = html.unescape(strip_tags(text)).replace("\xa0", " ")
    lines = [" ".join(line.split()) for line in text.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _attribute_path(obj: Any, path: str) -> Any:
    """``obj.a.b``, calling each callable met on the way (a method such as ``get_title``)."""
    value = obj
    for part in path.split("."):
        if value is None:
            return None
        try:
            value = getattr(value, part)
        except ObjectDoesNotExist:  # a reverse one-to-one with no row: nothing there
            return None
        if callable(value) and not isinstance(
            value, models.Manager | FieldFile | models.Model | type
        ):
            value = value()
    return value


def present(text: str | None) -> str | None:
    """``text``, or None when it is blank: Genlook refuses empty strings, so a blank title
    or description is left out of the request rather than sent as ``""``."""
    return text if text and text.strip() else None


@dataclass(frozen=True)
class ProductPayload:
    """Exactly what ``POST /products`` receives for one product."""

    external_id: str
    title: str
    description: str
    image_urls: tuple[str, ...]
    metadata: dict[str, Any] = field(default_factory=dict)
    valid_for_days: int | None = None

    def as_body(self) -> dict[str, Any]:
        """The request body (``None``: left out of the request)."""
        return {
            "externalId": self.external_id,
            "title": present(self.title),
            "description": present(self.description),
            "images": [{"source": {"url": url}} for url in self.image_urls],
            "metadata": self.metadata,
            "validForDays": self.valid_for_days,
        }

    @property
    def content_hash(self) -> str:
        """SHA-256 over every pushed field (and the payload version), order-independent.

        Image URLs count without their signature (``stable_image_url``): a storage that
        signs each URL anew does not make an unchanged product look changed.
        """
        body = self.as_body()
        body["images"] = [{"source": {"url": stable_image_url(url)}} for url in self.image_urls]
        body["_v"] = PAYLOAD_VERSION
        data = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return hashlib.sha256(data.encode()).hexdigest()


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_jsonable(v) for v in value]
    if isinstance(value, FieldFile):
        return value.name or None
    if isinstance(value, models.Model):
        return str(value.pk)
    return str(value)


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
            related = _related_model(model, name)
            if related is not None and _file_field_of(related) is None:
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
            return _attribute_path(instance, spec)
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
        field_name = _file_field_of(type(item))
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
            metadata[name] = _jsonable(getattr(instance, name, None))
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

    # What is read ---------------------------------------------------------------------

    def get_queryset(self) -> QuerySet:
        """Every instance (inactive ones too: ``should_sync`` removes them from Genlook)."""
        queryset = self.model._default_manager.all()
        if self.queryset_select_related:
            queryset = queryset.select_related(*self.queryset_select_related)
        if self.queryset_prefetch_related:
            queryset = queryset.prefetch_related(*self.queryset_prefetch_related)
        return queryset
