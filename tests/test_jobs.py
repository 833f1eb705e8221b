"""``genlook_django.jobs``: one place decides whether a task is queued or run now, and
nothing goes through Celery's fallback app to a broker nobody configured."""

from __future__ import annotations

import logging

import pytest
from celery import Celery
from django.core.checks import run_checks

from genlook_django import jobs


@pytest.fixture
def project_app():
    """The project's Celery app (the example shop's, loaded by the test settings)."""
    app = jobs.celery_app()
    assert app is not None and app.main == "example_shop"
    eager = app.conf.task_always_eager
    yield app
    app.conf.task_always_eager = eager


def ids(settings, **genlook):
    settings.GENLOOK = {**settings.GENLOOK, **genlook}
    return {message.id for message in run_checks() if message.id.startswith("genlook.")}


def test_celerys_fallback_app_is_nobodys_configuration(monkeypatch):
    from celery import _state

    fallback = Celery("default", fixups=[], set_as_current=False)  # what current_app makes
    monkeypatch.setattr(_state, "default_app", fallback)
    monkeypatch.setattr(_state._tls, "current_app", None)
    monkeypatch.setattr(_state, "_get_active_apps", lambda: [fallback])
    assert jobs.celery_app() is None
    assert jobs.mode() == "inline"


def test_auto_follows_the_project_apps_eager_setting(project_app, settings):
    project_app.conf.task_always_eager = True
    assert jobs.mode() == "inline" and jobs.runs_inline()
    project_app.conf.task_always_eager = False
    assert jobs.mode() == "celery"
    settings.GENLOOK = {**settings.GENLOOK, "TASKS": "inline"}
    assert jobs.mode() == "inline"


def test_queued_tasks_are_sent_by_name_to_the_project_app(project_app, monkeypatch):
    sent = []
    monkeypatch.setattr(project_app, "send_task", lambda name, **kw: sent.append((name, kw)))
    project_app.conf.task_always_eager = False
    jobs.enqueue("genlook.poll_try_on", 7, countdown=2.0)
    jobs.enqueue("genlook.process_webhook", 8, retries=1)
    assert sent == [
        ("genlook.poll_try_on", {"args": (7,), "countdown": 2.0}),
        ("genlook.process_webhook", {"args": (8,), "retries": 1}),
    ]


@pytest.mark.django_db
def test_inline_tasks_run_now(settings):
    settings.GENLOOK = {**settings.GENLOOK, "TASKS": "inline"}
    assert jobs.enqueue("genlook.delete_product", 123456) == "missing"  # no such row


def test_celery_asked_for_without_an_app_runs_inline_and_says_so(settings, monkeypatch, caplog):
    monkeypatch.setattr(jobs, "celery_app", lambda: None)
    settings.GENLOOK = {**settings.GENLOOK, "TASKS": "celery"}
    with caplog.at_level(logging.ERROR, logger="genlook_django.jobs"):
        assert jobs.mode() == "inline"
    assert "no Celery app" in caplog.text


@pytest.mark.django_db
def test_an_inline_failure_is_logged_not_lost_in_a_queue(settings, monkeypatch, caplog):
    monkeypatch.setattr(jobs, "celery_app", lambda: None)  # the private inline app runs it
    from genlook_django.services import catalog

    def broken(*args, **kwargs):
        raise RuntimeError("adapter bug")

    # A bug in the task itself (push records the client's failures, never raises them).
    monkeypatch.setattr(catalog, "delete_remote", broken)
    from genlook_django.models import SyncedProduct

    row = SyncedProduct.objects.create(
        content_type_id=1, object_id="1", external_id="p-1", status="synced"
    )
    with caplog.at_level(logging.ERROR, logger="genlook_django.jobs"):
        jobs.enqueue("genlook.delete_product", row.pk)
    assert "genlook.delete_product" in caplog.text and "adapter bug" in caplog.text


def test_checks_refuse_an_unknown_mode(settings):
    assert "genlook.E030" in ids(settings, TASKS="eager")
    assert "genlook.E030" not in ids(settings, TASKS="inline")


def test_checks_refuse_celery_without_an_app(settings, monkeypatch):
    assert "genlook.E031" not in ids(settings, TASKS="celery")  # the example shop's app
    monkeypatch.setattr(jobs, "celery_app", lambda: None)
    assert "genlook.E031" in ids(settings, TASKS="celery")
    assert "genlook.E031" not in ids(settings, TASKS="inline")


def test_checks_warn_when_a_broker_is_set_but_no_app_is_loaded(settings, monkeypatch):
    monkeypatch.setattr(jobs, "celery_app", lambda: None)
    assert "genlook.W030" not in ids(settings)
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:6379/0"
    assert "genlook.W030" in ids(settings)
    assert "genlook.W030" not in ids(settings, TASKS="inline")  # said to be intended
