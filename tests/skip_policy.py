"""In CI (GENLOOK_REQUIRE_SERVICES=1) a skipped test fails the run: nothing required may
quietly not run."""

import os

import pytest

# GENLOOK_REQUIRE_INTEGRATION=1 (CI): the real-service tests must have run and passed on
# each broker; deselecting them or not collecting them fails the run too.
INTEGRATION_TESTS = "tests/integration/test_real_services.py::"
INTEGRATION_BROKERS = ("redis", "rabbitmq")
_integration_passed: set[str] = set()


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when == "call" and report.passed and report.nodeid.startswith(INTEGRATION_TESTS):
        _integration_passed.add(report.nodeid)


def _check_integration(session: pytest.Session) -> None:
    if os.environ.get("GENLOOK_REQUIRE_INTEGRATION") != "1":
        return
    missing = [
        broker
        for broker in INTEGRATION_BROKERS
        if not any(nodeid.endswith(f"[{broker}]") for nodeid in _integration_passed)
    ]
    if missing and session.exitstatus == 0:
        session.exitstatus = 1
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter:
            reporter.write_line(
                f"No real-service integration test passed on {', '.join(missing)}: CI "
                "requires them (GENLOOK_REQUIRE_INTEGRATION=1).",
                red=True,
            )


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if not hasattr(session.config, "workerinput"):  # xdist workers: the controller decides
        _check_integration(session)
    if os.environ.get("GENLOOK_REQUIRE_SERVICES") != "1":
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = len(reporter.stats.get("skipped", [])) if reporter else 0
    if skipped and session.exitstatus == 0:
        session.exitstatus = 1
        if reporter:
            reporter.write_line(
                f"{skipped} test(s) skipped: CI requires every test to run.", red=True
            )
