"""The one place that hands work to the task queue, or runs it now.

``GENLOOK["TASKS"]`` decides:

- ``"inline"``: every task runs in this process, at once, with no broker and no worker
  (Celery's eager ``apply``; a task that fails is logged, never lost in a queue).
- ``"celery"``: tasks are published, by name, to the project's own Celery app.
- ``"auto"`` (the default): ``"celery"`` when the project has a Celery app that does not run
  tasks eagerly (``task_always_eager``), ``"inline"`` otherwise.

Nothing is ever published to a broker nobody configured: Celery's fallback app (the one
``shared_task`` falls back to when a project has none, pointing at ``amqp://localhost``) is
never used to send. With ``"celery"`` and no Celery app, ``manage.py check`` fails
(genlook.E031) and, at run time, the work runs inline with an error in the log.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from typing import Any, Literal

from django.db import transaction

from .conf import genlook_settings

logger = logging.getLogger("genlook_django.jobs")

MODES = ("auto", "celery", "inline")
Mode = Literal["celery", "inline"]

_inline_app: Any = None


def celery_app() -> Any | None:
    """The project's Celery app, or None when the project has none.

    Celery's own fallback app (created for whoever asks for ``current_app`` while no app
    exists) and this module's inline app are nobody's configuration, so they do not count.
    The process-wide default is preferred, then this thread's current app, then any other.
    """
    from celery import _state

    candidates = [_state.default_app, _state._tls.current_app, *_state._get_active_apps()]
    for app in candidates:
        if app is not None and app is not _inline_app and app.set_as_current:
            return app
    return None


def mode() -> Mode:
    """Where tasks run now: ``"celery"`` (published to the project's app) or ``"inline"``."""
    return _target()[0]


def _target() -> tuple[Mode, Any | None]:
    """The mode, and the project's Celery app (None without one), found once per call."""
    setting = genlook_settings.TASKS
    if setting not in MODES:
        raise ValueError(f"GENLOOK['TASKS'] must be one of {', '.join(MODES)}, not {setting!r}")
    app = celery_app()
    if setting == "inline":
        return "inline", app
    if app is None:
        if setting == "celery":
            logger.error(
                "GENLOOK['TASKS'] is 'celery' but the project has no Celery app: running the "
                "task inline instead of publishing it to a broker nobody configured "
                "(manage.py check: genlook.E031)."
            )
        return "inline", None
    return ("inline" if app.conf.task_always_eager else "celery"), app


def runs_inline() -> bool:
    """Whether tasks run inside the request that asks for them (no worker would run them)."""
    return mode() == "inline"


def enqueue(
    name: str, *args: Any, countdown: float | None = None, retries: int | None = None
) -> Any:
    """Run the task ``name`` with ``args`` now (inline: its return value is returned), or
    publish it to the project's Celery app (None is returned). A broker error propagates:
    the caller decides what a refused job means.

    Inline, ``countdown`` is ignored (nothing can wait here: the tasks know it and do not
    schedule follow-ups when run eagerly) and a failure is logged with its traceback.
    """
    where, app = _target()
    if where == "celery":
        options: dict[str, Any] = {}
        if countdown is not None:
            options["countdown"] = countdown
        if retries is not None:
            options["retries"] = retries
        app.send_task(name, args=args, **options)
        return None
    return _run_inline(app, name, args, retries)


def enqueue_on_commit(name: str, *args: Any, using: str | None = None) -> None:
    """``enqueue`` once the current transaction commits (at once without one); a rollback
    enqueues nothing, and a broker that is down is logged without failing the request."""
    transaction.on_commit(lambda: enqueue(name, *args), using=using, robust=True)


def on_commit(callback: Callable[[], None], using: str | None = None) -> None:
    """Run ``callback`` (which enqueues) once the transaction commits, robustly."""
    transaction.on_commit(callback, using=using, robust=True)


def _run_inline(app: Any | None, name: str, args: tuple[Any, ...], retries: int | None) -> Any:
    importlib.import_module("genlook_django.tasks")  # registers the shared tasks
    task = (app or _get_inline_app()).tasks[name]
    options: dict[str, Any] = {}
    if retries is not None:
        options["retries"] = retries
    # ``throw`` follows the app: a project's eager app may ask failures to propagate
    # (task_eager_propagates); otherwise they are logged here.
    result = task.apply(args=args, **options)
    if result.failed():
        logger.error("Genlook task %s%r failed inline:\n%s", name, args, result.traceback)
        return None
    return result.result


def _get_inline_app() -> Any:
    """A private Celery app that only ever runs tasks eagerly: it has no broker to send to."""
    global _inline_app
    if _inline_app is None:
        from celery import Celery

        app = Celery("genlook_inline", set_as_current=False, fixups=[])
        app.conf.task_always_eager = True
        app.conf.broker_url = "memory://"  # belt and braces: never a real broker
        _inline_app = app
    return _inline_app
