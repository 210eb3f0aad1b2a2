"""supplies.yaml is checked when loaded: a typo'd key, a wrong type or a missing field is a FILE:LINE error."""
from __future__ import annotations

from tests._config_files import broken

from cordon.supplies import config


def _broken(tmp_path, old: str, new: str):
    return broken(tmp_path, config.FILE, config.load, old, new)


def test_the_shipped_configuration_is_valid():
    assert config.load() == config.config() == {"price_alert_rise_pct": 10, "default_days": 3}


def test_typo_key(tmp_path):
    errors, f, line = _broken(tmp_path, "default_days: 3", "default_day: 3")
    assert f"{f}:{line}: default_day: unknown key (allowed: price_alert_rise_pct, default_days)" in errors


def test_wrong_type(tmp_path):
    errors, f, line = _broken(tmp_path, "price_alert_rise_pct: 10", "price_alert_rise_pct: ten")
    assert errors == [f"{f}:{line}: price_alert_rise_pct: expected a number, got text"]


def test_missing_field(tmp_path):
    errors, f, _line = _broken(tmp_path, "default_days: 3\n", "")
    assert errors[0].endswith(": default_days: required key missing")
