"""The scenario runner's command events: send, acknowledge, complete; overdue the day after the due day;
an area outside the city refused ``unknown-area``."""
from __future__ import annotations

import textwrap

import pytest

from cordon.scenario import runner
from cordon.scenario.spec import parse

CITY = "城关区: {皋兰路街道: {五泉社区: {五泉小区: {1号楼: {units: 1}}}, 白银路社区: {白银小区: {2号楼: {units: 1}}}}}"
A = "城关区/皋兰路街道/五泉社区"
B = "城关区/皋兰路街道/白银路社区"


def scenario(events: str, days=4) -> dict:
    text = f"policy: ninth-edition\nstart: 2022-11-08\ndays: {days}\nauto_rounds: false\n" \
           f"city:\n  {CITY}\nevents:\n" + textwrap.indent(textwrap.dedent(events).strip(), "  ") + "\n"
    runner.load_plugins()
    return runner.run(parse(text))


@pytest.mark.django_db
def test_command_ack_done_overdue():
    out = scenario(f"""
        - {{day: 0, type: command, id: C1, to: [城关区/皋兰路街道], level: community, due_day: 1}}
        - {{day: 0, type: ack, command: C1, unit: {A}}}
        - {{day: 1, type: done, command: C1, unit: {A}}}
        - {{day: 1, type: command, id: C2, to: [外省/某区], due_day: 2}}
        - {{day: 2, type: ack, command: C1, unit: {B}}}
    """)
    days = out["days"]
    assert days[0]["commands"] == [{"id": "C1", "unit": A, "status": "acknowledged"},
                                   {"id": "C1", "unit": B, "status": "sent"}]
    assert days[1]["commands"] == [{"id": "C1", "unit": A, "status": "done"},
                                   {"id": "C1", "unit": B, "status": "sent"}]  # the due day itself: not yet
    assert days[1]["refused"] == [{"event": 3, "rule": "unknown-area", "message": "no such area in the "
                                   "scenario's city: 外省/某区"}]
    assert days[2]["commands"] == [{"id": "C1", "unit": A, "status": "done"},
                                   {"id": "C1", "unit": B, "status": "overdue"}]
