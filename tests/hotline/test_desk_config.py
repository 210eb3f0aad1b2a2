"""desk.yaml is checked when loaded: a typo'd key, a wrong type or a missing field is a FILE:LINE error."""
from __future__ import annotations

from tests._config_files import broken

from cordon.hotline import config


def _broken(tmp_path, old: str, new: str):
    return broken(tmp_path, config.DESK, config.load, old, new)


def test_the_shipped_desk_is_valid():
    assert config.load() == config.desk()


def test_typo_key(tmp_path):
    errors, f, line = _broken(tmp_path, "roster: {horizon_days: 7", "roster: {horizon_day: 7")
    assert errors == [f"{f}:{line}: roster.horizon_day: unknown key (allowed: horizon_days, min_operators)",
                      f"{f}:{line}: roster.horizon_days: required key missing"]


def test_wrong_type_and_unknown_class(tmp_path):
    errors, f, line = _broken(tmp_path, "resolve_minutes: 120,", "resolve_minutes: soon,")
    assert errors == [f"{f}:{line}: classes.urgent.resolve_minutes: expected an integer, got text"]
    errors, f, line = _broken(tmp_path, "medical:             {class: urgent,", "medical:             {class: urgnt,")
    assert errors == [f"{f}:{line}: categories.medical.class: 'urgnt' is not a class (urgent, supplies, general)"]


def test_missing_field(tmp_path):
    errors, f, line = _broken(tmp_path, "  other:               {class: general,  route: community}\n", "")
    assert errors == [f"{f}:{line - 5}: categories.other: required key missing"]  # the line categories start
