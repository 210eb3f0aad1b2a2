"""triage.yaml is checked when loaded: a typo'd key, a wrong type or a missing field is a FILE:LINE error."""
from __future__ import annotations

from tests._config_files import broken

from cordon.care import triage


def _broken(tmp_path, old: str, new: str):
    return broken(tmp_path, triage.TABLE, triage.load, old, new)


def test_the_shipped_table_is_valid():
    assert triage.load(triage.TABLE) == triage.table()


def test_typo_key(tmp_path):
    errors, f, line = _broken(tmp_path, "dispatch_minutes: 15", "dispatch_minute: 15")
    assert f"{f}:{line}: priorities[0].dispatch_minute: unknown key (allowed: key, rank, dispatch_minutes, title, " \
           "aliases, source, unverified)" in errors


def test_wrong_type(tmp_path):
    errors, f, line = _broken(tmp_path, "rank: 2", "rank: second")
    assert errors == [f"{f}:{line}: priorities[1].rank: expected an integer, got text"]


def test_missing_field_and_required_priority(tmp_path):
    errors, f, line = _broken(tmp_path, "  - key: other\n", "  - note: other\n")
    assert f"{f}:{line}: priorities[5].key: required key missing" in errors
    assert any(e.endswith("priorities: needs a priority with key 'other'") for e in errors)
