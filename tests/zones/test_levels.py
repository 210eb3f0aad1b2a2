"""Designating an area that is already designated: rank 0 is the highest level, so a smaller rank is a raise.

Raising medium -> high is a designation (audited as ``designation.raise``); the same level again is a
conflict; lowering high -> medium is not a designation at all: under the pack it happens by the area's
clock (the tick) or by a lift with its assessment (``do_lift(level=...)``), which keeps the history.
"""
from __future__ import annotations

import datetime as dt

import pytest

from cordon.core import clock
from cordon.core.actions import ActionError, Conflict
from cordon.core.models import AuditEntry
from cordon.zones import actions as za
from cordon.zones.models import Designation, Event, EventKind, Proposal, Status

D0 = dt.date(2022, 11, 1)

pytestmark = pytest.mark.django_db


def test_raising_medium_to_high_is_a_raise(city, commander):
    with clock.frozen(D0):
        d = za.do_designate(city["unit_a"], "medium", on=D0, reason="P1 stayed here", actor=commander)
        again = za.do_designate(city["unit_a"], "high", on=D0 + dt.timedelta(days=1), reason="P2 lives here",
                                actor=commander)
    assert again.pk == d.pk
    d.refresh_from_db()
    assert (d.level, d.status) == ("high", Status.ACTIVE)
    raise_ = AuditEntry.objects.get(action="designation.raise")
    assert raise_.before == {"level": "medium"} and raise_.after == {"level": "high"}
    assert Designation.objects.filter(area=city["unit_a"]).count() == 1
    assert Event.objects.filter(designation=d, kind=EventKind.DESIGNATE).count() == 2


def test_lowering_by_designation_is_refused_and_points_to_a_lift(city, commander):
    with clock.frozen(D0):
        d = za.do_designate(city["unit_a"], "high", on=D0, reason="P1 lives here", actor=commander)
        with pytest.raises(ActionError) as exc:
            za.do_designate(city["unit_a"], "medium", on=D0, reason="fewer cases", actor=commander)
    assert not isinstance(exc.value, Conflict) and exc.value.field == "level" and "lift" in str(exc.value)
    d.refresh_from_db()
    assert d.level == "high"
    assert not AuditEntry.objects.filter(action="designation.raise").exists()
    # The way down: a lift with its assessment, stepping to medium; recorded as a lift, not as a raise.
    with clock.frozen(D0 + dt.timedelta(days=2)):
        za.do_lift(d, level="medium", reason="assessment: no spread", actor=commander)
    d.refresh_from_db()
    assert d.level == "medium"
    assert AuditEntry.objects.filter(action="designation.lift").count() == 1


def test_the_same_level_again_is_a_conflict(city, commander):
    with clock.frozen(D0):
        za.do_designate(city["unit_a"], "high", on=D0, reason="P1 lives here", actor=commander)
        with pytest.raises(Conflict) as exc:
            za.do_designate(city["unit_a"], "high", on=D0, reason="P2 lives here", actor=commander)
    assert exc.value.field == "area" and "已划定为 高风险区" in str(exc.value)


def test_a_designation_answers_proposals_at_its_level_or_below_only(city, commander):
    """A high designation settles a medium proposal for the same area; a medium one leaves a high proposal
    open (the commander still has to decide on it)."""
    def proposal(area, level):
        p = Proposal(area=area, level=level, proposed_on=D0, because=["P9"])
        p.set_scope_from(area)
        p.save()
        return p

    with clock.frozen(D0):
        high_p, medium_p = proposal(city["unit_b"], "high"), proposal(city["unit_a"], "medium")
        za.do_designate(city["unit_b"], "medium", on=D0, reason="P9 stayed here", actor=commander)
        za.do_designate(city["unit_a"], "high", on=D0, reason="P8 lives here", actor=commander)
    high_p.refresh_from_db()
    medium_p.refresh_from_db()
    assert high_p.status == "open"
    assert medium_p.status == "confirmed"


def test_a_second_lift_on_the_page_is_an_error_message_not_a_500(city, commander):
    """The page that lost the race (its designation was lifted meanwhile) shows the conflict on the form."""
    from tests.conftest import client_for

    with clock.frozen(D0):
        d = za.do_designate(city["unit_a"], "high", on=D0, reason="P1 lives here", actor=commander)
    c = client_for(commander)
    with clock.frozen(D0 + dt.timedelta(days=2)):
        assert c.post(f"/zones/{d.pk}/lift/", {"lift-reason": "assessed"}).status_code == 302
        r = c.post(f"/zones/{d.pk}/lift/", {"lift-reason": "assessed again"})
    assert r.status_code == 400 and "未划定为风险区" in r.content.decode()  # the form, with the reason
    assert Event.objects.filter(designation=d, kind=EventKind.LIFT).count() == 1
