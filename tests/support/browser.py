"""A real Chromium through Playwright (Debian's chromium, never ``playwright install``).
Fixture: ``browser`` (a pytest plugin, see ``tests/support/__init__.py``).

Skipped without Playwright or Chromium; with GENLOOK_REQUIRE_SERVICES=1 (CI) a missing
browser fails the test instead. Screenshots go to ``OUTPUT`` (test-output/).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.services import services_required

CHROMIUM = os.environ.get("GENLOOK_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
OUTPUT = Path(__file__).resolve().parents[2] / "test-output"


def require_browser() -> None:
    problem = None
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        problem = "Playwright is not installed (pip install -e '.[dev]')"
    if problem is None and not os.access(CHROMIUM, os.X_OK):
        problem = f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)"
    if problem:
        if services_required():
            pytest.fail(f"{problem}; GENLOOK_REQUIRE_SERVICES=1 requires it")
        pytest.skip(problem)


@pytest.fixture
def browser(monkeypatch):
    require_browser()
    from playwright.sync_api import sync_playwright  # optional: only once it is known present

    # Playwright's sync API keeps an event loop in this thread; the ORM calls the test makes
    # meanwhile are plain synchronous ones.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def try_on_photo(page, dialog, photo: Path):
    """In the widget's open ``dialog``: choose ``photo``, give consent, submit; the result
    image, once shown and loaded."""
    page.set_input_files("[data-genlook-file]", str(photo))
    dialog.get_by_role("img", name="Your photo").first.wait_for()
    dialog.get_by_role("checkbox").check()
    dialog.locator("[data-genlook-submit]").click()
    result = dialog.locator("[data-genlook-result]")
    result.wait_for(state="visible", timeout=20_000)
    assert result.evaluate("img => img.complete && img.naturalWidth > 0")
    return result
