"""`tools/i18n.py check`: one Korean string has one English translation across all catalogs.

Flask-Babel merges the per-feature catalogs into one at run time and the last one loaded wins,
so two translations of the same msgid would show one feature's English in another feature.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import write_po

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def i18n():
    spec = importlib.util.spec_from_file_location("civic_i18n_tool", ROOT / "tools" / "i18n.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _write(path: Path, entries: list[tuple[str, str, str | None]]) -> None:
    catalog = Catalog(locale="en", project="civic_app", charset="utf-8")
    for msgid, msgstr, context in entries:
        catalog.add(msgid, msgstr, context=context)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as fh:
        write_po(fh, catalog)


@pytest.fixture
def two_catalogs(i18n, tmp_path, monkeypatch):
    paths = {"core": tmp_path / "core.po", "visits": tmp_path / "visits.po"}
    monkeypatch.setattr(i18n, "features", lambda: ["visits"])
    monkeypatch.setattr(i18n, "po_path", lambda feature: paths[feature])
    return paths


def test_a_msgid_translated_two_ways_is_a_conflict(i18n, two_catalogs):
    _write(two_catalogs["core"], [("상태", "Status", None), ("월", "Month", None)])
    _write(two_catalogs["visits"], [("상태", "State", None), ("월", "Month", None)])
    found = i18n.conflicts()
    assert len(found) == 1
    assert "'상태'" in found[0]
    assert "'Status'" in found[0]
    assert "'State'" in found[0]


def test_a_context_separates_two_meanings(i18n, two_catalogs):
    _write(two_catalogs["core"], [("월", "Month", None)])
    _write(two_catalogs["visits"], [("월", "Mon", "weekday"), ("월", "Month", None)])
    assert i18n.conflicts() == []


def test_check_fails_on_a_conflict(i18n, two_catalogs, monkeypatch, capsys):
    _write(two_catalogs["core"], [("취소", "Cancelled", None)])
    _write(two_catalogs["visits"], [("취소", "Withdrawn", None)])
    monkeypatch.setattr(i18n, "missing", lambda feature: [])
    assert i18n.main(["check"]) == 1
    assert "conflict: '취소'" in capsys.readouterr().out


def test_the_project_catalogs_have_no_conflicting_translations(i18n):
    assert i18n.conflicts() == []
