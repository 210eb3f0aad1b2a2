"""Close the day (日清日结): each district signs off its daily close (who, when), reopens it only with a reason,
both audited; items still open carry over to the next day with their owners. Bulletins are approved by a second
person: the drafter (or last editor) cannot approve their own."""
from __future__ import annotations

import datetime as dt

import pytest

from cordon.core import access, clock
from cordon.core.actions import ActionError, Conflict
from cordon.core.models import AuditEntry
from cordon.situation import actions, closeday
from cordon.situation.models import DayClose

pytestmark = pytest.mark.usefixtures("in_english")  # messages are read in English here

DAY = dt.date(2022, 11, 8)


def _at(day: dt.date, hour: int = 22):
    return clock.frozen(dt.datetime.combine(day, dt.time(hour, 0), tzinfo=clock.tz()))


@pytest.fixture
def overdue(city):
    """An infection in unit A with its response tasks; at the day's end some are past their deadline."""
    from cordon.cases.actions import do_record_infection

    with _at(DAY, 8):
        return do_record_infection(label="S1", home=city["unit_a"], found="community", confirmed_on=DAY, actor="test")


def test_sign_off_reopen_and_carry_over(city, overdue, district_officer):
    with _at(DAY):
        items = closeday.open_items(city["district"], DAY)
        assert items and {i["kind"] for i in items} >= {"task"} and all(i["owner"] for i in items)
        c = actions.do_sign_off_day(city["district"], DAY, actor=district_officer, note="日清")
        assert (c.signed_by, c.status, len(c.open_items)) == ("district_a", "signed", len(items))
        with pytest.raises(Conflict) as e:
            actions.do_sign_off_day(city["district"], DAY, actor=district_officer)
        assert "district_a" in str(e.value)
        with pytest.raises(ActionError) as e:
            actions.do_reopen_day(c, reason="  ", actor=district_officer)
        assert e.value.field == "reason"
        actions.do_reopen_day(c, reason="漏报工单", actor=district_officer)
        c.refresh_from_db()
        assert (c.status, c.reopened_by, c.reopen_reason) == ("reopened", "district_a", "漏报工单")
        with pytest.raises(Conflict):
            actions.do_reopen_day(c, reason="again", actor=district_officer)
        actions.do_sign_off_day(city["district"], DAY, actor=district_officer)
    rows = list(AuditEntry.objects.filter(object_type="dayclose").order_by("id").values_list("action", "actor_name",
                                                                                            "district_id"))
    assert rows == [("dayclose.sign_off", "district_a", city["district"].pk),
                    ("dayclose.reopen", "district_a", city["district"].pk),
                    ("dayclose.sign_off", "district_a", city["district"].pk)]
    # the next day's page shows what was carried over, with owners, and whether it is still open
    nxt = DAY + dt.timedelta(days=1)
    with _at(nxt, 9):
        row = closeday.board(district_officer, nxt)[0]
    assert row["carried"] and all(x["still_open"] for x in row["carried"])
    assert {x["owner"] for x in row["carried"]} == {closeday.shown(i)["owner"] for i in items}


def test_team_owners_read_in_the_page_language(city, overdue, district_officer):
    """A team's owner is kept "中文 / English" (a task's team, a ticket's desk): the list shows one half."""
    from django.utils import translation

    with _at(DAY):
        row = closeday.board(district_officer, DAY)[0]
        with translation.override("zh-hans"):
            zh_owners = {x["owner"] for x in closeday.board(district_officer, DAY)[0]["items"]}
    owners = {x["owner"] for x in row["items"]}
    assert "transfer team" in owners and not [o for o in owners | zh_owners if " / " in o]
    assert "120 转运组" in zh_owners


def test_who_may_sign_off(city, overdue, worker, outsider, commander, as_user):
    with _at(DAY):
        with pytest.raises(access.Forbidden):
            actions.do_sign_off_day(city["district"], DAY, actor=worker)  # a community worker does not close a day
        with pytest.raises(ActionError) as e:
            actions.do_sign_off_day(city["community_a"], DAY, actor=commander)
        assert e.value.field == "district"
        with pytest.raises(ActionError) as e:
            actions.do_sign_off_day(city["district"], DAY + dt.timedelta(days=1), actor=commander)
        assert e.value.field == "day"
        url = f"/situation/daily/{DAY}/close/{city['district'].pk}/"
        assert as_user(worker).post(url, {"action": "sign"}).status_code == 403
        c = as_user(commander)
        assert c.post(url, {"action": "sign", "note": "ok"}).status_code == 302
        assert DayClose.objects.get(district=city["district"], day=DAY).signed_by == "commander"
        page = c.get(f"/situation/daily/{DAY}/").content.decode()
        assert "commander" in page and 'name="reason"' in page
        # reopening from the page without a reason is refused with the reason shown, nothing changes
        r = c.post(url, {"action": "reopen", "reason": ""}, follow=True)
        assert "reason" in r.content.decode() and DayClose.objects.get(day=DAY).status == "signed"
        assert c.post(url, {"action": "reopen", "reason": "补录"}).status_code == 302
        assert DayClose.objects.get(day=DAY).status == "reopened"
        assert as_user(worker).get(f"/situation/daily/{DAY}/").status_code == 200


def test_bulletin_needs_a_second_person(city, commander, deputy, as_user):
    with _at(DAY + dt.timedelta(days=1), 9):
        b = actions.do_draft_bulletin(DAY, actor=commander)
        with pytest.raises(ActionError) as e:
            actions.do_approve_bulletin(b, actor=commander)
        assert e.value.field == "approved_by" and "second person" in str(e.value)
        # the deputy edits it: now the deputy is the last editor and cannot approve either
        b = actions.do_edit_bulletin(b, text="编辑后的通报。", actor=deputy)
        with pytest.raises(ActionError):
            actions.do_approve_bulletin(b, actor=deputy)
        r = as_user(deputy).post(f"/api/bulletins/{b.pk}/approve", "{}", content_type="application/json")
        assert r.status_code == 400 and r.json()["field"] == "approved_by"
        # the page shows the refusal and keeps the draft
        r = as_user(commander).post(f"/situation/bulletins/{DAY}/", {"action": "approve"}, follow=True)
        assert "second person" in r.content.decode() or "第二人" in r.content.decode()
        b.refresh_from_db()
        assert b.status == "draft"
        b = actions.do_draft_bulletin(DAY, actor=commander)  # drafted again by the commander
        r = as_user(deputy).post(f"/api/bulletins/{b.pk}/approve", "{}", content_type="application/json")
        assert r.status_code == 200 and r.json()["status"] == "approved"
    assert list(AuditEntry.objects.filter(action="bulletin.approve").values_list("actor_name", flat=True)) == ["deputy"]
