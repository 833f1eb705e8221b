"""R5's leak scan: a distinctive key searched, whole or in part, in any output (pages,
answers, log records as any handler could write them, admin e-mails, stored rows)."""

from __future__ import annotations

import base64
import contextlib
import logging
import traceback
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.http import HttpResponse
from django.views.debug import ExceptionReporter

from .figures import full_run
from .inputs.strangers import body_of


def needles(key: str) -> list[str]:
    """The key, and any 12 characters of its secret part (so a truncated or partly masked
    key is found too), lower case; its base64 as well."""
    secret = key.rsplit("_", 1)[1]
    windows = {secret[i : i + 12] for i in range(0, len(secret) - 11, 4)}
    return [key.lower(), *sorted(windows), base64.b64encode(key.encode()).decode().lower()]


@dataclass(repr=False)  # its repr would show the keys in the tracebacks it scans
class LeakScan:
    keys: list[str]
    scanned: Counter = field(default_factory=Counter)
    leaks: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._needles = [n for key in self.keys for n in needles(key)]

    def check(self, kind: str, where: str, content: Any) -> None:
        if isinstance(content, bytes | bytearray):
            text = bytes(content).decode("latin-1")
        else:
            text = str(content)
        self.scanned[kind] += 1
        low = text.lower()
        for needle in self._needles:
            at = low.find(needle)
            if at >= 0:
                excerpt = text[max(0, at - 100) : at + 60].replace("\n", "\\n")
                self.leaks.append(f"{kind} [{where}]: …{excerpt}…")
                return

    def response(self, kind: str, where: str, response: HttpResponse) -> HttpResponse:
        """Its headers, cookies and body."""
        headers = "\n".join(f"{k}: {v}" for k, v in response.items())
        head = (headers + "\n" + response.cookies.output() + "\n\n").encode()
        self.check(kind, f"{where} -> {response.status_code}", head + body_of(response))
        return response


@contextlib.contextmanager
def every_log_record() -> Iterator[list[logging.LogRecord]]:
    """Every record of every logger, at DEBUG (``requests`` and ``urllib3`` included),
    whatever the levels and handlers configured."""
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    handler = Keep(logging.DEBUG)
    root = logging.getLogger()
    loggers = [root] + [
        lg for lg in logging.root.manager.loggerDict.values() if isinstance(lg, logging.Logger)
    ]
    saved = [(lg, lg.level, lg.disabled) for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.DEBUG)
        lg.disabled = False
        if not lg.propagate:
            lg.addHandler(handler)
    root.addHandler(handler)
    try:
        yield records
    finally:
        for lg, level, disabled in saved:
            lg.setLevel(level)
            lg.disabled = disabled
            lg.removeHandler(handler)


PLAIN = logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s")


def scan_log_record(scan: LeakScan, record: logging.LogRecord, reported: set) -> None:
    """The record as any handler could write it: the line and its traceback, its fields,
    the traceback with every frame's locals, and what AdminEmailHandler mails (text, and
    the HTML of include_html, with the locals too: once per kind of error when scaled
    down, Django's reports being slow to render)."""
    where = f"{record.name} {record.levelname}"
    scan.check("log lines", where, PLAIN.format(record))
    fields = {k: v for k, v in vars(record).items() if k not in ("exc_info", "exc_text")}
    scan.check("log record fields", where, repr(fields))
    if not record.exc_info or record.exc_info[1] is None:
        return
    exc_info = record.exc_info
    rendered = traceback.TracebackException(*exc_info, capture_locals=True)
    scan.check("tracebacks with locals", where, "".join(rendered.format()))
    kind = (record.name, type(exc_info[1]), tuple((f.filename, f.lineno) for f in rendered.stack))
    if kind in reported and not full_run():
        return
    reported.add(kind)
    reporter = ExceptionReporter(getattr(record, "request", None), *exc_info, is_email=True)
    scan.check("admin e-mails (text)", where, reporter.get_traceback_text())
    scan.check("admin e-mails (html, with locals)", where, reporter.get_traceback_html())
