"""Risk-area actions on the database: audit rows, the day tick, extents, pack changes, notices."""
from __future__ import annotations

import datetime as dt

import pytest

from cordon.cases.actions import do_record_infection
from cordon.core import actions as core_actions, clock, packs
from cordon.core.actions import ActionError
from cordon.core.models import AuditEntry, PackSetting
from cordon.zones import actions as za
from cordon.zones import queries as zq
from cordon.zones.models import Designation, Event, Flag, Notice, Proposal, Status

D0 = dt.date(2022, 11, 8)


def day(n):
    return D0 + dt.timedelta(days=n)


@pytest.fixture
def infected(city, commander):
    with clock.frozen(D0):
        return do_record_infection(label="P1", home=city["unit_a"], found="community", confirmed_on=D0,
                                   actor=commander)


@pytest.mark.django_db
def test_infection_proposes_and_designation_is_audited(city, commander, infected):
    p = Proposal.objects.get()
    assert (p.area_id, p.level, p.because) == (city["unit_a"].pk, "high", ["P1"])
    with clock.frozen(D0):
        d = za.do_confirm_proposal(p, actor=commander)
    assert d.level == "high" and list(d.infections.values_list("label", flat=True)) == ["P1"]
    assert d.next_on == day(8) and d.next_level == "medium"
    e = AuditEntry.objects.get(action="designation.create")
    assert e.actor_name == "commander" and e.after["level"] == "high" and e.community_id == city["community_a"].pk
    assert AuditEntry.objects.filter(action="proposal.confirm").count() == 1
    p.refresh_from_db()
    assert p.status == "confirmed" and p.designation_id == d.pk


@pytest.mark.django_db
def test_tick_changes_levels_on_their_day_with_rule(city, commander, infected):
    d = za.do_designate(city["unit_a"], "high", on=D0, reason="P1", infections=[infected], actor=commander)
    za.do_record_round(d, on=day(7), result="negative", actor=commander)
    assert za.do_tick(day(7))["changes"] == 0
    r = za.do_tick(day(8))
    assert r["changes"] == 1
    d.refresh_from_db()
    assert (d.level, d.since, d.next_level, d.next_on) == ("medium", day(8), "low", day(11))
    change = AuditEntry.objects.get(action="designation.change")
    assert change.rule.startswith("ninth-edition") and change.before == {"level": "high"}
    za.do_tick(day(11))
    d.refresh_from_db()
    assert (d.level, d.status, d.lifted_on, d.observation_until) == ("low", Status.OBSERVATION, day(11), day(17))
    za.do_tick(day(18))
    d.refresh_from_db()
    assert d.status == Status.CLOSED


@pytest.mark.django_db
def test_tick_only_evaluates_what_can_change(city, commander, infected):
    d = za.do_designate(city["unit_a"], "high", on=D0, reason="P1", infections=[infected], actor=commander)
    assert za.do_tick(day(3))["evaluated"] == 0
    za.do_keep(d, on=day(6), reason="assessment pending", actor=commander)
    r = za.do_tick(day(9))
    # kept areas are looked at every day; with no round recorded on day 7 nothing is due, so no flag
    assert r["evaluated"] == 1 and r["flags"] == 0
    assert not Flag.objects.filter(rule="nine-prohibitions-3").exists()


@pytest.mark.django_db
def test_keep_past_due_is_flagged_daily(city, commander, infected):
    d = za.do_designate(city["unit_a"], "high", on=D0, reason="P1", infections=[infected], actor=commander)
    za.do_record_round(d, on=day(7), result="negative", actor=commander)
    za.do_keep(d, on=day(7), reason="assessment pending", actor=commander)
    for n in (8, 9, 10):
        za.do_tick(day(n))
        za.do_tick(day(n))  # twice the same day: still one flag
    flags = Flag.objects.filter(rule="nine-prohibitions-3").order_by("on")
    assert [f.on for f in flags] == [day(8), day(9), day(10)]
    assert "assessment pending" in flags[0].reason
    d.refresh_from_db()
    assert d.level == "high" and d.eligible_on == day(8)
    za.do_lift(d, on=day(10), reason="assessed", actor=commander)
    d.refresh_from_db()
    from cordon.zones.kpi import designation_kpis

    assert designation_kpis(d)["lift_delay_days"] == 2


def test_keep_needs_reason(db):
    with pytest.raises(ActionError) as exc:
        za.do_keep(Designation(status=Status.ACTIVE), on=D0, reason="  ")
    assert exc.value.field == "reason" and exc.value.rule == "nine-prohibitions-3"


@pytest.mark.django_db
def test_extent_counts_infections_in_added_units(city, commander, infected):
    from cordon.places.actions import do_ensure_area

    unit2 = do_ensure_area("城关区/皋兰路街道/五泉社区/五泉小区/1号楼/2单元")
    d = za.do_designate(city["unit_a"], "high", on=D0, reason="P1", infections=[infected], actor=commander)
    za.do_adjust_extent(d, add=[unit2], on=day(1), reason="shared stairwell", actor=commander)
    do_record_infection(label="P2", home=unit2, found="community", confirmed_on=day(3), actor=commander)
    d.refresh_from_db()
    assert d.next_on == day(11)  # L = day 3
    assert Event.objects.filter(designation=d, kind="infection").count() == 1
    assert not Proposal.objects.filter(area=unit2).exists()  # already inside a high area
    za.do_adjust_extent(d, remove=[unit2], on=day(4), reason="sealed separately", actor=commander)
    assert not zq.covering(unit2).exists()


@pytest.mark.django_db
def test_pack_change_is_dated_and_audited(city, commander):
    core_actions.do_set_pack("twenty-measures", effective_from=day(10), actor=commander, reason="new national measures")
    assert packs.active_pack_name(day(9)) == "ninth-edition"
    assert packs.active_pack_name(day(10)) == "twenty-measures"
    e = AuditEntry.objects.get(action="policy.set_pack")
    assert e.before == {"pack": "ninth-edition"} and e.after["pack"] == "twenty-measures"
    with pytest.raises(ActionError):
        core_actions.do_set_pack("no-such-pack", effective_from=day(1), actor=commander)
    assert PackSetting.objects.count() == 1
    d = za.do_designate(city["unit_a"], "high", on=day(10), reason="x", actor=commander)
    assert d.pack == "twenty-measures" and d.next_on == day(16)


@pytest.mark.django_db
def test_notice_numbers_and_items(city, commander, infected):
    d = za.do_designate(city["unit_a"], "high", on=D0, reason="P1", infections=[infected], actor=commander)
    n1 = za.do_publish_notice(actor=commander, effective=D0)
    assert n1.number == 1 and [i["change"] for i in n1.items] == ["designate"]
    assert "P1" not in str(n1.items) and "王" not in str(n1.items)
    assert za.do_publish_notice(actor=commander) is None  # nothing new
    za.do_lift(d, on=day(3), reason="assessed", actor=commander)
    n2 = za.do_publish_notice(actor=commander, effective=day(3))
    assert n2.number == 2 and {i["change"] for i in n2.items} >= {"lift"}
    assert Notice.objects.count() == 2


@pytest.mark.django_db
def test_a_tick_for_an_earlier_day_does_not_rewind(city, commander, infected):
    d = za.do_designate(city["unit_a"], "high", on=D0, reason="P1", infections=[infected], actor=commander)
    za.do_record_round(d, on=day(7), result="negative", actor=commander)
    za.do_keep(d, on=day(7), reason="assessment pending", actor=commander)
    za.do_tick(day(9))
    assert za.do_tick(day(3))["changes"] == 0
    d.refresh_from_db()
    assert d.kept and d.level == "high" and d.eligible_on == day(8)
