"""Key-place pages as every role: the manager runs their own place (phone forms: test, entry/exit, shift,
status), the command view lists the jurisdiction's places with their overdue items, others see nothing."""
from __future__ import annotations

import datetime as dt

import pytest

from cordon.core import clock
from cordon.keyplaces import actions as ka
from cordon.keyplaces.models import Breach, Movement, Person, SiteTest
from cordon.zones.models import Flag
from tests.conftest import client_for, without_random_tokens
from tests.keyplaces._kfixtures import D0, day, home, manager, market  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.fixture
def running(home):
    with clock.frozen(dt.datetime(2022, 11, 9, 9, 0, tzinfo=clock.tz())):
        ka.do_set_place_status(home, status="closed_loop", reason="闭环", on=day(1), actor="test")
        staff = ka.do_add_person(home, name="护工甲", role="staff", phone="13909311234", on=day(1),
                                 rotate_on=day(8), actor="test")
        ka.do_add_person(home, name="护工乙", role="staff", inside=False, actor="test")
        ka.do_add_person(home, name="老人丙", role="resident", on=day(1), actor="test")
    return staff


def today(n=3):
    return clock.frozen(dt.datetime.combine(day(n), dt.time(10, 0), tzinfo=clock.tz()))


def test_manager_runs_their_place_from_the_page(home, running, manager):
    c = client_for(manager)
    with today():
        page = c.get(f"/keyplaces/{home.pk}/")
        assert page.status_code == 200
        html = page.content.decode()
        assert "护工甲" in html and "13909311234" not in html and "139****1234" in html
        staff = Person.objects.get(name="护工甲")
        r = c.post(f"/keyplaces/{home.pk}/do/test/", {"test-person": staff.pk, "test-result": "negative"})
        assert r.status_code == 302
        assert list(SiteTest.objects.values_list("person__name", "on", "result")) == [("护工甲", day(3), "negative")]
        newcomer = Person.objects.get(name="护工乙")
        r = c.post(f"/keyplaces/{home.pk}/do/shift/", {"shift-leaving": [staff.pk], "shift-coming": [newcomer.pk],
                                                       "shift-rotate_on": day(10).isoformat(), "shift-reason": "轮换"})
        assert r.status_code == 302
        staff.refresh_from_db()
        assert (staff.inside, staff.monitor_until) == (False, day(3 + 5))
        resident = Person.objects.get(name="老人丙")
        r = c.post(f"/keyplaces/{home.pk}/do/move/", {"move-person": resident.pk, "move-direction": "exit",
                                                      "move-reason": "release", "move-note": "家属接回"})
        assert r.status_code == 302
        assert Breach.objects.get().kind == "exit"
        # refused: an entry by someone already inside, shown on the page with 400
        r = c.post(f"/keyplaces/{home.pk}/do/move/", {"move-person": newcomer.pk, "move-direction": "entry",
                                                      "move-reason": "other"})
        assert r.status_code == 400 and "已" in r.content.decode() or "already" in r.content.decode()
        r = c.post(f"/keyplaces/{home.pk}/do/status/", {"status-status": "open", "status-reason": ""})
        assert r.status_code == 400
        r = c.post(f"/keyplaces/{home.pk}/do/nothing/", {})
        assert r.status_code == 404
    assert Movement.objects.filter(on=day(3)).count() == 3


def test_command_view_lists_overdue_items_and_filters(home, market, running, commander):
    c = client_for(commander)
    with today(4):
        html = c.get("/keyplaces/").content.decode()
        assert "五泉养老院" in html and "白银路市场" in html
        html = c.get("/keyplaces/?problems=1").content.decode()
        assert "五泉养老院" in html and "白银路市场" not in html
        html = c.get("/keyplaces/?kind=market").content.decode()
        assert "五泉养老院" not in html and "白银路市场" in html
        assert c.get("/keyplaces/?kind=../../x&status=zzz&q=%00").status_code in (200, 400)
        r = c.get("/keyplaces/export/?format=csv")
        assert r.status_code == 200
        body = b"".join(r.streaming_content).decode("utf-8-sig")
        line = [x for x in body.splitlines() if "NH1" in x][0]
        # capacity 120; 2 listed inside, 1 staff; none due today, 2 past their test (due day 1, overdue from
        # day 2); nobody past rotation (day 8); no breach
        assert line.endswith(",2022-11-09,120,2,1,0,2,0,0,0")


def test_scoping_manager_sees_only_their_compound(home, market, running, manager, outsider, worker, auditor):
    with today():
        assert client_for(manager).get(f"/keyplaces/{market.pk}/").status_code == 404
        html = client_for(manager).get("/keyplaces/").content.decode()
        assert "五泉养老院" in html and "白银路市场" not in html
        # community B's worker: the nursing home is not theirs (404), community A's may read but not write
        assert client_for(outsider).get(f"/keyplaces/{home.pk}/").status_code == 404
        assert "五泉养老院" not in client_for(outsider).get("/keyplaces/").content.decode()
        page = client_for(worker).get(f"/keyplaces/{home.pk}/")
        assert page.status_code == 200 and "护工甲" not in without_random_tokens(page.content.decode())
        assert client_for(worker).post(f"/keyplaces/{home.pk}/do/test/", {}).status_code == 403
        assert client_for(auditor).get(f"/keyplaces/{home.pk}/").status_code == 200
        assert client_for(None).get("/keyplaces/").status_code == 302


def test_new_place_page_and_flagged_closure(market, commander, city):
    c = client_for(commander)
    with today():
        r = c.post("/keyplaces/new/", {"ref": "PH1", "name": "五泉药房", "kind": "pharmacy", "area": city["unit_a"].path,
                                       "capacity": 0, "test_every_days": 1, "monitor_days": 7})
        assert r.status_code == 302
        r = c.post("/keyplaces/new/", {"ref": "PH2", "name": "x", "kind": "pharmacy", "area": "不存在",
                                       "capacity": 0, "test_every_days": 1, "monitor_days": 7})
        assert r.status_code == 400
        r = c.post(f"/keyplaces/{market.pk}/do/status/", {"status-status": "closed", "status-reason": "消杀"})
        assert r.status_code == 302
    assert Flag.objects.get().rule == "nine-prohibitions-9"
