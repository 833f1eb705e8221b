"""The shipped catalogs: every entry translated, none fuzzy, placeholders kept, and the
compiled ``.mo`` files built from the ``.po`` files beside them (no gettext needed here)."""

from __future__ import annotations

import ast
import gettext
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest

import genlook_django

LOCALE = Path(genlook_django.__file__).parent / "locale"
CATALOGS = sorted(LOCALE.glob("*/LC_MESSAGES/*.po"))
PLACEHOLDER = re.compile(r"%\([a-z_]+\)[sd]|%[sd]|\{\}")


@dataclass
class Entry:
    flags: set[str] = field(default_factory=set)
    msgid: str = ""
    plural: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)


def parse(path: Path) -> list[Entry]:
    """The entries of a ``.po`` file (without the header), enough of the format for ours:
    flags, msgid, msgid_plural, msgstr and msgstr[n], strings over several lines."""
    entries: list[Entry] = []
    entry, target = Entry(), None
    for line in [*path.read_text(encoding="utf-8").splitlines(), ""]:
        if not line.strip():
            if target is not None:
                entries.append(entry)
            entry, target = Entry(), None
        elif line.startswith("#,"):
            entry.flags |= {flag.strip() for flag in line[2:].split(",")}
        elif line.startswith("#"):
            continue
        elif line.startswith('"'):
            value = ast.literal_eval(line)
            if target == "msgid":
                entry.msgid += value
            elif target == "msgid_plural":
                entry.plural = (entry.plural or "") + value
            else:
                entry.msgstr[target] += value
        else:
            keyword, _space, literal = line.partition(" ")
            value = ast.literal_eval(literal)
            if keyword == "msgid":
                target, entry.msgid = "msgid", value
            elif keyword == "msgid_plural":
                target, entry.plural = "msgid_plural", value
            else:  # msgstr or msgstr[n]
                index = int(keyword[7:-1]) if keyword.startswith("msgstr[") else 0
                target, entry.msgstr[index] = index, value
    return [entry for entry in entries if entry.msgid]


def test_every_language_ships_both_catalogs():
    languages = {path.parts[-3] for path in CATALOGS}
    assert languages >= {"de", "es", "fr", "ja"}
    for language in languages:
        assert (LOCALE / language / "LC_MESSAGES" / "django.po") in CATALOGS
        assert (LOCALE / language / "LC_MESSAGES" / "djangojs.po") in CATALOGS


@pytest.mark.parametrize("path", CATALOGS, ids=lambda path: "/".join(path.parts[-3::2]))
def test_every_entry_is_translated_and_none_is_fuzzy(path):
    entries = parse(path)
    assert entries
    fuzzy = [entry.msgid for entry in entries if "fuzzy" in entry.flags]
    empty = [entry.msgid for entry in entries if not all(entry.msgstr.values())]
    assert not fuzzy, f"fuzzy in {path}: {fuzzy}"
    assert not empty, f"untranslated in {path}: {empty}"
    for entry in entries:
        wanted = sorted(PLACEHOLDER.findall(entry.plural or entry.msgid))
        for text in entry.msgstr.values():
            # A plural form may say "one" instead of "%(count)d"; nothing else may be lost.
            assert set(PLACEHOLDER.findall(text)) <= set(wanted), (entry.msgid, text)
            if entry.plural is None:
                assert sorted(PLACEHOLDER.findall(text)) == wanted, (entry.msgid, text)


@pytest.mark.parametrize("path", CATALOGS, ids=lambda path: "/".join(path.parts[-3::2]))
def test_the_compiled_catalog_is_the_source_catalog(path):
    """A ``.po`` changed without ``compilemessages`` would ship its old translations."""
    with path.with_suffix(".mo").open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    for entry in parse(path):
        if entry.plural is None:
            assert compiled.gettext(entry.msgid) == entry.msgstr[0], entry.msgid
        else:
            assert compiled.ngettext(entry.msgid, entry.plural, 1) == entry.msgstr[0]


@pytest.mark.parametrize("domain", ["django", "djangojs"])
def test_every_language_translates_the_same_strings(domain):
    """A string added to one language's catalog is added to all of them."""
    by_language = {
        path.parts[-3]: {entry.msgid for entry in parse(path)}
        for path in CATALOGS
        if path.stem == domain
    }
    reference = by_language.pop("fr")
    for language, msgids in by_language.items():
        assert msgids == reference, (language, sorted(msgids ^ reference)[:10])
