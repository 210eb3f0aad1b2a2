"""Bulk pages where staff handle many records at once: deciding risk-area proposals and marking deliveries.
One submit; each ticked row is one audited action; a refused row is reported (which, why) and the rest kept.
(The bulk check-ins are in tests/cases/test_pages_orders.py; the helper is ``web.pages.run_rows``.)"""
from __future__ import annotations

import pytest

from cordon.core import clock
from cordon.core.models import AuditEntry
from tests.zones._zfixtures import UNIT_A2, infection_a, units  # noqa: F401

pytestmark = pytest.mark.django_db


def en(client):
    client.cookies["django_language"] = "en"
    return client


@pytest.fixture
def proposals(city, units, infection_a):
    """Three open proposals in community A: unit A (from P1) and two more units from P2 and P3."""
    from cordon.cases.actions import do_record_infection
    from cordon.zones.models import Proposal

    for label, unit in (("P2", units["a2"]), ("P3", units["a3"])):
        do_record_infection(label=label, home=unit, found="community", confirmed_on=clock.today(), actor="test")
    return list(Proposal.objects.filter(status="open").select_related("area").order_by("id"))


def test_confirm_many_proposals_one_refused(city, worker, outsider, auditor, proposals, as_user):
    from cordon.zones.actions import do_dismiss_proposal
    from cordon.zones.models import Designation, ProposalStatus

    assert len(proposals) == 3
    c = en(as_user(worker))
    assert 'href="/zones/proposals/"' in c.get("/zones/").content.decode()
    page = c.get("/zones/proposals/").content.decode()
    assert all(f'name="row" value="{p.pk}"' in page for p in proposals)
    assert as_user(auditor).get("/zones/proposals/").status_code == 403
    assert "No open proposal" in en(as_user(outsider)).get("/zones/proposals/").content.decode()
    # Someone else decides the second one first: it is reported, the other two are confirmed.
    do_dismiss_proposal(proposals[1], reason="duplicate", actor="test")
    r = c.post("/zones/proposals/", {"row": [str(p.pk) for p in proposals], "decision": "confirm", "reason": "P1-P3"})
    body = r.content.decode()
    assert r.status_code == 200 and proposals[1].area.path in body and "already decided" in body
    assert Designation.objects.filter(area__in=[proposals[0].area, proposals[2].area]).count() == 2
    assert AuditEntry.objects.filter(action="proposal.confirm").count() == 2
    for p in proposals:
        p.refresh_from_db()
    assert [p.status for p in proposals] == [ProposalStatus.CONFIRMED, ProposalStatus.DISMISSED,
                                             ProposalStatus.CONFIRMED]


def test_dismiss_many_needs_a_reason_and_outsiders_touch_nothing(city, worker, outsider, proposals, as_user):
    from cordon.zones.models import ProposalStatus

    ids = [str(p.pk) for p in proposals]
    r = en(as_user(worker)).post("/zones/proposals/", {"row": ids, "decision": "dismiss", "reason": ""})
    assert r.status_code == 400 and "give the reason for this decision" in r.content.decode()
    r = en(as_user(outsider)).post("/zones/proposals/", {"row": ids, "decision": "confirm"})
    assert r.status_code == 400 and r.content.decode().count("not found, or not yours to change") == 3
    r = en(as_user(worker)).post("/zones/proposals/", {"row": ids, "decision": "dismiss", "reason": "one family"})
    assert r.status_code == 302 and r["Location"] == "/zones/"
    for p in proposals:
        p.refresh_from_db()
        assert p.status == ProposalStatus.DISMISSED


@pytest.fixture
def deliveries(city):
    from cordon.places.models import Household
    from cordon.supplies import actions as sa
    from cordon.zones.actions import do_designate

    d = do_designate(city["unit_a"], "high", reason="P1", exposure_note="home", actor="test")
    w = sa.do_create_warehouse("仓库", area=city["district"], actor="test")
    veg = sa.do_create_item("蔬菜包", kind="vegetables", per_person_per_day="0.5", baseline_price="20", actor="test")
    Household.objects.get_or_create(unit=city["unit_a"], number="102", defaults={})
    sa.do_move_stock(w, veg, direction="in", quantity=100, reason="in", actor="test")
    a = sa.do_allocate(d, warehouse=w, item=veg, days=2, actor="test")
    return sa.do_issue_allocation(a, actor="test")


@pytest.fixture
def logistics(city):
    from cordon.core.actions import do_create_user

    user, _ = do_create_user("logi", "cordon-test-pw-1", role="logistics_officer", area=city["district"],
                             actor="test", check_password=False)
    return user


def test_mark_many_deliveries(city, logistics, auditor, deliveries, as_user):
    from cordon.supplies import actions as sa
    from cordon.supplies.models import DeliveryOrder

    c = en(as_user(logistics))
    assert 'href="/supplies/deliveries/mark/"' in c.get("/supplies/deliveries/").content.decode()
    o = deliveries[0]
    page = c.get("/supplies/deliveries/mark/").content.decode()
    assert f'name="row" value="{o.pk}"' in page
    r = c.post("/supplies/deliveries/mark/", {"row": [str(o.pk)], "decision": "failed", "reason": ""})
    assert r.status_code == 400 and "give the reason for this decision" in r.content.decode()
    r = c.post("/supplies/deliveries/mark/", {"row": [str(o.pk)], "decision": "delivered"})
    assert r.status_code == 302
    assert DeliveryOrder.objects.get(pk=o.pk).status == "delivered"
    assert AuditEntry.objects.filter(action__startswith="delivery.").count() >= 1
    # Already marked: reported, not changed again.
    other = sa.do_issue_allocation(sa.do_allocate(o.allocation.designation, warehouse=o.allocation.warehouse,
                                                  item=o.item, days=1, actor="test"), actor="test")[0]
    r = c.post("/supplies/deliveries/mark/", {"row": [str(o.pk), str(other.pk)], "decision": "failed",
                                              "reason": "nobody home"})
    body = r.content.decode()
    assert r.status_code == 200 and "already delivered" in body
    assert DeliveryOrder.objects.get(pk=o.pk).status == "delivered"
    assert DeliveryOrder.objects.get(pk=other.pk).status == "failed"
    assert as_user(auditor).get("/supplies/deliveries/mark/").status_code == 403


def test_assign_many_tickets(city, worker, outsider, auditor, as_user):
    from cordon.core.actions import do_create_user
    from cordon.hotline import actions as ha
    from cordon.hotline.models import Ticket, TicketEvent

    op, _ = do_create_user("op", "cordon-test-pw-1", role="hotline_operator", area=None, actor="test",
                           check_password=False)
    tickets = [ha.do_create_ticket(phone=f"1390931000{i}", category="supplies", text="help", area=city["unit_a"],
                                   actor="test") for i in range(3)]
    closed = tickets[2]
    ha.do_record_feedback(closed, feedback="sent", actor="test")
    ha.do_close_ticket(closed, satisfaction=5, actor="test")
    c = en(as_user(worker))
    assert 'href="/hotline/assign/"' in c.get("/hotline/").content.decode()
    page = c.get("/hotline/assign/").content.decode()
    assert f'name="row" value="{tickets[0].pk}"' in page and f'value="{closed.pk}"' not in page
    assert '<option value="op"' in page
    assert as_user(auditor).get("/hotline/assign/").status_code == 403
    r = c.post("/hotline/assign/", {"row": [str(t.pk) for t in tickets], "decision": "op", "reason": "morning"})
    body = r.content.decode()
    assert r.status_code == 200 and closed.number in body and "is closed" in body
    assert [Ticket.objects.get(pk=t.pk).assignee for t in tickets] == ["op", "op", ""]
    assert TicketEvent.objects.filter(kind="assigned").count() == 2
    assert AuditEntry.objects.filter(action="ticket.assign", reason="morning").count() == 2
    assert "→ op" in c.get("/hotline/").content.decode()
    # An operator the ticket is out of reach of, an unknown operator: refused.
    r = c.post("/hotline/assign/", {"row": [str(tickets[0].pk)], "decision": "worker_b"})
    assert r.status_code == 400 and "does not answer hotline tickets here" in r.content.decode()
    r = c.post("/hotline/assign/", {"row": [str(tickets[0].pk)], "decision": "nobody"})
    assert r.status_code == 400
    r = en(as_user(outsider)).post("/hotline/assign/", {"row": [str(tickets[1].pk)], "decision": "op"})
    assert r.status_code == 400 and "not found, or not yours to change" in r.content.decode()
