"""Designating from the map: the selection's residents and the guardrail flags before confirming, then zones'
own action and audit (issue 19 part 3)."""
from __future__ import annotations

import pytest

from tests.conftest import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def shaped(city):
    from cordon.maps.actions import do_generate_shapes

    do_generate_shapes(actor="test")
    return city


def test_preview_shows_who_lives_inside_and_the_flags(shaped, worker):
    resp = client_for(worker).get("/maps/designate/", {"areas": f"{shaped['unit_a'].pk}"})
    assert resp.status_code == 200
    html = resp.content.decode()
    row = html[html.index('class="selected-area"'):html.index("</tr>", html.index('class="selected-area"'))]
    assert ">1<" in row and ">2<" in row  # one household, two residents
    assert "80岁以上 1" in row and "独居 1" in row  # counts, never names
    assert "王秀英" not in html
    assert 'data-rule="nine-prohibitions-1"' in html  # no linked infection or place yet
    # the community: larger than the pack's granularity
    resp = client_for(worker).post("/maps/designate/", {
        "areas": f"{shaped['unit_a'].community_id}", "level": "high", "reason": "r", "exposure_note": "超市",
        "preview": "1"})
    html = resp.content.decode()
    assert 'data-rule="nine-prohibitions-4"' in html and 'data-rule="nine-prohibitions-1"' not in html


def test_confirm_designates_through_zones_with_its_audit(shaped, worker):
    from cordon.core.models import AuditEntry
    from cordon.zones.models import Designation

    resp = client_for(worker).post("/maps/designate/", {
        "areas": f"{shaped['unit_a'].pk}", "level": "medium", "reason": "P9 stayed here", "exposure_note": "P9",
        "confirm": "1"})
    assert resp.status_code == 302 and resp["Location"] == "/zones/"
    d = Designation.objects.get(area=shaped["unit_a"])
    assert d.level == "medium" and d.created_by == worker.username
    assert AuditEntry.objects.filter(action="designation.create", object_id=str(d.pk)).count() == 1


def test_refusals(shaped, worker, outsider, auditor):
    from cordon.zones.models import Designation

    unit_a = shaped["unit_a"].pk
    # another community's unit: not found, nothing designated
    assert client_for(outsider).get("/maps/designate/", {"areas": str(unit_a)}).status_code == 404
    assert client_for(outsider).post("/maps/designate/", {"areas": str(unit_a), "level": "high", "reason": "x",
                                                          "confirm": "1"}).status_code == 404
    assert client_for(auditor).get("/maps/designate/", {"areas": str(unit_a)}).status_code == 403
    assert client_for(worker).get("/maps/designate/")["Location"] == "/maps/"  # nothing selected: the map
    for bad in ("", "x", "0", "1,,y", ",".join(["1"] * 300)):
        assert client_for(worker).get("/maps/designate/", {"areas": bad}).status_code == 404, bad
    # no reason: the form again, 400, nothing designated
    resp = client_for(worker).post("/maps/designate/", {"areas": str(unit_a), "level": "high", "reason": "",
                                                        "confirm": "1"})
    assert resp.status_code == 400
    resp = client_for(worker).post("/maps/designate/", {"areas": str(unit_a), "level": "high", "reason": "r",
                                                        "infections": "NOPE-1", "confirm": "1"})
    assert resp.status_code == 400 and "NOPE-1" in resp.content.decode()
    assert not Designation.objects.exists()
