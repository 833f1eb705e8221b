"""A project with no Celery app (settings only, like a stock django-oscar shop) syncs its
products and completes try-ons with nothing sent to any broker (``genlook_django.jobs``)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def day_without_celery(tmp_path_factory) -> dict:
    """``tests/nocelery/scenario.py`` in a process of its own: the suite's own settings load
    the example shop's Celery app, which that project must not have."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.nocelery.settings",
        "GENLOOK_NOCELERY_DIR": str(tmp_path_factory.mktemp("nocelery")),
    }
    done = subprocess.run(
        [sys.executable, "-m", "tests.nocelery.scenario"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_tasks_run_inline_when_the_project_has_no_celery_app(day_without_celery):
    assert day_without_celery["celery_apps"] == []
    assert day_without_celery["mode"] == "inline"


def test_a_saved_product_reaches_genlook(day_without_celery):
    assert day_without_celery["synced_status"] == "synced"
    assert day_without_celery["at_genlook"] == "Linen Shirt"


def test_a_try_on_completes_with_its_result_stored(day_without_celery):
    assert day_without_celery["start_status"] == 202
    assert day_without_celery["try_on_status"] == "completed"
    assert day_without_celery["result_stored"]


def test_nothing_is_published_to_any_broker(day_without_celery):
    assert day_without_celery["broker_uses"] == []


def test_asking_for_celery_without_an_app_is_a_check_error(day_without_celery):
    assert "genlook.E031" not in day_without_celery["checks"]
    assert "genlook.E031" in day_without_celery["checks_when_celery_asked"]
