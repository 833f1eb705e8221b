"""One-row INSERTs without the ORM's save machinery, for the webhook receiver's hot path.

``Model.objects.create`` spends more time compiling its statement than SQLite spends
running it. ``insert`` builds the instance as usual (defaults included), sends one cached
statement with the fields' own database preparation, and returns the saved instance. It
sends no ``pre_save``/``post_save`` signals: only for models of this app that promise none.
"""

from __future__ import annotations

from functools import cache
from typing import Any, TypeVar

from django.db import connections, models, router

M = TypeVar("M", bound=models.Model)


@cache
def _statement(model: type[models.Model], alias: str) -> tuple[str, tuple[models.Field, ...], bool]:
    connection = connections[alias]
    quote = connection.ops.quote_name
    fields = tuple(field for field in model._meta.concrete_fields if not field.primary_key)
    returning = bool(connection.features.can_return_columns_from_insert)
    sql = "INSERT INTO {} ({}) VALUES ({})".format(  # noqa: S608 (names from the model)
        quote(model._meta.db_table),
        ", ".join(quote(field.column) for field in fields),
        ", ".join(["%s"] * len(fields)),
    )
    if returning:
        sql += f" RETURNING {quote(model._meta.pk.column)}"
    return sql, fields, returning


def insert(model: type[M], **values: Any) -> M:
    """Save a new ``model(**values)`` with one INSERT; database errors are Django's own
    (``IntegrityError`` for a unique constraint)."""
    instance = model(**values)
    alias = router.db_for_write(model)
    connection = connections[alias]
    sql, fields, returning = _statement(model, alias)
    params = [
        field.get_db_prep_save(getattr(instance, field.attname), connection) for field in fields
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        if returning:
            pk = cursor.fetchone()[0]
        else:
            pk = connection.ops.last_insert_id(cursor, model._meta.db_table, model._meta.pk.column)
    instance.pk = pk
    instance._state.adding = False
    instance._state.db = alias
    return instance
