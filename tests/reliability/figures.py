"""Figures of the reliability tests (R1-R5, docs/reliability.md).

Each test runs at two sizes: scaled down (the default, what ``make test`` and CI run) and
full (``GENLOOK_RELIABILITY=full``, what ``make reliability`` runs). Either way it prints
its figures and writes them to ``test-output/reliability/<name>.json``, so a full run's
figures can be copied into the docs as they were measured.
"""

from __future__ import annotations

import json
import os
import platform
import sys
import time
from pathlib import Path

OUTPUT = Path(__file__).resolve().parents[2] / "test-output" / "reliability"


def full_run() -> bool:
    return os.environ.get("GENLOOK_RELIABILITY") == "full"


def scaled(full: int, ci: int) -> int:
    """``full`` in a full run (``make reliability``), ``ci`` otherwise."""
    return full if full_run() else ci


class Figures:
    """What a reliability test measured: printed as a table and saved as JSON."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.values: dict[str, object] = {}

    def __setitem__(self, key: str, value: object) -> None:
        self.values[key] = value

    def __getitem__(self, key: str) -> object:
        return self.values[key]

    def update(self, **values: object) -> None:
        self.values.update(values)

    def report(self) -> str:
        width = max((len(key) for key in self.values), default=0)
        mode = "full" if full_run() else "scaled down"
        lines = [f"== {self.name} ({mode})"]
        lines += [f"   {key:<{width}}  {value}" for key, value in self.values.items()]
        return "\n".join(lines)

    def save(self) -> None:
        OUTPUT.mkdir(parents=True, exist_ok=True)
        record = {
            "name": self.name,
            "mode": "full" if full_run() else "scaled",
            "python": sys.version.split()[0],
            "platform": platform.platform(),
            "figures": self.values,
        }
        (OUTPUT / f"{self.name}.json").write_text(json.dumps(record, indent=2, default=str))


_STARTED = time.time() - 1  # mtimes may be coarser than time()


def print_summary(terminalreporter) -> None:
    """The figures saved since this session started (called by tests/conftest.py, which
    the xdist controller loads, unlike this folder's conftest)."""
    fresh = (
        sorted(path for path in OUTPUT.glob("*.json") if path.stat().st_mtime >= _STARTED)
        if OUTPUT.is_dir()
        else []
    )
    if not fresh:
        return
    terminalreporter.section("reliability figures")
    for path in fresh:
        record = json.loads(path.read_text())
        figures = Figures(record["name"])
        figures.update(**record["figures"])
        terminalreporter.write_line(figures.report())
