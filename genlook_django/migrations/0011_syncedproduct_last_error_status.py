"""``SyncedProduct.last_error_status``: the HTTP status of the last failed call, stored.

Existing failures get it from the "[503 CODE] message" prefix that ``GenlookError`` put at
the start of ``last_error`` (this one-off migration is the only place that reads it).
"""

import re

from django.db import migrations, models

# GenlookError's str(): "[503 SERVICE_UNAVAILABLE] message", or "[503] message" without code.
STATUS_PREFIX = re.compile(r"^\[(\d{3})(?: (\S+))?\]")
# What the sync stored as last_error_code for an API error that had no code of its own.
API_ERROR_CLASSES = frozenset(
    {
        "GenlookAPIError",
        "AuthenticationError",
        "PermissionDeniedError",
        "ValidationError",
        "NotFoundError",
        "ProductNotFoundError",
        "GenerationNotFoundError",
        "InsufficientCreditsError",
        "RateLimitedError",
        "ServerError",
    }
)


def status_of(last_error, last_error_code):
    """The status in an API error's message; None for any other message (an adapter's
    error may start with "[503]" too: its stored code is then not the prefix's)."""
    match = STATUS_PREFIX.match(last_error or "")
    if match is None:
        return None
    code = match[2]
    if code == last_error_code or (code is None and last_error_code in API_ERROR_CLASSES):
        return int(match[1])
    return None


def backfill(apps, schema_editor):
    SyncedProduct = apps.get_model("genlook", "SyncedProduct")
    rows = SyncedProduct.objects.filter(last_error__startswith="[").only(
        "pk", "last_error", "last_error_code"
    )
    for row in rows.iterator():
        status = status_of(row.last_error, row.last_error_code)
        if status is not None:
            SyncedProduct.objects.filter(pk=row.pk).update(last_error_status=status)


class Migration(migrations.Migration):
    dependencies = [
        ("genlook", "0010_admin_list_indexes"),
    ]

    operations = [
        migrations.AddField(
            model_name="syncedproduct",
            name="last_error_status",
            field=models.PositiveSmallIntegerField(
                blank=True, null=True, verbose_name="last error HTTP status"
            ),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop, elidable=True),
    ]
