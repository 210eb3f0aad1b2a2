"""Resources pages as every role in Chinese and English: the day's assignments with the gaps, people, teams,
vehicles, labs, areas; the forms (register, plan, cancel, assign, capacity), scoping and masking."""
from __future__ import annotations


import pytest

from cordon.core.models import AuditEntry
from cordon.resources.models import Person, Shift
from tests.conftest import _user
from tests.resources._rfixtures import res  # noqa: F401

pytestmark = pytest.mark.django_db

PAGES = ["/resources/", "/resources/people/", "/resources/teams/", "/resources/vehicles/", "/resources/labs/",
         "/resources/areas/"]
READERS = ["commander", "district_officer", "street_officer", "community_worker", "medical_dispatcher",
           "logistics_officer", "auditor"]
NOT_READERS = ["hotline_operator", "keyplace_manager", "employer_contact", "checkpoint_officer"]


def lang(client, code):
    client.cookies["django_language"] = code
    return client


def _role_user(role, city):
    area = None if role in ("commander", "auditor") else {
        "district_officer": city["district"], "street_officer": city["street"]}.get(role, city["community_a"])
    return _user(f"u_{role}", role, area)


@pytest.mark.parametrize("role", READERS)
def test_pages_for_readers_in_both_languages(city, res, as_user, role):
    user = _role_user(role, city)
    for code in ("zh-hans", "en"):
        c = lang(as_user(user), code)
        for url in PAGES:
            r = c.get(url)
            assert r.status_code == 200, (role, url, r.status_code)
    body = lang(as_user(user), "en").get("/resources/").content.decode()
    assert "Sealed buildings with no volunteer on duty" in body
    assert "城关区/皋兰路街道/五泉社区/五泉小区/6号楼" in body and "staff only" in body
    assert "赵**" in body and "赵志愿" not in body  # names masked on the day's list
    zh = lang(as_user(user), "zh-hans").get("/resources/").content.decode()
    assert "无志愿者在岗的封控楼栋" in zh and "谁在哪里值守" in zh


@pytest.mark.parametrize("role", NOT_READERS)
def test_pages_refused_to_other_roles(city, res, as_user, role):
    c = as_user(_role_user(role, city))
    assert [c.get(u).status_code for u in PAGES] == [403] * len(PAGES)


def test_lab_page_flags_over_and_near(city, res, commander, as_user):
    body = lang(as_user(commander), "en").get("/resources/labs/").content.decode()
    assert "120 tubes / capacity 100" in body and "over capacity" in body
    assert "55 tubes / capacity 60" in body and "near capacity" in body


def test_outsider_sees_only_community_b(city, res, outsider, as_user):
    c = lang(as_user(outsider), "en")
    body = c.get("/resources/people/").content.decode()
    assert "孙**" in body and "赵**" not in body
    assert "6号楼" not in c.get("/resources/").content.decode()
    assert c.get(f"/resources/people/{res['volunteer_a'].pk}/").status_code == 404


def test_people_filters_and_person_page(city, res, commander, as_user):
    c = lang(as_user(commander), "en")
    body = c.get("/resources/people/?skill=first_aid").content.decode()
    assert "赵**" in body and "钱**" not in body
    body = c.get("/resources/people/?kind=staff").content.decode()
    assert "钱**" in body and "赵**" not in body
    page = c.get(f"/resources/people/{res['volunteer_a'].pk}/").content.decode()
    assert "139****1111" in page and "First aid" in page and "五泉志愿队" in page


def test_register_plan_assign_and_cancel_as_a_street_officer(city, res, as_user):
    officer = _user("street_a", "street_officer", city["street"])
    c = lang(as_user(officer), "en")
    r = c.post("/resources/people/new/", {"name": "李志愿", "kind": "volunteer", "area": city["community_a"].path,
                                          "phone": "13900003333", "skills": ["sampling"], "team": ""})
    assert r.status_code == 302
    p = Person.objects.get(name="李志愿")
    e = AuditEntry.objects.filter(action="resources_person.create").latest("id")
    assert e.after["phone"] == "139****3333" and "李志愿" not in e.object_repr
    on = res["today"]
    r = c.post("/resources/shifts/new/", {"area": res["unit_a2"].path, "on": on.isoformat(), "start": "20:00",
                                          "end": "08:00", "people": [str(p.pk)], "team": "", "van": ""})
    assert r.status_code == 302
    assert "6号楼" not in c.get("/resources/").content.decode().split('id="gaps"')[1].split("</section>")[0]
    r = c.post("/resources/shifts/new/", {"area": res["unit_a2"].path, "on": on.isoformat(), "start": "08:00",
                                          "end": "08:00", "people": [str(p.pk)]})
    assert r.status_code == 400 and "a shift ends at another time than it starts" in r.content.decode()
    r = c.post("/resources/shifts/new/", {"area": "城关区/不存在", "on": on.isoformat(), "start": "08:00",
                                          "end": "09:00", "people": [str(p.pk)]})
    assert r.status_code == 400 and "No such area in your jurisdiction" in r.content.decode()
    s = Shift.objects.get(people=p)
    assert c.post(f"/resources/shifts/{s.pk}/cancel/", {"reason": "rain"}).status_code == 302
    s.refresh_from_db()
    assert s.cancelled and AuditEntry.objects.get(action="resources_shift.cancel").reason == "rain"
    r = c.post(f"/resources/people/{p.pk}/assign/", {"team": str(res["team_a"].pk), "active": "on", "reason": "x"})
    p.refresh_from_db()
    assert r.status_code == 302 and p.team == res["team_a"]
    r = c.post(f"/resources/labs/{res['lab_compound_a'].pk}/capacity/", {"tubes_per_day": "80", "reason": "more"})
    assert r.status_code == 302
    # the district lab lies above the street officer: not theirs to read or change
    assert c.post(f"/resources/labs/{res['lab_a'].pk}/capacity/", {"tubes_per_day": "80"}).status_code == 404


def test_day_page_area_box_takes_part_of_a_path(city, res, commander, outsider, as_user):
    """The day page's area box, like the other lists' search boxes, takes part of an address path: typing "5号楼"
    or "五泉" lists the shifts there, a text matching no path lists none (it answered "page not found" to
    anything but a whole path or an id); a whole path or an id still names the area, the export follows."""
    c = lang(as_user(commander), "en")
    for value, shown, hidden in (("5号楼", "5号楼", "6号楼"), ("五泉", "5号楼", None),
                                 (res["unit_a2"].path, "6号楼", "5号楼"), (str(res["unit_a2"].pk), "6号楼", "5号楼"),
                                 ("不存在的楼", None, "号楼")):
        r = c.get("/resources/", {"area": value})
        assert r.status_code == 200, value
        shifts = r.content.decode().split('id="shifts-h"')[1]
        assert (shown is None or shown in shifts) and (hidden is None or hidden not in shifts), value
        assert shown is not None or "No shifts on this day." in shifts
    r = c.get("/resources/shifts/export/", {"area": "6号楼", "format": "csv"})
    assert r.status_code == 200 and r["X-Rows"] == "1"
    # part of a path never reaches outside the viewer's jurisdiction
    page = lang(as_user(outsider), "en").get("/resources/", {"area": "五泉"})
    assert page.status_code == 200 and "号楼" not in page.content.decode().split('id="shifts-h"')[1]


def test_community_worker_reads_but_does_not_write(city, res, worker, as_user):
    c = as_user(worker)
    assert "/resources/shifts/new/" not in c.get("/resources/").content.decode()
    assert c.get("/resources/shifts/new/").status_code == 403
    assert c.post(f"/resources/shifts/{res['shift_a'].pk}/cancel/", {"reason": "x"}).status_code == 403


def test_areas_page_counts(city, res, commander, as_user):
    c = lang(as_user(commander), "en")
    body = c.get(f"/resources/areas/?area={city['street'].pk}").content.decode()
    assert "五泉社区" in body and "白银路社区" in body
    from cordon.resources import queries

    rows = {r["area"].name: r for r in queries.area_summary(queries.Within.of(commander), city["street"],
                                                             res["today"])}
    a, b = rows["五泉社区"], rows["白银路社区"]
    assert (a["volunteers"], a["staff"], a["teams"], a["vans"], a["shifts"], a["on_duty"]) == (1, 1, 1, 1, 2, 2)
    assert (b["volunteers"], b["staff"], b["teams"], b["vans"], b["shifts"], b["on_duty"]) == (1, 0, 0, 0, 0, 0)


def test_exports(city, res, commander, as_user):
    c = as_user(commander)
    r = c.get("/resources/people/export/?format=csv")
    text = b"".join(r.streaming_content).decode("utf-8-sig") if r.streaming else r.content.decode("utf-8-sig")
    assert r.status_code == 200 and "赵**" in text and "139****1111" in text and "赵志愿" not in text
    r = c.get(f"/resources/shifts/export/?format=csv&on={res['today'].isoformat()}")
    text = b"".join(r.streaming_content).decode("utf-8-sig") if r.streaming else r.content.decode("utf-8-sig")
    assert r.status_code == 200 and text.count("五泉小区") == 2
