"""triage.yaml is checked when loaded: a typo'd key, a wrong type or a missing field is a FILE:LINE error."""
from __future__ import annotations

import pytest

from cordon.care import triage
from cordon.policy.schema import Invalid


def _broken(tmp_path, old: str, new: str):
    text = triage.TABLE.read_text(encoding="utf-8")
    assert old in text
    f = tmp_path / "triage.yaml"
    f.write_text(text.replace(old, new, 1), encoding="utf-8")
    line = text[:text.index(old)].count("\n") + 1
    with pytest.raises(Invalid) as exc:
        triage.load(f)
    return str(exc.value).splitlines()[1:], f, line


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
