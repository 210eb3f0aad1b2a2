"""Pack loading and validation: both built-in packs are valid; broken packs give line-numbered errors."""
from __future__ import annotations

import datetime as dt

import pytest

from cordon.policy.pack import (CATEGORY_KEYS, DEFAULT_PACK, PACKS_DIR, PackInvalid, list_packs, load_pack,
                                parse_pack, validate)

NINTH = (PACKS_DIR / "ninth-edition.yaml").read_text(encoding="utf-8")


def test_list_packs_default_first():
    names = list_packs()
    assert names[0] == DEFAULT_PACK == "ninth-edition"
    assert "twenty-measures" in names


@pytest.mark.parametrize("name", ["ninth-edition", "twenty-measures"])
def test_builtin_packs_valid(name):
    assert validate(PACKS_DIR / f"{name}.yaml") == []
    pack = load_pack(name)
    assert pack.name == name
    assert load_pack(name) is pack  # cached
    assert set(pack.persons) <= set(CATEGORY_KEYS)
    assert len(pack.guardrails) == 9
    assert [g.number for g in pack.guardrails.values()] == list(range(1, 10))


def test_ninth_edition_figures():
    p = load_pack("ninth-edition")
    assert p.effective == dt.date(2022, 6, 28)
    assert p.level_order == ("high", "medium", "low")
    assert p.base_level == "low"
    hi = p.exit_for("high")
    assert (hi.clean_days, hi.round_on_day, hi.to) == (7, 7, "medium")
    med = p.exit_for("medium")
    assert (med.clean_days, med.round_on_day, med.to) == (7, 7, "low")
    step = p.exit_for("medium", entered_from="high")
    assert (step.clean_days, step.round_on_day, step.to) == (3, None, "low")
    assert p.granularity == "compound"
    assert p.counts("community") and p.counts("controlled_area") and not p.counts("quarantine_site")
    assert p.counts("community", at_home_isolating=True)
    assert p.levels["high"].area_tests.unverified
    assert p.observation_unverified
    cc = p.persons["close_contact"]
    assert [(x.kind, x.days, x.tests) for x in cc.periods] == [("centralized", 7, (1, 2, 3, 5, 7)),
                                                               ("home_monitoring", 3, (3,))]
    assert p.persons["from_low_area"].periods == ()
    tw = p.persons["from_low_area"].test_window
    assert (tw.count, tw.within_days, tw.min_gap_hours) == (2, 3, 24)
    assert set(p.tasks) >= {"transfer", "investigation", "contact_tracing", "designation", "disinfection",
                            "area_round"}
    assert p.tasks["area_round"].deadline_hours == 24
    assert p.screening.pool_size == 10 and p.screening.alt_pool_size == 5


def test_twenty_measures_figures():
    p = load_pack("twenty-measures")
    assert p.level_order == ("high", "low")
    hi = p.exit_for("high")
    assert (hi.clean_days, hi.round_on_day, hi.to) == (5, 5, "low")
    assert p.granularity == "building"
    assert "contact_of_contact" not in p.persons
    assert "from_medium_area" not in p.persons
    cc = p.persons["close_contact"]
    assert [(x.kind, x.days, x.tests) for x in cc.periods] == [("centralized", 5, (1, 2, 3, 5)),
                                                               ("home_quarantine", 3, (1, 3))]
    fh = p.persons["from_high_area"]
    assert [(x.kind, x.days, x.tests) for x in fh.periods] == [("home_quarantine", 7, (1, 3, 5, 7))]
    assert [x.days for x in p.persons["inbound"].periods] == [5, 3]
    assert p.levels["high"].area_tests.days == (1, 3, 5)
    assert p.levels["high"].area_tests.antigen_days == (2,)


def test_every_figure_has_a_source():
    for name in list_packs():
        p = load_pack(name)
        for lv in p.levels.values():
            for ex in [lv.exit, *lv.exit_if_entered_from.values()]:
                if ex:
                    assert ex.source
        for cat in p.persons.values():
            assert cat.source
        for t in p.tasks.values():
            assert t.source
        assert p.counting.source and p.observation_source and p.granularity_source


def _line_of(text: str, needle: str) -> int:
    for i, line in enumerate(text.splitlines(), 1):
        if needle in line:
            return i
    raise AssertionError(needle)


def _errors(text: str):
    errs = validate(text)
    assert errs, "expected errors"
    return errs


def test_yaml_syntax_error_has_line():
    text = NINTH.replace("  clean_days: 7\n", "  clean_days: [7\n", 1)
    errs = _errors(text)
    assert len(errs) == 1 and "not valid YAML" in errs[0].reason
    assert errs[0].line >= _line_of(NINTH, "clean_days: 7")


def test_unknown_key_line_and_path():
    text = NINTH.replace("      round_on_day: 7\n      to: medium\n",
                         "      round_on_day: 7\n      too: medium\n", 1)
    errs = _errors(text)
    fields = {(e.field, e.line) for e in errs}
    line = _line_of(text, "too: medium")
    assert ("levels.high.exit.too", line) in fields
    assert any(e.field == "levels.high.exit.to" and "required key missing" in e.reason for e in errs)


def test_negative_days():
    text = NINTH.replace("  days: 7\n  unverified: true\n  source: \"no national", "  days: -7\n  unverified: true\n  source: \"no national", 1)
    errs = _errors(text)
    assert [(e.field, e.line) for e in errs] == [("observation.days", _line_of(text, "days: -7"))]
    assert "negative" in errs[0].reason


def test_wrong_type():
    text = NINTH.replace("  home_isolating_counts: true", "  home_isolating_counts: often", 1)
    errs = _errors(text)
    assert errs[0].field == "counting.home_isolating_counts"
    assert errs[0].line == _line_of(text, "home_isolating_counts: often")
    assert "true or false" in errs[0].reason


def test_exit_to_unknown_level():
    text = NINTH.replace("      to: medium\n", "      to: moderate\n", 1)
    errs = _errors(text)
    assert [(e.field, e.line) for e in errs] == [("levels.high.exit.to", _line_of(text, "to: moderate"))]
    assert "unknown level 'moderate'" in errs[0].reason


def test_exit_upwards_is_an_error():
    text = NINTH.replace("      round_on_day: 7\n      to: low\n      source: \"ninth §中风险区",
                         "      round_on_day: 7\n      to: high\n      source: \"ninth §中风险区", 1)
    errs = _errors(text)
    assert errs[0].field == "levels.medium.exit.to" and "lower level" in errs[0].reason


def test_test_day_outside_period():
    text = NINTH.replace("{kind: centralized, days: 7, tests: [1, 2, 3, 5, 7]}",
                         "{kind: centralized, days: 7, tests: [1, 2, 3, 5, 8]}", 1)
    errs = _errors(text)
    assert len(errs) == 1
    assert errs[0].field == "persons.close_contact.periods[0].tests[4]"
    assert errs[0].line == _line_of(text, "tests: [1, 2, 3, 5, 8]")
    assert "outside the 7-day period" in errs[0].reason


def test_round_day_outside_clean_days():
    text = NINTH.replace("      clean_days: 7\n      round_on_day: 7\n      to: medium",
                         "      clean_days: 7\n      round_on_day: 9\n      to: medium", 1)
    errs = _errors(text)
    assert errs[0].field == "levels.high.exit.round_on_day"
    assert errs[0].line == _line_of(text, "round_on_day: 9")


def test_missing_required_key_and_unknown_category():
    text = NINTH.replace("effective: 2022-06-28\n", "", 1).replace("  inbound:\n", "  visitors:\n", 1)
    errs = _errors(text)
    fields = {e.field: e for e in errs}
    assert fields["effective"].line == _line_of(text, "format: 1") and "required key missing" in fields["effective"].reason
    assert fields["persons.visitors"].line == _line_of(text, "  visitors:")


def test_low_area_quarantine_refused_by_validation():
    text = NINTH.replace("    periods: []\n    test_window", "    periods: [{kind: home_quarantine, days: 3}]\n    test_window", 1)
    errs = _errors(text)
    assert errs[0].field == "persons.from_low_area.periods" and "#2" in errs[0].reason


def test_granularity_must_be_a_node_kind():
    text = NINTH.replace("  granularity: compound", "  granularity: estate", 1)
    errs = _errors(text)
    assert errs[0].field == "designation.granularity" and errs[0].line == _line_of(text, "granularity: estate")


def test_duplicate_key_and_missing_guardrail():
    text = NINTH.replace("  - rule: nine-prohibitions-9", "  - rule: nine-prohibitions-8", 1)
    errs = _errors(text)
    assert any("nine-prohibitions-8 appears twice" in e.reason for e in errs)
    assert any("nine-prohibitions-9 is missing" in e.reason for e in errs)
    text2 = NINTH.replace("base_level: low\n", "base_level: low\nbase_level: low\n", 1)
    errs2 = _errors(text2)
    assert errs2[0].reason == "duplicate key" and errs2[0].line == _line_of(text2, "base_level") + 1


def test_empty_and_error_format(tmp_path):
    assert validate("")[0].reason.startswith("empty")
    f = tmp_path / "bad.yaml"
    f.write_text(NINTH.replace("      to: medium\n", "      to: moderate\n", 1), encoding="utf-8")
    errs = validate(f)
    assert str(errs[0]) == f"{f}:{errs[0].line}: levels.high.exit.to: exit to unknown level 'moderate' (levels: high, medium, low)"
    with pytest.raises(PackInvalid) as ei:
        load_pack(str(f))
    assert ei.value.errors == errs


def test_custom_pack_from_path(tmp_path):
    f = tmp_path / "city.yaml"
    f.write_text(NINTH.replace("name: ninth-edition", "name: city-variant").replace("  days: 7\n  unverified: true\n  source: \"no national",
                                                                                    "  days: 14\n  unverified: true\n  source: \"no national"), encoding="utf-8")
    p = load_pack(f)
    assert p.name == "city-variant" and p.observation_days == 14
    assert parse_pack(NINTH).name == "ninth-edition"
