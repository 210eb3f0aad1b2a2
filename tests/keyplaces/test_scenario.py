"""Key places through the scenario runner: #9 flags by the area's level that day, unknown places refused."""
from __future__ import annotations

import pytest

from tests.zones.test_scenario import U1, U2, scenario

pytestmark = pytest.mark.django_db


def test_place_status_events_flag_nine_and_refuse_unknown_places():
    out = scenario(f"""
        - {{day: 0, type: key_place, place: M1, kind: market, area: {U2}}}
        - {{day: 0, type: key_place, place: M2, kind: pharmacy, area: {U1}}}
        - {{day: 0, type: key_place, place: S1, kind: school, area: {U2}}}
        - {{day: 1, type: infection, person: P1, home: {U1}, found: community}}
        - {{day: 1, type: designate, area: {U1}, level: high, reason: P1 lives here}}
        - {{day: 2, type: place_status, place: M1, status: closed, reason: 人手不足}}
        - {{day: 2, type: place_status, place: M2, status: closed, reason: 封控区内}}
        - {{day: 2, type: place_status, place: S1, status: closed_loop, reason: 闭环}}
        - {{day: 3, type: place_status, place: NOPE, status: closed, reason: x}}
        - {{day: 3, type: place_status, place: S1, status: closed}}
        - {{day: 3, type: key_place, place: X1, kind: mall, area: {U2}}}
    """, days=5)
    nine = {d["date"]: [f["subject"] for f in d["flags"] if f["rule"] == "nine-prohibitions-9"] for d in out["days"]}
    # M1 (market, unit 2: low) closed on day 2 -> flagged; M2 (pharmacy inside the high-risk unit 1) is not
    assert nine == {"2022-11-08": [], "2022-11-09": [], "2022-11-10": [f"M1 ({U2})"], "2022-11-11": [],
                    "2022-11-12": []}
    refused = out["days"][3]["refused"]
    assert [(r["event"], r["rule"]) for r in refused] == [(8, "invalid"), (9, "invalid"), (10, "invalid")]
    assert "NOPE" in refused[0]["message"] and "reason" in refused[1]["message"]
