"""Key workers' counting rules (POLICY.md) through the scenario runner, with exact dates."""
from __future__ import annotations

import textwrap

import pytest

from cordon.cases.models import Infection
from cordon.scenario import runner
from cordon.scenario.spec import parse

pytestmark = pytest.mark.django_db

U1 = "城关区/皋兰路街道/五泉社区/五泉小区/1号楼/1单元"
CITY = "城关区: {皋兰路街道: {五泉社区: {五泉小区: {1号楼: {units: 2}}}}}"


def scenario(events: str, days=12) -> dict:
    text = f"policy: ninth-edition\nstart: 2022-11-08\ndays: {days}\nauto_rounds: false\n" \
           f"city:\n  {CITY}\nevents:\n" + textwrap.indent(textwrap.dedent(events).strip(), "  ") + "\n"
    runner.load_plugins()
    return runner.run(parse(text))


def worker(out, day, person):
    return next((w for w in out["days"][day]["key_workers"] if w["person"] == person), None)


def test_delivery_every_three_days_current_then_overdue():
    out = scenario(f"""
        - {{day: 0, type: key_worker, person: R1, group: delivery, employer: 美团, home: {U1}}}
        - {{day: 1, type: sample, person: R1, result: negative}}
        - {{day: 7, type: sample, person: R1, result: negative}}
    """)
    # registered 2022-11-08 with no sample: overdue from the registration day
    assert worker(out, 0, "R1") == {"person": "R1", "status": "overdue", "due": None}
    # negative on 11-09 (T): current 11-09 .. 11-12 (T+3), overdue from 11-13
    for day in (1, 2, 3, 4):
        assert worker(out, day, "R1") == {"person": "R1", "status": "current", "due": "2022-11-12"}
    assert worker(out, 5, "R1") == {"person": "R1", "status": "overdue", "due": "2022-11-12"}
    assert worker(out, 6, "R1")["status"] == "overdue"
    # a newer negative on 11-15: current again until 11-18
    assert worker(out, 7, "R1") == {"person": "R1", "status": "current", "due": "2022-11-18"}
    assert worker(out, 10, "R1")["status"] == "current"
    assert worker(out, 11, "R1") == {"person": "R1", "status": "overdue", "due": "2022-11-18"}


def test_daily_group_and_twice_a_week():
    out = scenario(f"""
        - {{day: 0, type: key_worker, person: F1, group: fever_clinic, employer: 发热门诊, home: {U1}}}
        - {{day: 0, type: key_worker, person: H1, group: high_mobility, employer: 公交, home: {U1}}}
        - {{day: 0, type: sample, person: F1, result: negative}}
        - {{day: 0, type: sample, person: H1, result: negative}}
    """, days=6)
    assert worker(out, 1, "F1") == {"person": "F1", "status": "current", "due": "2022-11-09"}
    assert worker(out, 2, "F1") == {"person": "F1", "status": "overdue", "due": "2022-11-09"}
    # twice a week: N = 7 // 2 = 3
    assert worker(out, 3, "H1") == {"person": "H1", "status": "current", "due": "2022-11-11"}
    assert worker(out, 4, "H1")["status"] == "overdue"


def test_positive_sample_is_an_infection_never_current():
    out = scenario(f"""
        - {{day: 0, type: key_worker, person: R2, group: delivery, employer: 饿了么, home: {U1}}}
        - {{day: 0, type: sample, person: R2, result: negative}}
        - {{day: 2, type: sample, person: R2, result: positive}}
    """, days=4)
    assert worker(out, 1, "R2")["status"] == "current"
    assert worker(out, 2, "R2")["status"] == "overdue"
    assert worker(out, 3, "R2")["status"] == "overdue"
    inf = Infection.objects.get()
    assert inf.confirmed_on.isoformat() == "2022-11-10" and inf.resident.name == "R2"


def test_unknown_group_or_person_refused_invalid():
    out = scenario(f"""
        - {{day: 0, type: key_worker, person: X, group: astronaut, employer: 美团, home: {U1}}}
        - {{day: 0, type: sample, person: NOBODY, result: negative}}
    """, days=1)
    assert [r["rule"] for r in out["days"][0]["refused"]] == ["invalid", "invalid"]
    assert out["days"][0]["key_workers"] == []
