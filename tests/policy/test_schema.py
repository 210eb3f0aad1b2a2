"""The shared YAML schema: field specs and line-numbered errors (pure; the pack loader and the configuration
files of care, hotline and supplies use it)."""
from __future__ import annotations

import pytest

from cordon.policy.schema import (IDENT, TEXT, Int, Invalid, ListOf, MapOf, Num, Str, Struct, check_yaml,
                                  load_yaml)

SPEC = Struct({"name": (Str(pattern=IDENT), True), "days": (Int(min=1), True), "rate": (Num(min=0), False),
               "title": (TEXT, False), "tags": (ListOf(Str(), unique=True), False),
               "levels": (MapOf(Int(min=1, max=3), TEXT), False)})


def test_valid_data_comes_back_typed():
    d, errors = check_yaml("name: a\ndays: 2\nrate: 1.5\nlevels:\n  1: {zh: 一, en: one}\n", SPEC)
    assert errors == [] and d == {"name": "a", "days": 2, "rate": 1.5, "levels": {1: {"zh": "一", "en": "one"}}}


@pytest.mark.parametrize("text,expected", [
    ("name: a\ndais: 2\n", ["<file>:1: days: required key missing",
                            "<file>:2: dais: unknown key (allowed: name, days, rate, title, tags, levels)"]),
    ("name: a\ndays: two\n", ["<file>:2: days: expected an integer, got text"]),
    ("name: a\ndays: 1\ntags: [x, x]\n", ["<file>:3: tags[1]: 'x' appears twice"]),
    ("name: a\ndays: 1\nlevels:\n  4: {zh: 四, en: four}\n", ["<file>:4: levels.4: must be at most 3 (got 4)"]),
    ("name: a\ndays: 1\ntitle: {zh: 一}\n", ["<file>:3: title.en: required key missing"]),
    ("name: [a\n", ["<file>:2: (file): not valid YAML: expected ',' or ']', but got '<stream end>'"]),
    ("", ["<file>:1: (file): empty file: a mapping"]),
])
def test_errors_carry_line_and_field(text, expected):
    d, errors = check_yaml(text, SPEC)
    assert d is None and [str(e) for e in errors] == expected


def test_load_yaml_raises_with_file_and_line(tmp_path):
    f = tmp_path / "x.yaml"
    f.write_text("name: a\ndays: -1\n", encoding="utf-8")
    with pytest.raises(Invalid) as exc:
        load_yaml(f, SPEC, what="example")
    assert str(exc.value) == f"invalid example {f}:\n{f}:2: days: must be at least 1 (got -1)"
