"""Area rules of POLICY.md through the scenario runner (the real actions), with the exact dates, both packs."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

from cordon.scenario import runner
from cordon.scenario.spec import ScenarioError, parse

U1 = "城关区/皋兰路街道/五泉社区/五泉小区/1号楼/1单元"
U2 = "城关区/皋兰路街道/五泉社区/五泉小区/1号楼/2单元"
B2 = "城关区/皋兰路街道/五泉社区/五泉小区/2号楼"
COMPOUND = "城关区/皋兰路街道/五泉社区/五泉小区"
COMMUNITY = "城关区/皋兰路街道/五泉社区"
CITY = "城关区: {皋兰路街道: {五泉社区: {五泉小区: {1号楼: {units: 3}, 2号楼: {units: 2}}}}}"


def scenario(events: str, *, policy="ninth-edition", days=20, auto_rounds=True) -> dict:
    text = f"policy: {policy}\nstart: 2022-11-08\ndays: {days}\nauto_rounds: {str(auto_rounds).lower()}\n" \
           f"city:\n  {CITY}\nevents:\n" + textwrap.indent(textwrap.dedent(events).strip(), "  ") + "\n"
    runner.load_plugins()
    return runner.run(parse(text))


def area(out, day, path):
    for a in out["days"][day]["areas"]:
        if a["area"] == path:
            return a
    return None


def levels(out, path):
    """{date: level} for the days the area is at high or medium."""
    return {d["date"]: a["level"] for d in out["days"] for a in d["areas"] if a["area"] == path}


def first_day(out, path, level):
    return next((d["date"] for d in out["days"] for a in d["areas"] if a["area"] == path and a["level"] == level),
                None)


def last_day(out, path):
    days = [d["date"] for d in out["days"] for a in d["areas"] if a["area"] == path]
    return days[-1] if days else None


# ------------------------------------------------------------------------------------ ninth-edition

@pytest.mark.django_db
def test_ninth_high_to_medium_to_low():
    out = scenario(f"""
        - {{day: 0, type: infection, person: P1, home: {U1}, found: community}}
        - {{day: 0, type: designate, area: {U1}, level: high, reason: P1 lives here}}
    """)
    a0 = area(out, 0, U1)
    assert a0 == {"area": U1, "level": "high", "since": "2022-11-08",
                  "next": {"level": "medium", "on": "2022-11-16"}, "waiting": None}
    assert first_day(out, U1, "medium") == "2022-11-16"  # 7 clean days + negative round on day 7 (11-15)
    assert area(out, 8, U1)["next"] == {"level": "low", "on": "2022-11-19"}
    assert last_day(out, U1) == "2022-11-18"  # 3 clean days at medium, low from 11-19
    assert out["days"][0]["proposals"] == []  # the designation answered the proposal


@pytest.mark.django_db
def test_ninth_new_infection_restarts_clock():
    out = scenario(f"""
        - {{day: 0, type: infection, person: P1, home: {U1}, found: community}}
        - {{day: 0, type: designate, area: {U1}, level: high, reason: P1}}
        - {{day: 4, type: infection, person: P2, home: {U1}, found: controlled_area}}
    """)
    assert area(out, 4, U1)["next"] == {"level": "medium", "on": "2022-11-20"}  # L = 11-12
    assert first_day(out, U1, "medium") == "2022-11-20"
    assert last_day(out, U1) == "2022-11-22"


@pytest.mark.django_db
def test_ninth_quarantine_site_infection_does_not_count():
    out = scenario(f"""
        - {{day: 0, type: infection, person: P1, home: {U1}, found: community}}
        - {{day: 0, type: designate, area: {U1}, level: high, reason: P1}}
        - {{day: 3, type: infection, person: P2, home: {U1}, found: quarantine_site}}
    """)
    assert first_day(out, U1, "medium") == "2022-11-16"


@pytest.mark.django_db
def test_ninth_medium_designated_directly():
    out = scenario(f"""
        - {{day: 0, type: infection, person: P1, home: {U1}, found: community, visited: [{B2}]}}
        - {{day: 0, type: designate, area: {B2}, level: medium, reason: P1 visited}}
    """)
    assert area(out, 0, B2)["next"] == {"level": "low", "on": "2022-11-16"}
    assert last_day(out, B2) == "2022-11-15"
    # the home unit's proposal stays open until someone decides
    assert out["days"][0]["proposals"] == [{"area": U1, "level": "high", "because": ["P1"]}]


@pytest.mark.django_db
def test_ninth_positive_round_waits_then_negative_round_releases():
    out = scenario(f"""
        - {{day: 0, type: infection, person: P1, home: {U1}, found: community}}
        - {{day: 0, type: designate, area: {U1}, level: high, reason: P1}}
        - {{day: 7, type: round, area: {U1}, result: positive}}
        - {{day: 9, type: round, area: {U1}, result: negative}}
    """)
    a8 = area(out, 8, U1)
    assert a8["level"] == "high" and a8["next"] is None and "negative full round" in a8["waiting"]
    assert first_day(out, U1, "medium") == "2022-11-17"  # as soon as the later round's results are in


@pytest.mark.django_db
def test_ninth_missing_round_waits():
    out = scenario(f"""
        - {{day: 0, type: infection, person: P1, home: {U1}, found: community}}
        - {{day: 0, type: designate, area: {U1}, level: high, reason: P1}}
    """, auto_rounds=False, days=10)
    assert area(out, 7, U1)["next"] == {"level": "medium", "on": "2022-11-16"}  # projected until day 7 ends
    a8 = area(out, 8, U1)
    assert a8["level"] == "high" and a8["next"] is None and "day 7" in a8["waiting"]


@pytest.mark.django_db
def test_ninth_keep_is_flagged_every_day_and_lift_starts_observation():
    out = scenario(f"""
        - {{day: 0, type: infection, person: P1, home: {U1}, found: community}}
        - {{day: 0, type: designate, area: {U1}, level: high, reason: P1}}
        - {{day: 7, type: keep, area: {U1}, reason: awaiting assessment}}
        - {{day: 10, type: lift, area: {U1}, reason: assessed}}
        - {{day: 12, type: infection, person: P3, home: {U1}, found: community}}
    """)
    for day in (8, 9):
        a = area(out, day, U1)
        assert a["level"] == "high" and a["next"] is None and "awaiting assessment" in a["waiting"]
        assert [f["rule"] for f in out["days"][day]["flags"]] == ["nine-prohibitions-3"]
    assert out["days"][7]["flags"] == []
    assert area(out, 10, U1) is None  # lifted by hand on day 10
    assert out["days"][12]["proposals"] == [{"area": U1, "level": "high", "because": ["P3"], "kind": "reseal"}]


@pytest.mark.django_db
def test_ninth_reseal_by_confirming_the_proposal():
    out = scenario(f"""
        - {{day: 0, type: infection, person: P1, home: {U1}, found: community}}
        - {{day: 0, type: designate, area: {U1}, level: high, reason: P1}}
        - {{day: 12, type: infection, person: P3, home: {U1}, found: community}}
        - {{day: 12, type: confirm, area: {U1}}}
    """)
    assert area(out, 11, U1) is None  # low from 11-19, observation until 11-25
    a = area(out, 12, U1)
    assert a["level"] == "high" and a["since"] == "2022-11-20" and a["next"] == {"level": "medium", "on": "2022-11-28"}
    assert out["days"][12]["proposals"] == []


@pytest.mark.django_db
def test_ninth_guardrail_flags_one_and_four():
    out = scenario(f"""
        - {{day: 0, type: designate, area: {U2}, level: high, reason: rumour}}
        - {{day: 0, type: designate, area: {COMMUNITY}, level: medium, reason: whole community}}
        - {{day: 1, type: designate, area: {COMPOUND}, level: high, reason: compound}}
    """, days=3)
    rules = [(f["rule"], f["subject"]) for f in out["days"][0]["flags"]]
    assert ("nine-prohibitions-1", U2) in rules
    assert ("nine-prohibitions-4", COMMUNITY) in rules  # the 9th edition designates up to a compound
    assert not any(r == "nine-prohibitions-4" for r, _ in [(f["rule"], 0) for f in out["days"][1]["flags"]])


@pytest.mark.django_db
def test_refusals_are_reported_with_event_index():
    out = scenario(f"""
        - {{day: 0, type: lift, area: {U1}, reason: nothing there}}
        - {{day: 0, type: keep, area: {U1}, reason: ""}}
        - {{day: 1, type: designate, area: "城关区/无此街道", level: high, reason: x}}
    """, days=2)
    assert [r["event"] for r in out["days"][0]["refused"]] == [0, 1]
    assert out["days"][1]["refused"][0]["event"] == 2


# ------------------------------------------------------------------------------------ twenty-measures

@pytest.mark.django_db
def test_twenty_high_to_low_after_five_days():
    out = scenario(f"""
        - {{day: 0, type: infection, person: P1, home: {U1}, found: community}}
        - {{day: 0, type: designate, area: {U1}, level: high, reason: P1}}
    """, policy="twenty-measures", days=10)
    assert area(out, 0, U1)["next"] == {"level": "low", "on": "2022-11-14"}  # 5 clean days + round on day 5
    assert last_day(out, U1) == "2022-11-13"


@pytest.mark.django_db
def test_twenty_restart_and_no_medium():
    out = scenario(f"""
        - {{day: 0, type: infection, person: P1, home: {U1}, found: community, visited: [{B2}]}}
        - {{day: 0, type: designate, area: {U1}, level: high, reason: P1}}
        - {{day: 0, type: designate, area: {B2}, level: medium, reason: visited}}
        - {{day: 2, type: infection, person: P2, home: {U1}, found: community}}
    """, policy="twenty-measures", days=10)
    assert out["days"][0]["refused"][0]["event"] == 2
    assert out["days"][0]["proposals"] == []  # no medium level to propose for the visited building
    assert last_day(out, U1) == "2022-11-15"  # L = 11-10, low from 11-16


@pytest.mark.django_db
def test_twenty_building_is_the_granularity():
    out = scenario(f"""
        - {{day: 0, type: infection, person: P1, home: {U1}, found: community}}
        - {{day: 0, type: designate, area: "城关区/皋兰路街道/五泉社区/五泉小区/1号楼", level: high, reason: P1}}
        - {{day: 1, type: designate, area: {COMPOUND}, level: high, reason: whole compound}}
    """, policy="twenty-measures", days=3)
    assert [f["rule"] for f in out["days"][0]["flags"]] == []
    assert "nine-prohibitions-4" in [f["rule"] for f in out["days"][1]["flags"]]


# ------------------------------------------------------------------------------------ format errors

@pytest.mark.parametrize("text,line,reason", [
    ("start: 2022-11-08\ndays: 5\ncity: {A: {B: {C: {D: {E: {units: 1}}}}}}\nevents:\n  - {day: 9, type: lift, area: A}\n",
     5, "day must be"),
    ("start: 2022-11-08\ndays: 5\ncity: {A: {B: {C: {D: {E: {units: 1}}}}}}\nevents:\n  - {day: 1, type: fly}\n",
     5, "unknown type"),
    ("start: 2022-11-08\ndays: 5\ncity: {A: {B: {C: {D: {E: {units: 1}}}}}}\nevents:\n  - {day: 1, type: designate, area: A}\n",
     5, "missing field 'level'"),
    ("start: 2022-13-08\ndays: 5\ncity: {A: {B: {C: {D: {E: {units: 1}}}}}}\n", 1, "start must be a date"),
    ("start: 2022-11-08\ndays: 5\ncity: {A: {B: {C: {D: {E: {rooms: 1}}}}}}\n", 3, "units"),
    ("start: 2022-11-08\ndays: 5\ncity: [1\n", 4, "not valid YAML"),
])
def test_invalid_scenarios_name_line_and_reason(text, line, reason):
    runner.load_plugins()
    with pytest.raises(ScenarioError) as exc:
        parse(text)
    assert exc.value.line == line and reason in exc.value.reason


def test_cli_end_to_end(tmp_path):
    f = tmp_path / "s.yaml"
    f.write_text(f"policy: ninth-edition\nstart: 2022-11-08\ndays: 9\ncity:\n  {CITY}\nevents:\n"
                 f"  - {{day: 0, type: infection, person: P1, home: {U1}, found: community}}\n"
                 f"  - {{day: 0, type: designate, area: {U1}, level: high, reason: P1}}\n", encoding="utf-8")
    env = dict(os.environ)
    env.pop("DATABASE_URL", None)
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    env["TMPDIR"] = str(scratch)  # where the throwaway database goes; it must be gone after each run
    r = subprocess.run([sys.executable, "-m", "cordon", "scenario", "run", str(f)], capture_output=True, text=True,
                       env=env, timeout=120)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["policy"] == "ninth-edition" and out["start"] == "2022-11-08" and len(out["days"]) == 9
    assert out["days"][8]["areas"][0]["level"] == "medium"
    bad = tmp_path / "bad.yaml"
    bad.write_text("start: 2022-11-08\ndays: 0\ncity: {}\n")
    r = subprocess.run([sys.executable, "-m", "cordon", "scenario", "run", str(bad)], capture_output=True, text=True,
                       env=env, timeout=60)
    assert r.returncode != 0 and "bad.yaml:2: days must be" in r.stderr
    assert not list(scratch.iterdir())  # refused scenarios leave nothing behind either
