"""The passes scenario events: pass, revoke, check; per-day outputs passes and checks; unknown person or pass
refused with rule invalid; a suspension by the day-start job from the day the holder becomes overdue."""
import datetime as dt

from tests.passes._fixtures import overdue_hook  # noqa: F401

SCENARIO = """
policy: ninth-edition
start: 2022-11-08
days: 4
city:
  城关区: {皋兰路街道: {五泉社区: {五泉小区: {1号楼: {units: 2}}}}, 东岗街道: {x社区: {y小区: {1号楼: {units: 1}}}}}
events:
  - {day: 0, type: pass, id: T1, person: 骑手甲, kind: delivery, areas: [城关区/皋兰路街道], from_day: 1, to_day: 2}
  - {day: 0, type: pass, id: T2, person: 无名氏, kind: delivery, areas: [城关区], from_day: 0, to_day: 3}
  - {day: 0, type: check, pass: T1, area: 城关区/皋兰路街道/五泉社区}
  - {day: 1, type: check, pass: T1, area: 城关区/皋兰路街道/五泉社区/五泉小区/1号楼/1单元}
  - {day: 1, type: check, pass: T1, area: 城关区/东岗街道}
  - {day: 1, type: check, pass: T9, area: 城关区}
  - {day: 2, type: check, pass: T1, area: 城关区/皋兰路街道}
  - {day: 2, type: revoke, pass: T1, reason: lost}
  - {day: 2, type: check, pass: T1, area: 城关区/皋兰路街道}
  - {day: 3, type: check, pass: T1, area: 城关区/皋兰路街道}
  - {day: 3, type: revoke, pass: T9, reason: x}
"""


def test_scenario_pass_events(db, overdue_hook):
    from cordon.places.actions import do_create_resident, do_ensure_area, do_get_or_create_household
    from cordon.core import ids
    from cordon.scenario import runner
    from cordon.scenario.spec import parse

    unit = do_ensure_area("城关区/皋兰路街道/五泉社区/五泉小区/1号楼/1单元", actor="test")
    hh = do_get_or_create_household(unit, "101", actor="test")
    rider = do_create_resident(hh, {"name": "骑手甲", "id_number": ids.make_id_number("620102", dt.date(1990, 1, 1), 5, "M")},
                               actor="test")
    overdue_hook[rider.pk] = dt.date(2022, 11, 10)  # overdue from day 2
    runner.load_plugins()
    out = runner.run(parse(SCENARIO))
    d0, d1, d2, d3 = out["days"]
    assert d0["refused"][0]["rule"] == "invalid" and d0["refused"][0]["event"] == 1
    assert d0["passes"] == [{"id": "T1", "status": "active"}]
    assert d0["checks"] == [{"pass": "T1", "area": "城关区/皋兰路街道/五泉社区", "result": "refused",
                             "reason": "not_yet_valid"}]
    assert d1["checks"] == [
        {"pass": "T1", "area": "城关区/皋兰路街道/五泉社区/五泉小区/1号楼/1单元", "result": "allowed", "reason": None},
        {"pass": "T1", "area": "城关区/东岗街道", "result": "refused", "reason": "area_not_covered"},
        {"pass": "T9", "area": "城关区", "result": "refused", "reason": "invalid"}]
    assert [r["rule"] for r in d1["refused"]] == ["invalid"]
    assert d2["passes"] == [{"id": "T1", "status": "revoked"}]
    assert d2["checks"] == [{"pass": "T1", "area": "城关区/皋兰路街道", "result": "refused", "reason": "test_overdue"},
                            {"pass": "T1", "area": "城关区/皋兰路街道", "result": "refused", "reason": "revoked"}]
    assert d3["checks"] == [{"pass": "T1", "area": "城关区/皋兰路街道", "result": "refused", "reason": "revoked"}]
    assert d3["refused"][0]["rule"] == "invalid"
    from cordon.passes.models import Pass

    p = Pass.objects.get(label="T1")
    assert list(p.events.values_list("kind", "on")) == [
        ("issue", dt.date(2022, 11, 8)), ("suspend", dt.date(2022, 11, 10)), ("revoke", dt.date(2022, 11, 10))]
