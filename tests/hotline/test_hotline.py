"""Hotline desk: deadlines per category and escalation (frozen clock), routing by location and category,
close needs feedback, duplicates, roster gaps, the public form (no login, CSRF, rate limit, own ticket only)."""
from __future__ import annotations

import datetime as dt

import pytest

from cordon.core import clock
from cordon.core.actions import ActionError
from cordon.hotline import actions as ha
from cordon.hotline import queries as hq
from cordon.hotline.models import Ticket, TicketEvent

pytestmark = pytest.mark.django_db


def at(h, m=0, day=8):
    return clock.frozen(dt.datetime(2022, 11, day, h, m, tzinfo=clock.tz()))


def new(city, category="supplies", phone="13909310001", h=8, m=0, day=8, **kw):
    with at(h, m, day):
        return ha.do_create_ticket(phone=phone, category=category, text=kw.pop("text", "help"),
                                   area=kw.pop("area", city["unit_a"]), actor="test", **kw)


@pytest.mark.parametrize("category,first,resolve", [("medical", 15, 120), ("supplies", 120, 1440),
                                                    ("complaint", 1440, 4320), ("lift_question", 1440, 4320)])
def test_deadlines_per_category(city, category, first, resolve):
    t = new(city, category)
    base = dt.datetime(2022, 11, 8, 8, 0, tzinfo=clock.tz())
    assert t.respond_by == base + dt.timedelta(minutes=first)
    assert t.resolve_by == base + dt.timedelta(minutes=resolve)


def test_escalation_levels(city):
    urgent = new(city, "medical")                     # 15 min / 2 h
    supplies = new(city, "supplies", phone="13909310002")  # 2 h / 24 h
    with at(8, 14):
        assert ha.do_escalate_overdue() == 0
    with at(8, 16):
        assert ha.do_escalate_overdue() == 1
    urgent.refresh_from_db()
    assert urgent.escalation == 1
    with at(8, 20):
        ha.do_respond_ticket(supplies, note="called back", actor="test")
    with at(10, 1):
        assert ha.do_escalate_overdue() == 1             # urgent: resolution overdue -> 2
    urgent.refresh_from_db()
    assert urgent.escalation == 2
    with at(12, 1):
        assert ha.do_escalate_overdue() == 1             # urgent: overdue by as long again -> 3
    with at(12, 30):
        assert ha.do_escalate_overdue() == 0             # nothing new; idempotent
    urgent.refresh_from_db()
    supplies.refresh_from_db()
    assert (urgent.escalation, supplies.escalation) == (3, 0)
    assert TicketEvent.objects.filter(ticket=urgent, kind="escalated").count() == 3
    with at(8, 1, day=9):
        ha.do_escalate_overdue()
    supplies.refresh_from_db()
    assert supplies.escalation == 2                   # responded in time, resolution overdue


def test_routing_by_location_and_category(city):
    from cordon.places.actions import do_ensure_area

    t = new(city, "supplies")
    assert t.unit_area == city["community_a"] and t.unit_name == city["community_a"].path
    t = new(city, "complaint", phone="1")  if False else new(city, "complaint")
    assert t.unit_area == city["street"]
    t = new(city, "medical")
    assert t.unit_area is None and "120" in t.unit_name
    with at(8):
        t = ha.do_create_ticket(phone="13909310009", category="other", text="x",
                                location="城关区/皋兰路街道/白银路社区/白银小区/2号楼/1单元/201", actor="test")
    assert t.area == city["unit_b"] and t.unit_area == city["community_b"] and t.community_id == city["community_b"].pk
    with at(8):
        t = ha.do_create_ticket(phone="13909310008", category="other", text="x", location="不知道", actor="test")
    assert t.area is None and t.unit_area is None and "City" in t.unit_name
    assert do_ensure_area


def test_close_only_after_feedback_and_satisfaction(city):
    t = new(city)
    with pytest.raises(ActionError) as e:
        ha.do_close_ticket(t, satisfaction=5, actor="test")
    assert e.value.rule == "hotline-feedback-first"
    ha.do_respond_ticket(t, note="checking", actor="test")
    with pytest.raises(ActionError):
        ha.do_close_ticket(t, actor="test")
    ha.do_record_feedback(t, feedback="delivered at 15:00", actor="test")
    with pytest.raises(ActionError):
        ha.do_close_ticket(t, satisfaction=6, actor="test")
    ha.do_close_ticket(t, satisfaction=4, actor="test")
    t.refresh_from_db()
    assert (t.status, t.satisfaction) == ("closed", 4) and t.closed_at


def test_duplicates(city):
    first = new(city, "supplies", h=8)
    dup = new(city, "supplies", h=20)
    assert dup.status == "duplicate" and dup.duplicate_of == first
    other_cat = new(city, "complaint", h=20)
    assert other_cat.status == "open"
    other_phone = new(city, "supplies", phone="13909310005", h=20)
    assert other_phone.status == "open"
    later = new(city, "supplies", h=8, m=1, day=9)    # more than 24 h after the first
    assert later.status == "open" and later.duplicate_of is None
    ha.do_record_feedback(first, feedback="done", actor="test")
    ha.do_close_ticket(first, actor="test")
    dup.refresh_from_db()
    assert dup.closed_at is not None
    with pytest.raises(ActionError):
        ha.do_close_ticket(dup, actor="test")


def test_roster_gaps(db):
    start = dt.datetime(2022, 11, 8, 0, 0, tzinfo=clock.tz())
    with clock.frozen(start):
        for d in range(7):
            for k in range(3):
                if (d, k) == (3, 1):
                    continue
                s = start + dt.timedelta(days=d, hours=8 * k)
                ha.do_add_shift(operator_name=f"op{k}", starts=s, ends=s + dt.timedelta(hours=8), actor="test")
        gaps = hq.roster_gaps()
    assert gaps == [(start + dt.timedelta(days=3, hours=8), start + dt.timedelta(days=3, hours=16))]
    with clock.frozen(start):
        assert hq.roster_gaps(min_operators=2)[0][0] == start
    with clock.frozen(start + dt.timedelta(hours=12)):
        gaps = hq.roster_gaps()
    assert gaps[-1][1] == start + dt.timedelta(days=7, hours=12)   # beyond the last shift


def test_ticket_pages(city, worker, outsider, as_user):
    t = new(city)
    body = as_user(worker).get("/hotline/").content.decode()
    assert t.number in body and "139****0001" in body and "13909310001" not in body
    assert "not covered around the clock" in body or "未全天" in body or "roster" in body
    assert t.number not in as_user(outsider).get("/hotline/").content.decode()
    assert as_user(outsider).get(f"/hotline/tickets/{t.pk}/").status_code == 404
    c = as_user(worker)
    assert c.post(f"/hotline/tickets/{t.pk}/close/", {"close-satisfaction": "5"}).status_code == 400
    assert c.post(f"/hotline/tickets/{t.pk}/feedback/", {"feedback-feedback": "sent"}).status_code == 302
    assert c.post(f"/hotline/tickets/{t.pk}/close/", {"close-satisfaction": "5"}).status_code == 302
    assert c.get("/hotline/roster/").status_code == 200


def test_assign_api(city, worker, outsider, as_user):
    """POST /api/hotline/tickets/{id}/assign: the assignment page's action for one ticket, by user name: the
    assignee on the ticket and its timeline, audited once; an operator who may not answer the ticket where it is,
    or nobody of that name, is a 400 on ``operator``; a closed ticket a 409; a ticket out of scope a 404."""
    import json

    from cordon.core.actions import do_create_user
    from cordon.core.models import AuditEntry

    t = new(city)
    op, _ = do_create_user("op", "test-pass-2022", role="hotline_operator", area=None)
    c = as_user(worker)

    def assign(client, ticket, **body):
        return client.post(f"/api/hotline/tickets/{ticket.pk}/assign", data=json.dumps(body),
                           content_type="application/json")

    before = AuditEntry.objects.count()
    r = assign(c, t, operator="op", reason="medical desk")
    assert r.status_code == 200 and r.json()["assignee"] == "op", r.content
    t.refresh_from_db()
    assert t.assignee == "op" and t.events.filter(kind="assigned").count() == 1
    rows = list(AuditEntry.objects.order_by("id").values_list("action", "actor_name", "after", "reason")[before:])
    assert rows == [("ticket.assign", "worker_a", {"assignee": "op"}, "medical desk")]
    for name in ("worker_b", "nobody"):
        bad = assign(c, t, operator=name)
        assert bad.status_code == 400 and bad.json()["field"] == "operator", bad.content
    assert assign(c, t, operator="").status_code in (400, 422)
    assert assign(as_user(outsider), t, operator="op").status_code == 404
    t.status = "closed"
    t.save(update_fields=["status"])
    assert assign(c, t, operator="worker_a").status_code == 409
    t.refresh_from_db()
    assert t.assignee == "op"


def test_operator_entry_form(city, as_user):
    from cordon.core.actions import do_create_user

    op, _ = do_create_user("op", "test-pass-2022", role="hotline_operator", area=None)
    resp = as_user(op).post("/hotline/new/", {"phone": "13909310077", "category": "medical", "text": "胸痛",
                                              "location": city["unit_a"].path, "raise_care": "on"})
    assert resp.status_code == 302
    t = Ticket.objects.get(phone="13909310077")
    from cordon.care.models import CareRequest

    r = CareRequest.objects.get(pk=t.care_request)
    assert r.source == "hotline" and r.priority_key == "critical" and r.hotline_ticket == t.pk


# ------------------------------------------------------------------------------------ public form

def test_public_form_creates_ticket_and_lookup_shows_only_own(city, client):
    from django.test import Client

    c = Client(enforce_csrf_checks=True)
    page = c.get("/public/hotline")
    assert page.status_code == 200
    token = page.cookies["csrftoken"].value
    data = {"caller": "王", "phone": "13909310042", "category": "supplies", "text": "需要奶粉",
            "location": city["unit_a"].path}
    assert c.post("/public/hotline", data).status_code == 403          # no CSRF token
    resp = c.post("/public/hotline", {**data, "csrfmiddlewaretoken": token})
    assert resp.status_code == 201
    t = Ticket.objects.get(phone="13909310042")
    assert t.number in resp.content.decode() and t.source == "web" and t.community_id == city["community_a"].pk
    other = new(city, phone="13909319999", text="SECRET-OTHER")
    r = c.post("/public/hotline/status", {"number": t.number, "last4": "0042", "csrfmiddlewaretoken": token})
    assert r.status_code == 200 and t.number in r.content.decode()
    assert "SECRET-OTHER" not in r.content.decode() and "13909310042" not in r.content.decode()
    r = c.post("/public/hotline/status", {"number": other.number, "last4": "0042", "csrfmiddlewaretoken": token})
    assert r.status_code == 200 and "ticket-status" not in r.content.decode() and "SECRET-OTHER" not in r.content.decode()


def test_public_form_rate_limited(city, client):
    data = {"phone": "13909310043", "category": "other", "text": "x"}
    codes = [client.post("/public/hotline", {**data, "phone": f"1390931{i:04d}"}).status_code for i in range(7)]
    assert codes[:5] == [201] * 5 and codes[5:] == [429, 429]
    assert Ticket.objects.count() == 5
    codes = [client.post("/public/hotline/status", {"number": "H-X", "last4": "1234"}).status_code for _ in range(22)]
    assert codes[-1] == 429 and codes[0] == 200


def test_timeline_notes_the_desk_writes_read_in_the_pages_language(city, worker, as_user):
    """The notes the desk itself writes on a ticket's timeline (stored in English: the source and the unit, a
    duplicate, the caller asking again, the emergency request raised, the escalation kept "中文 / English", the
    satisfaction, a duplicate closed with its first call) read in Chinese on a Chinese page and in English on an
    English one; what people write (the feedback) is shown as written."""
    from cordon.care.models import CareRequest

    first = new(city, "medical", text="发烧", raise_care=True, need="发烧三天")
    again = new(city, "medical", h=8, m=5)
    assert again.duplicate_of_id == first.pk
    with at(9):
        assert ha.do_escalate_overdue(actor="test") >= 1
        ha.do_record_feedback(first, feedback="已转120 sent to 120", actor="test")
        ha.do_close_ticket(first, satisfaction=4, actor="test")
    c = as_user(worker)
    english = ("duplicate of an earlier call", "the caller asked again", "emergency medical request",
               "satisfaction 4", "closed with", "Phone call")
    for t, chinese in ((first, ("来电人再次来电", "紧急就医需求 " + CareRequest.objects.get(pk=first.care_request).ref, "满意度 4/5",
                               "电话 · 医疗保障组（120调度）<")),
                       (again, ("与此前来电重复", f"随 {first.number} 一并办结"))):
        c.cookies["django_language"] = "zh-hans"
        html = c.get(f"/hotline/tickets/{t.pk}/").content.decode()
        assert not [e for e in english if e in html] and all(z in html for z in chinese), t.number
        assert t != first or "已转120 sent to 120" in html
        assert "Medical dispatch desk (120)" not in html     # the desk's "中文 / English" name: its half, header too
        c.cookies["django_language"] = "en"
        html = c.get(f"/hotline/tickets/{t.pk}/").content.decode()
        assert ("The caller asked again" if t == first else "Duplicate of an earlier call") in html
        assert t != first or "Phone call · Medical dispatch desk (120)<" in html
    assert TicketEvent.objects.filter(ticket=first, kind="escalated").exists()
    c.cookies["django_language"] = "zh-hans"
    listed = c.get("/hotline/?tab=all").content.decode()
    assert first.number in listed and "医疗保障组（120调度）" in listed and "Medical dispatch desk" not in listed
