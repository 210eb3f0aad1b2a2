"""Key places' counting rules with exact dates: the on-site test cadence (due / overdue), breaches (an exit
outside a shift change in closed loop, a person inside past their test), shift changes and off-shift
monitoring, nine prohibitions #9 on and off by the area's risk level that day, the daily-close figures."""
from __future__ import annotations

import datetime as dt

import pytest

from cordon.core import clock
from cordon.core.actions import ActionError, Conflict
from cordon.core.models import AuditEntry
from cordon.keyplaces import actions as ka
from cordon.keyplaces import queries as kq
from cordon.keyplaces.models import Breach, KeyPlace, Movement
from cordon.zones.models import Flag
from tests.keyplaces._kfixtures import D0, day, home, manager, market  # noqa: F401
from tests.zones._zfixtures import designate

pytestmark = pytest.mark.django_db


def on(n):
    return clock.frozen(dt.datetime.combine(day(n), dt.time(9, 0), tzinfo=clock.tz()))


def loop(place, n=1):
    with on(n):
        return ka.do_set_place_status(place, status="closed_loop", reason="本区出现病例", on=day(n), actor="test")


def test_test_cadence_due_and_overdue_exact_days(home):
    loop(home, 1)                                     # closed loop from day 1, a test every 2 days
    with on(0):
        early = ka.do_add_person(home, name="护工甲", role="staff", on=day(0), rotate_on=day(14), actor="test")
    with on(3):
        late = ka.do_add_person(home, name="老人乙", role="resident", on=day(3), actor="test")
    home.refresh_from_db()
    due = {d.person.name: d.due for d in kq.dues(home, day(3))}
    # no test yet: due the day their stay in the loop began (the loop's day 1; the day 3 arrival's own day)
    assert due == {"护工甲": day(1), "老人乙": day(3)}
    assert [d.person.name for d in kq.overdue_tests(home, day(1))] == []
    assert [d.person.name for d in kq.overdue_tests(home, day(2))] == ["护工甲"]
    with on(4):
        ka.do_record_test(early, result="negative", on=day(4), actor="test")
        ka.do_record_test(late, result="positive", on=day(4), actor="test")   # a positive never counts as tested
    due = {d.person.name: d.due for d in kq.dues(home, day(4))}
    assert due == {"老人乙": day(3), "护工甲": day(6)}   # T=4, N=2: due day 6, current days 4..6
    assert [d.person.name for d in kq.overdue_tests(home, day(6))] == ["老人乙"]
    assert [d.person.name for d in kq.overdue_tests(home, day(7))] == ["老人乙", "护工甲"]
    assert [d.person.name for d in kq.due_today(home, day(6))] == ["老人乙", "护工甲"]


def test_untested_breach_recorded_once_a_day_and_only_in_closed_loop(home):
    with on(0):
        p = ka.do_add_person(home, name="护工甲", role="staff", on=day(0), actor="test")
    assert ka.do_flag_untested(day(5)) == 0          # the place is open: no on-site testing, no breach
    loop(home, 1)
    assert ka.do_flag_untested(day(1)) == 0          # due day 1 itself
    assert ka.do_flag_untested(day(2)) == 1
    assert ka.do_flag_untested(day(2)) == 0          # once a day
    with on(2):
        ka.do_record_test(p, result="negative", on=day(2), actor="test")
    assert ka.do_flag_untested(day(4)) == 0          # T=2: current to day 4
    assert ka.do_flag_untested(day(5)) == 1
    assert sorted(Breach.objects.values_list("on", "kind")) == [(day(2), "untested"), (day(5), "untested")]


def test_exit_outside_a_shift_change_in_closed_loop_is_a_breach(home):
    with on(0):
        staff = ka.do_add_person(home, name="护工甲", role="staff", on=day(0), rotate_on=day(7), actor="test")
        resident = ka.do_add_person(home, name="老人乙", role="resident", on=day(0), actor="test")
        other = ka.do_add_person(home, name="老人丙", role="resident", on=day(0), actor="test")
        ka.do_record_movement(other, direction="exit", reason="release", on=day(0), actor="test")  # open: fine
    loop(home, 1)
    with on(2):
        ka.do_record_movement(staff, direction="exit", reason="other", note="回家取物", on=day(2), actor="test")
        ka.do_record_movement(resident, direction="exit", reason="medical", on=day(2), actor="test")
    assert list(Movement.objects.filter(direction="exit").order_by("id").values_list("breach", flat=True)) == \
        [False, True, False]
    b = Breach.objects.get()
    assert (b.person_id, b.on, b.kind, b.community_id) == (staff.pk, day(2), "exit", home.community_id)
    assert AuditEntry.objects.filter(action="keyplace_person.exit", rule="keyplace-breach").count() == 1
    with on(2), pytest.raises(Conflict):
        ka.do_record_movement(staff, direction="exit", reason="release", on=day(2), actor="test")
    with on(2), pytest.raises(ActionError):
        ka.do_record_movement(resident, direction="entry", reason="shift_change", on=day(2), actor="test")


def test_shift_change_rotates_staff_and_starts_monitoring(home):
    with on(0):
        a = ka.do_add_person(home, name="护工甲", role="staff", on=day(0), rotate_on=day(7), actor="test")
        b = ka.do_add_person(home, name="护工乙", role="staff", inside=False, actor="test")
    loop(home, 1)
    assert [p.name for p in kq.past_rotation(home, day(7))] == []
    assert [p.name for p in kq.past_rotation(home, day(8))] == ["护工甲"]
    with on(8):
        ka.do_change_shift(home, leaving=[a], coming=[b], rotate_on=day(15), on=day(8), reason="第二班轮换",
                           actor="test")
    a.refresh_from_db(), b.refresh_from_db()
    assert (a.inside, a.monitor_until, b.inside, b.since, b.rotate_on) == (False, day(13), True, day(8), day(15))
    assert not Breach.objects.exists()
    assert AuditEntry.objects.filter(action="keyplace.shift_change").count() == 1
    with on(8), pytest.raises(ActionError):
        ka.do_change_shift(home, leaving=[], coming=[], on=day(8), reason="x", actor="test")


def test_closing_an_essential_place_in_a_low_risk_area_is_flagged(market, city):
    with on(2):
        ka.do_set_place_status(market, status="closed", reason="人手不足", on=day(2), actor="test")
    f = Flag.objects.get()
    assert (f.rule, f.check_key, f.on, f.community_id, f.reason) == \
        ("nine-prohibitions-9", "essential_place_closure", day(2), city["community_b"].pk, "人手不足")
    market.refresh_from_db()
    assert market.changes.get().flagged is True
    with on(3):
        ka.do_set_place_status(market, status="open", reason="恢复", on=day(3), actor="test")
        ka.do_set_place_status(market, status="closed_loop", reason="闭环经营", on=day(3), actor="test")
    assert Flag.objects.count() == 1                  # reopening and a closed loop are no closure


def test_closing_an_essential_place_inside_a_high_risk_area_is_not_flagged(market, city):
    with on(1):
        designate(city["unit_b"], on=day(1), reason="P2 lives here")
    with on(2):
        ka.do_set_place_status(market, status="closed", reason="封控区内", on=day(2), actor="test")
    assert not Flag.objects.filter(rule="nine-prohibitions-9").exists()
    assert market.changes.get().flagged is False


def test_closing_a_school_is_not_flagged_and_status_needs_a_reason(city):
    with on(0):
        school = ka.do_register_place(ref="S1", name="五泉小学", kind="school", area=city["unit_a"], on=day(0),
                                      actor="test")
    with on(1), pytest.raises(ActionError) as e:
        ka.do_set_place_status(school, status="closed", reason="  ", on=day(1), actor="test")
    assert e.value.field == "reason"
    with on(1):
        ka.do_set_place_status(school, status="closed", reason="停课", on=day(1), actor="test")
    assert not Flag.objects.exists()
    with on(1), pytest.raises(Conflict):
        ka.do_set_place_status(school, status="closed", reason="again", on=day(1), actor="test")
    with on(1), pytest.raises(ActionError):
        ka.do_set_place_status(school, status="open", reason="backdated", on=day(0), actor="test")


def test_day_counts_follow_the_dated_history(home, market):
    loop(home, 1)
    with on(3):
        ka.do_set_place_status(market, status="closed", reason="x", on=day(3), actor="test")
        p = ka.do_add_person(home, name="护工甲", role="staff", on=day(3), actor="test")
        ka.do_record_movement(p, direction="exit", reason="other", on=day(3), actor="test")
    places, breaches = KeyPlace.objects.all(), Breach.objects.all()
    assert kq.day_counts(places, breaches, day(0)) == {"places": 2, "closed_loop": 0, "closed": 0, "open": 2,
                                                      "breaches": 0, "breaches_exit": 0, "breaches_untested": 0}
    assert kq.day_counts(places, breaches, day(3)) == {"places": 2, "closed_loop": 1, "closed": 1, "open": 0,
                                                      "breaches": 1, "breaches_exit": 1, "breaches_untested": 0}


def test_bad_input_is_refused_with_its_field(city, home):
    cases = [
        (dict(ref="", name="x", kind="school", area=city["unit_a"]), "ref"),
        (dict(ref="X", name="x", kind="mall", area=city["unit_a"]), "kind"),
        (dict(ref="X", name="x", kind="school", area=None), "area"),
        (dict(ref="X", name="x", kind="school", area=city["unit_a"], test_every_days=0), "test_every_days"),
        (dict(ref="X", name="x", kind="school", area=city["unit_a"], counts={"guests": 3}), "counts"),
        (dict(ref="X", name="x", kind="school", area=city["unit_a"], counts={"pupils": -1}), "counts"),
        (dict(ref="NH1", name="x", kind="school", area=city["unit_a"]), "ref"),
    ]
    for kw, field in cases:
        with pytest.raises(ActionError) as e:
            ka.do_register_place(actor="test", **kw)
        assert e.value.field == field, kw


def test_a_manager_writes_only_in_their_compound(home, market, manager):
    from cordon.core import access

    with on(1):
        ka.do_set_place_status(home, status="closed_loop", reason="闭环", on=day(1), actor=manager)
        with pytest.raises(access.Forbidden):
            ka.do_set_place_status(market, status="closed", reason="x", on=day(1), actor=manager)
    assert list(KeyPlace.objects.for_user(manager, access.KEYPLACES_READ)) == [home]


def test_daily_close_counts_places_in_closed_loop_and_the_days_breaches(home, market, city):
    from cordon.situation import daily, sections
    from cordon.situation.registry import SituationScope
    from cordon.core import access

    loop(home, 1)
    with on(3):
        p = ka.do_add_person(home, name="护工甲", role="staff", on=day(3), actor="test")
        ka.do_record_movement(p, direction="exit", reason="release", on=day(3), actor="test")
        ka.do_set_place_status(market, status="closed", reason="x", on=day(3), actor="test")
    b = Breach.objects.get()
    out = sections.keyplaces(SituationScope.city(), day(3), detail=True)
    assert {k: out[k] for k in ("places", "closed_loop", "closed", "breaches", "breaches_exit")} == \
        {"places": 2, "closed_loop": 1, "closed": 1, "breaches": 1, "breaches_exit": 1}
    assert out["ids"] == {"breaches": [b.pk]}
    assert sections.keyplaces(SituationScope.city(), day(4))["breaches"] == 0
    # community B's view: only the market
    view_b = SituationScope(access.scope_of([type("G", (), {"area_id": city["community_b"].pk,
                                                             "area": city["community_b"]})()]))
    assert {k: sections.keyplaces(view_b, day(3))[k] for k in ("places", "closed_loop", "breaches")} == \
        {"places": 1, "closed_loop": 0, "breaches": 0}
    report = daily.report(SituationScope.city(), day(3))
    group = [g for g in report["groups"] if g["key"] == "keyplaces"][0]
    assert [r["value"] for r in group["rows"]] == [2, 1, 1, 1, 1, 0]
    flags = [g for g in report["groups"] if g["key"] == "flags"][0]
    assert any(r["value"] == f"白银路市场 ({city['unit_b'].path})" for r in flags["rows"])
