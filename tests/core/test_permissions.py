"""The one role x capability table (``core.access.ROLE_CAPS``), enumerated.

- every page (Django URL resolver) and every API operation (ninja routers) declares a capability, so a new
  route cannot skip it;
- docs/permissions.md is the table's rendering (``python -m cordon.config.permdoc > docs/permissions.md``);
- for each demo role (README's accounts table, with the demo jurisdictions), every page and every API
  operation, lists included, answers as the table says: 403 without the capability, and with it 200 for a
  read (404 where the record lies outside that role's jurisdiction), never 403 for a write;
- the least-privilege cases of MISSION.md one by one, and the navigation and link drawing built from it.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from django.db import transaction

from cordon.core import access
from tests.core.test_api_scoping import ROUTES, _body, _call, _fill, city  # noqa: F401 - the fixture, reused

DOC = Path(__file__).resolve().parents[2] / "docs" / "permissions.md"

#: README's demo accounts: role -> the key of its jurisdiction in the ``city`` fixture (None: the whole city).
DEMO_ROLES = {
    "commander": None,
    "district_officer": "district",
    "street_officer": "street",
    "community_worker": "community_a",
    "hotline_operator": None,
    "medical_dispatcher": None,
    "logistics_officer": None,
    "keyplace_manager": "compound_a",
    "employer_contact": None,
    "checkpoint_officer": "district",
    "volunteer": "community_a",
    "auditor": None,
}


def _as_role(role, city):
    from cordon.core.actions import do_create_user
    from tests.conftest import PASSWORD, client_for

    key = DEMO_ROLES[role]
    user, _ = do_create_user(f"demo-{role}", PASSWORD, role=role, area=city[key] if key else None, actor="test")
    return user, client_for(user)


@pytest.fixture
def world(city, tmp_path):
    """The API scoping records plus what the pages need: the compound of unit A (the key-place manager's
    jurisdiction), an imported count series and a published bulletin."""
    from cordon.core import clock
    from cordon.places.models import Area
    from cordon.situation import actions as sa
    from cordon.situation.models import DailyCount

    DailyCount.objects.create(series="demo-series", day=clock.today() - dt.timedelta(days=1), new_local=3,
                              community=1, in_control=2, split_known=True, imported_at=clock.now())
    day = clock.today() - dt.timedelta(days=1)
    b = sa.do_draft_bulletin(day, actor="test")
    sa.do_approve_bulletin(b, actor="test-deputy")  # a second person approves
    sa.do_publish_bulletin(b, actor="test")
    return {**city, "compound_a": Area.objects.get(path="城关区/皋兰路街道/五泉社区/五泉小区"), "bulletin_day": day,
            "upload_a": _upload(city["community_a"], tmp_path)}


def _upload(area, folder: Path):
    """A finished upload of community A with its report of bad rows (the "Files in" pages read one), its files in
    the test's own temporary folder (removed by pytest)."""
    from cordon.core.models import Upload

    (folder / "errors.csv").write_text("line,field,reason\n3,id_number,bad check character\n", encoding="utf-8")
    u = Upload(kind="residents", name="a.csv", path=str(folder / "a.csv"), sha256="0" * 64, size=10,
               user_name="test", status="done", errors=1, report=str(folder / "errors.csv"), counts={"rows": 2})
    u.set_scope_from(area)
    u.save()
    return u


# ------------------------------------------------------------------------------------------ declarations

def test_every_page_declares_a_capability():
    from cordon.config.permdoc import pages

    found = pages()
    assert len(found) > 60
    missing = [(name, path) for name, path, cap in found if cap is None]
    assert not missing, f"pages without access.require(cap) / access.public: {missing}"
    known = set(access.CAPABILITIES) | {access.PUBLIC, access.SIGNED_IN}
    assert {cap for _n, _p, cap in found} <= known


def test_every_api_operation_declares_a_capability():
    from cordon.config.permdoc import operations

    ops = operations()
    assert len(ops) == len(ROUTES)  # the scoping test's route list, which itself covers the OpenAPI paths
    missing = [(m, p) for m, p, _n, cap in ops if cap is None]
    assert not missing, f"API operations left out of access.declare_operations: {missing}"
    assert {cap for *_r, cap in ops} <= set(access.CAPABILITIES) | {access.SIGNED_IN}


def test_an_undeclared_operation_stops_the_start_up():
    from ninja import Router

    r = Router()

    @r.get("/x")
    def x(request):
        return {}

    @r.get("/y")
    def y(request):
        return {}

    with pytest.raises(LookupError, match="y"):
        access.declare_operations(r, {"x": access.VIEW})
    with pytest.raises(LookupError, match="nothing"):
        access.declare_operations(Router(), {"nothing": access.VIEW})
    with pytest.raises(ValueError):
        access.require("no_such_capability")


def test_the_document_is_the_table():
    from cordon.config.permdoc import render

    text = render()
    assert DOC.read_text(encoding="utf-8") == text, (
        "docs/permissions.md differs from core.access: run `python -m cordon.config.permdoc > docs/permissions.md`")
    # and the table in it says what ROLE_CAPS says, row by row
    roles = list(access.ROLE_CAPS)
    for line in text.splitlines():
        if line.startswith("| `") and line.count("|") == len(roles) + 3:
            cells = [c.strip() for c in line.strip("|").split("|")]
            cap = cells[0].strip("`")
            assert {r for r, mark in zip(roles, cells[2:]) if mark == "✓"} == \
                {r for r in roles if cap in access.ROLE_CAPS[r]}


def test_every_role_and_capability_is_known():
    from cordon.core.models import Role

    assert set(access.ROLE_CAPS) == set(Role.values) == set(DEMO_ROLES)
    for role, caps in access.ROLE_CAPS.items():
        assert caps <= set(access.CAPABILITIES), role
    # the auditor is read-only: no capability that changes anything
    writes = {c for c in access.CAPABILITIES if c.endswith((".write", ".create", ".dispatch", ".special",
                                                             ".roster", ".deliver"))} | {access.COMMAND, access.UNMASK,
                                                                             access.MANAGE_USERS}
    assert not access.ROLE_CAPS["auditor"] & writes


# ------------------------------------------------------------------------------------------ the matrix

def _page_kwargs(world) -> dict:
    """URL kwargs per page: records of unit A (in every demo role's jurisdiction) where the page reads one;
    any id where the page only takes a POST (the capability is checked before the method)."""
    return {
        "area_detail": {"pk": world["unit_a"].pk},
        "resident_detail": {"pk": world["resident_a"].pk},
        "care_request": {"pk": world["request_a"].pk},
        "care_request_action": {"pk": world["request_a"].pk, "action": "retriage"},
        "care_new_reference": {"what": "vehicle"},
        "care_needs": {"pk": world["resident_a"].pk},
        "care_task_done": {"pk": 1},
        "cases_infection": {"pk": world["infection_a"].pk},
        "cases_infection_action": {"pk": world["infection_a"].pk, "action": "contact"},
        "cases_task_action": {"pk": 1, "action": "note"},
        "cases_order": {"pk": world["order_a"].pk},
        "cases_checkin": {"pk": 1},
        "cases_facility": {"pk": world["facility_a"].pk},
        "cases_facility_admit": {"pk": 1},
        "cases_discharge": {"pk": 1},
        "cases_arrival_test": {"pk": 1},
        "hotline_ticket": {"pk": world["ticket_a"].pk},
        "hotline_ticket_action": {"pk": 1, "action": "respond"},
        "hotline_shift_remove": {"pk": 1},
        "screening_detail": {"pk": world["round_a"].pk},
        "screening_refresh": {"pk": 1},
        "screening_close": {"pk": 1},
        "screening_missing": {"pk": world["round_a"].pk, "area_id": world["unit_a"].pk},
        "screening_retest": {"member_id": 1},
        "situation_district": {"pk": world["district"].pk},
        "situation_daily": {"day": world["today"].isoformat()},
        "situation_day_close": {"day": world["today"].isoformat(), "district_id": world["district"].pk},
        "situation_counts_detail": {"name": "demo-series"},
        "situation_bulletin": {"day": world["bulletin_day"].isoformat()},
        "public_bulletin": {"day": world["bulletin_day"].isoformat()},
        "supplies_issue": {"pk": 1},
        "supplies_delivery_action": {"pk": 1, "action": "delivered"},
        "supplies_action": {"action": "move"},
        "supplies_new": {"what": "item"},
        "zones_detail": {"pk": world["designation_a"].pk},
        "upload_detail": {"pk": world["upload_a"].pk},
        "upload_progress": {"pk": world["upload_a"].pk},
        "upload_report": {"pk": world["upload_a"].pk},
        "zones_action": {"pk": 1, "action": "keep"},
        "zones_proposal_confirm": {"pk": 1},
        "zones_proposal_dismiss": {"pk": 1},
        "places_print_visit": {"pk": world["unit_a"].pk},
        "screening_print_latest": {"area_id": world["unit_a"].pk},
        "screening_missing_export": {"pk": world["round_a"].pk, "area_id": world["unit_a"].pk},
        "screening_missing_print": {"pk": world["round_a"].pk, "area_id": world["unit_a"].pk},
        "screening_recall_export": {"pk": world["round_a"].pk},
        "supplies_deliveries_print": {"building_id": world["unit_a"].parent_id},
        "account_token_revoke": {"pk": 1},
        "cases_order_extend": {"pk": world["order_a"].pk},
        "resident_new": {"pk": world["unit_a"].pk},
        "resident_edit": {"pk": world["resident_a"].pk},
        "keyworkers_detail": {"pk": world["keyworker_a"].pk},
        "keyworkers_employer_contact": {"pk": world["employer_a"].pk},
        "passes_detail": {"pk": world["pass_a"].pk},
        "passes_revoke": {"pk": world["pass_a"].pk},
        "passes_assign": {"pk": world["delivery_a"].pk},
        "keyplaces_place": {"pk": world["keyplace_a"].pk},
        "keyplaces_action": {"pk": world["keyplace_a"].pk, "action": "test"},
        "playbooks_detail": {"key": "seal_unit"},
        "resources_person": {"pk": world["volunteer_a"].pk},
        "resources_person_assign": {"pk": 1},
        "resources_shift_cancel": {"pk": 1},
        "resources_lab_capacity": {"pk": world["lab_compound_a"].pk},
        "command_order": {"pk": world["command_a"].pk},
        "command_matrix_export": {"pk": world["command_a"].pk},
        "command_order_action": {"pk": world["command_a"].pk, "action": "revise"},
        "command_inbox_item": {"pk": world["recipient_a"].pk},
        "command_inbox_action": {"pk": world["recipient_a"].pk, "action": "acknowledge"},
    }


#: (role, URL name or API route) whose record lies above the role's jurisdiction: 404 although the role
#: holds the capability. The district's situation page is outside a street's, a community's and a compound's
#: jurisdiction.
OUTSIDE = {
    ("keyplace_manager", "situation_district"),
    ("street_officer", "situation_district"),
    ("community_worker", "situation_district"),
    # an employer contact linked to no employer sees no key worker and no employer
    ("employer_contact", "keyworkers_detail"),
    ("employer_contact", "keyworkers_employer_contact"),
    ("employer_contact", ("GET", "/api/keyworkers/workers/{worker_id}")),
    ("employer_contact", ("POST", "/api/keyworkers/workers")),
    ("employer_contact", ("POST", "/api/keyworkers/workers/{worker_id}/samples")),
    # employers are the city's records: set up by city, district and street staff
    ("employer_contact", ("POST", "/api/keyworkers/employers")),
    ("employer_contact", ("POST", "/api/keyworkers/employers/{employer_id}/contacts")),
    ("community_worker", ("POST", "/api/keyworkers/employers")),
    ("community_worker", ("POST", "/api/keyworkers/employers/{employer_id}/contacts")),
    # orders go to communities here: below them, a compound's key-place manager reads none of theirs
    ("keyplace_manager", "command_order"),
    ("keyplace_manager", "command_inbox_item"),
    ("keyplace_manager", ("GET", "/api/command-inbox/{recipient_id}")),
    # the city's order is above a district officer's sending jurisdiction (they see it as a recipient)
    ("district_officer", "command_matrix_export"),
    ("district_officer", ("GET", "/api/commands/{order_id}")),
    ("district_officer", ("GET", "/api/commands/{order_id}/matrix")),
}

#: The phone's reads of one device, asked with no device of the caller's: past the capability check they answer
#: 410 (the phone wipes) for an unknown device and 400 for the slice without its ``device`` query.
DEVICE_READS = {("GET", "/api/phone/devices/{device_id}"): 410, ("GET", "/api/phone/slice"): 400}

#: Pages that answer a GET with a redirect when open (to today's report; home for a signed-in user; the map to
#: select what to designate).
REDIRECTS = {"situation_daily_today", "logout", "login", "screening_print_latest", "maps_designate"}


def _expect(role, cap) -> bool:
    """Does the table give ``role`` the capability (read straight from ROLE_CAPS, not through the code)?"""
    if cap in (access.PUBLIC, access.SIGNED_IN):
        return True
    return cap in access.ROLE_CAPS[role]


@pytest.mark.parametrize("role", list(DEMO_ROLES))
def test_pages_answer_as_the_table_says(role, world):
    from django.urls import reverse

    from cordon.config.permdoc import pages

    user, client = _as_role(role, world)
    kwargs = _page_kwargs(world)
    wrong = []
    for name, _path, cap in pages():
        if name in ("logout", "set_language"):
            continue
        url = reverse(name, kwargs=kwargs.get(name))
        with transaction.atomic():
            r = client.get(url)
            transaction.set_rollback(True)
        if not _expect(role, cap):
            ok = r.status_code == 403
        elif (role, name) in OUTSIDE:
            ok = r.status_code == 404
        elif name in REDIRECTS:
            ok = r.status_code == 302
        else:
            # open: 200, or 405 for a page that only takes a POST (its capability was checked first)
            ok = r.status_code in (200, 405) and not (r.status_code == 405 and "POST" not in r.get("Allow", ""))
        if not ok:
            wrong.append((name, cap, r.status_code))
    assert not wrong, f"{role}: pages not answering as the table says (name, capability, status): {wrong}"


@pytest.mark.parametrize("role", list(DEMO_ROLES))
def test_api_answers_as_the_table_says(role, world):
    from cordon.config.permdoc import operations

    caps = {(m, p): cap for m, p, _n, cap in operations()}
    user, client = _as_role(role, world)
    wrong = []
    for route, spec in sorted(ROUTES.items()):
        method, template = route
        cap = caps[route]
        path = _fill(template, spec.get("params", {}), world)
        with transaction.atomic():
            r = _call(client, method, path, _body(spec, world) if method != "GET" else None)
            transaction.set_rollback(True)
        if not _expect(role, cap):
            ok = r.status_code == 403
        elif (role, route) in OUTSIDE:
            ok = r.status_code == 404
        elif route in DEVICE_READS:
            ok = r.status_code == DEVICE_READS[route]
        elif method == "GET":
            ok = r.status_code == 200
        else:
            ok = r.status_code not in (401, 403) and r.status_code < 500
        if not ok:
            wrong.append((method, template, cap, r.status_code))
    assert not wrong, f"{role}: API not answering as the table says (method, path, capability, status): {wrong}"


def test_a_refused_api_write_does_not_read_its_body(world):
    """Without the capability the answer is 403 before the body is validated (a role learns nothing from
    validation errors), and 401 still comes first for an anonymous caller."""
    from django.test import Client

    _user, client = _as_role("hotline_operator", world)
    r = client.post(f"/api/care/requests/{world['request_a'].pk}/retriage", data="not json",
                    content_type="application/json")
    assert r.status_code == 403
    assert Client().post(f"/api/care/requests/{world['request_a'].pk}/retriage", data="{}",
                         content_type="application/json").status_code == 401


# ------------------------------------------------------------------------------------------ least privilege

def test_hotline_operator_reads_no_resident_infection_or_contact(world):
    _user, c = _as_role("hotline_operator", world)
    for url in (f"/residents/{world['resident_a'].pk}/", f"/cases/infections/{world['infection_a'].pk}/",
                "/cases/contacts/", "/cases/", "/cases/arrivals/", f"/care/special/{world['resident_a'].pk}/",
                "/care/special/", f"/api/residents/{world['resident_a'].pk}", "/api/residents",
                f"/api/infections/{world['infection_a'].pk}", "/api/orders", "/api/infections",
                f"/api/areas/{world['unit_a'].pk}/households"):
        assert c.get(url).status_code == 403, url
    # the unit's page opens (operational) but without its households and residents
    page = c.get(f"/areas/{world['unit_a'].pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert world["resident_a"].name not in html and "王*" not in html
    assert f"/residents/{world['resident_a'].pk}/" not in html


def test_hotline_operator_creates_care_requests_but_does_not_dispatch(world):
    from cordon.care.models import CareRequest, Status

    _user, c = _as_role("hotline_operator", world)
    r = c.post("/api/care/requests", data={"area_id": world["unit_a"].pk, "person": "来电人", "need": "critical"},
               content_type="application/json")
    assert r.status_code == 201, r.content
    req = world["request_a"]
    before = CareRequest.objects.get(pk=req.pk)
    for action, body in (("retriage", {"priority": "critical", "reason": "worse"}),
                         ("dispatch", {"vehicle_id": world["desk_vehicle"].pk,
                                       "hospital_id": world["desk_hospital"].pk}),
                         ("advance", {"to": "arrived"}), ("close", {"outcome": "cancelled", "confirmed_by": "x"})):
        assert c.post(f"/api/care/requests/{req.pk}/{action}", data=body,
                      content_type="application/json").status_code == 403, action
        page = c.post(f"/care/requests/{req.pk}/{action}/", {f"{action}-reason": "x"})
        assert page.status_code == 403, action
    after = CareRequest.objects.get(pk=req.pk)
    assert (after.status, after.priority_key) == (before.status, before.priority_key)
    assert after.status != Status.CLOSED
    # the request page opens, without the dispatcher's forms
    html = c.get(f"/care/requests/{req.pk}/").content.decode()
    assert f"/care/requests/{req.pk}/retriage/" not in html and f"/care/requests/{req.pk}/dispatch/" not in html
    # the page form for a new request works too
    assert c.get("/care/new/").status_code == 200


def test_action_refuses_a_hotline_operator_even_if_called_directly(world):
    from cordon.care import actions as ca

    user, _c = _as_role("hotline_operator", world)
    with pytest.raises(access.Forbidden):
        ca.do_retriage_request(world["request_a"], priority="critical", actor=user, reason="worse")


def test_community_worker_cannot_change_the_hotline_roster(world):
    from django.utils import timezone

    from cordon.hotline import actions as ha
    from cordon.hotline.models import Shift

    start = timezone.now() + dt.timedelta(hours=1)
    shift = ha.do_add_shift(operator_name="值班员", starts=start, ends=start + dt.timedelta(hours=8), actor="test")
    _w, worker = _as_role("community_worker", world)
    page = worker.get("/hotline/roster/")
    assert page.status_code == 200 and f"/hotline/roster/{shift.pk}/remove/" not in page.content.decode()
    n = Shift.objects.count()
    assert worker.post("/hotline/roster/", {"operator_name": "x", "starts": start.strftime("%Y-%m-%dT%H:%M"),
                                            "ends": (start + dt.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")
                                            }).status_code == 403
    assert worker.post(f"/hotline/roster/{shift.pk}/remove/").status_code == 403
    assert Shift.objects.count() == n
    # a district officer (not the whole city) may not either; the hotline operator may
    _d, district = _as_role("district_officer", world)
    assert district.post(f"/hotline/roster/{shift.pk}/remove/").status_code == 403
    _h, hotline = _as_role("hotline_operator", world)
    assert hotline.post(f"/hotline/roster/{shift.pk}/remove/").status_code == 302
    assert Shift.objects.count() == n - 1


def test_logistics_officer_reads_no_residents(world):
    _user, c = _as_role("logistics_officer", world)
    assert c.get("/supplies/").status_code == 200
    for url in (f"/residents/{world['resident_a'].pk}/", "/api/residents", f"/cases/infections/{world['infection_a'].pk}/",
                "/cases/contacts/", "/care/special/", "/care/", "/hotline/"):
        assert c.get(url).status_code == 403, url


def test_auditor_reads_but_changes_nothing(world):
    _user, c = _as_role("auditor", world)
    assert c.get(f"/residents/{world['resident_a'].pk}/").status_code == 200
    assert c.get(f"/cases/infections/{world['infection_a'].pk}/").status_code == 200
    assert c.get("/audit/").status_code == 200
    assert c.post(f"/residents/{world['resident_a'].pk}/", {"field": "phone", "reason": "x"}).status_code == 403
    assert c.post("/api/infections", data={"label": "X", "home_id": world["unit_a"].pk},
                  content_type="application/json").status_code == 403


def test_keyplace_manager_sees_only_operational_pages(world):
    _user, c = _as_role("keyplace_manager", world)
    assert c.get("/zones/").status_code == 200
    assert c.get(f"/areas/{world['unit_a'].pk}/").status_code == 200
    for url in (f"/residents/{world['resident_a'].pk}/", "/cases/", "/care/", "/hotline/", "/supplies/",
                "/audit/", "/situation/daily/2020-01-01/?format=pdf"):
        assert c.get(url).status_code == 403, url


def test_export_needs_the_capability(world):
    _user, hotline = _as_role("hotline_operator", world)
    day = world["today"].isoformat()
    assert hotline.get(f"/situation/daily/{day}/").status_code == 200
    assert hotline.get(f"/situation/daily/{day}/?format=json").status_code == 403
    _a, auditor = _as_role("auditor", world)
    assert auditor.get(f"/situation/daily/{day}/?format=json").status_code == 200


def test_createuser_validates_the_role_against_the_table(world, capsys):
    from cordon.cli import main

    assert main(["createuser", "x1", "--role", "dispatcher", "--area", "*", "--password", "long-enough-pass"]) == 1
    assert "medical_dispatcher" in capsys.readouterr().err
    assert main(["createuser", "x2", "--role", "medical_dispatcher", "--area", "*",
                 "--password", "long-enough-pass"]) == 0


def test_report_export_needs_the_capability(world, tmp_path, capsys):
    from cordon.cli import main

    _as_role("hotline_operator", world)
    out = tmp_path / "r.json"
    assert main(["report", "daily", "--as", "demo-hotline_operator", "--format", "json", "--out", str(out)]) == 2
    assert "export" in capsys.readouterr().err and not out.exists()


# ------------------------------------------------------------------------------------------ navigation, links

@pytest.mark.parametrize("role", list(DEMO_ROLES))
def test_navigation_shows_only_what_opens(role, world):
    import re

    from cordon.web.context import NAV

    _user, c = _as_role(role, world)
    html = c.get("/").content.decode()
    nav = html[html.find("<nav"):html.find("</nav>")] if "<nav" in html else html
    shown = set(re.findall(r'href="([^"]+)"', nav))
    from django.urls import reverse

    for name, _label, _prefixes, cap in NAV:
        url = reverse(name)
        assert (url in shown) == _expect(role, cap), (role, name, cap)
        if url in shown:
            assert c.get(url).status_code == 200, (role, url)


def test_links_are_drawn_only_to_pages_that_open(world):
    """A contact of an infection in community A who lives in community B: the worker of community B sees the
    contact but no link to the infection (404 for them); the street officer sees the link."""
    from cordon.cases import actions as ca
    from cordon.core.actions import do_create_user
    from tests.conftest import PASSWORD, client_for

    ca.do_register_contact(world["infection_a"], label="C-KB", last_exposure=world["yesterday"],
                           identified_on=world["today"], home=world["unit_b"], actor="test")
    worker_b, _ = do_create_user("worker-b2", PASSWORD, role="community_worker", area=world["community_b"],
                                 actor="test")
    c = client_for(worker_b)
    html = c.get("/cases/contacts/").content.decode()
    assert "C-KB" in html
    link = f"/cases/infections/{world['infection_a'].pk}/"
    assert link not in html
    assert c.get(link).status_code == 404
    _s, street = _as_role("street_officer", world)
    assert link in street.get("/cases/contacts/").content.decode()


def test_can_tag_checks_capability_and_jurisdiction(world):
    from django.template import Context, Template
    from django.test import RequestFactory

    from cordon.core.actions import do_create_user
    from tests.conftest import PASSWORD

    worker_b, _ = do_create_user("worker-b3", PASSWORD, role="community_worker", area=world["community_b"],
                                 actor="test")
    hotline, _c = _as_role("hotline_operator", world)
    t = Template('{% load cordon_web %}{% can "read_health" inf as ok %}{{ ok }}|{% can "view" as v %}{{ v }}')
    for user, expected in ((worker_b, "False|True"), (hotline, "False|True")):
        req = RequestFactory().get("/")
        req.user = user
        assert t.render(Context({"request": req, "inf": world["infection_a"]})) == expected
    _s, _c2 = _as_role("street_officer", world)
    req = RequestFactory().get("/")
    req.user = _s
    assert t.render(Context({"request": req, "inf": world["infection_a"]})) == "True|True"
