"""How an adapter reads a product: attribute paths, related images, JSON-able values."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from django.core.exceptions import FieldDoesNotExist, ObjectDoesNotExist
from django.db import models
from django.db.models.fields.files import FieldFile

# A field spec: a field or attribute name, a dotted path, a method name of the model or of
# the adapter, or a callable taking the instance (see ``ProductAdapter.resolve``).
FieldSpec = str | Callable[[models.Model], Any]


def file_field_of(model: type[models.Model]) -> str | None:
    """The image a related object stands for: its first ImageField, else its first FileField."""
    files = [f for f in model._meta.concrete_fields if isinstance(f, models.FileField)]
    images = [f for f in files if isinstance(f, models.ImageField)]
    chosen = (images or files or [None])[0]
    return chosen.name if chosen is not None else None


def related_model(model: type[models.Model], name: str) -> type[models.Model] | None:
    """The model a relation of ``model`` called ``name`` leads to (None: not a relation)."""
    try:
        field = model._meta.get_field(name)
    except FieldDoesNotExist:
        for relation in model._meta.related_objects:  # "photo_set": the accessor's name
            if relation.get_accessor_name() == name:
                return relation.related_model
        return None
    return field.related_model if field.is_relation else None


def attribute_path(obj: Any, path: str) -> Any:
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


def jsonable(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    if isinstance(value, FieldFile):
        return value.name or None
    if isinstance(value, models.Model):
        return str(value.pk)
    return str(value)
