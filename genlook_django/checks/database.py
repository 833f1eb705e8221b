"""The database the try-ons are written to: SQLite's deferred transactions."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Tags, Warning, register


def _in_memory(name: object) -> bool:
    name = str(name or "")
    return name in ("", ":memory:") or "mode=memory" in name or name.startswith("file::memory:")


@register(Tags.database)
def check_database(app_configs=None, databases=None, **kwargs):
    """A file SQLite database whose transactions begin deferred: a transaction that reads
    before it writes (storing a result, charging a generation) cannot wait for a writer
    that got there first, so SQLite refuses it at once with "database is locked" however
    long its timeout. ``IMMEDIATE`` transactions take the lock when they begin, and wait.

    Read from the settings alone (no connection), so ``runserver`` shows it too: every
    alias, or those ``check --database`` and ``migrate`` name."""
    messages = []
    for alias in databases or settings.DATABASES:
        config = settings.DATABASES.get(alias, {})
        if not str(config.get("ENGINE", "")).endswith("sqlite3") or _in_memory(config.get("NAME")):
            continue
        mode = str((config.get("OPTIONS") or {}).get("transaction_mode") or "DEFERRED")
        if mode.upper() == "DEFERRED":
            messages.append(
                Warning(
                    f"The database {alias!r} is SQLite with deferred transactions: when two "
                    "shoppers' try-ons are stored at the same moment, one of them can fail "
                    'with "database is locked".',
                    hint=f'Add "OPTIONS": {{"transaction_mode": "IMMEDIATE"}} to '
                    f"DATABASES[{alias!r}], or run the shop on PostgreSQL.",
                    id="genlook.W090",
                )
            )
    return messages
