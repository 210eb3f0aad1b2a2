"""The day start's release bound (``cases.models.ReleaseMark``): a release reads only the orders whose free day is
after the last completed release's day, yet an order identified late with an earlier free day is still released,
a release for an earlier day never moves the mark back, and a release undone before its commit leaves the mark
where it was, so the next run releases every order with exactly one audit row each."""
from __future__ import annotations

import datetime as dt

import pytest
from django.db import transaction

D = dt.date


@pytest.fixture
def p1(city, commander):
    from cordon.cases.actions import do_record_infection
    from cordon.core import clock

    with clock.frozen(dt.datetime(2022, 11, 8, 9, 0, tzinfo=clock.tz())):
        return do_record_infection(label="P1", home=city["unit_a"], found="community",
                                   confirmed_on=D(2022, 11, 8), actor=commander)


def _contact(p1, city, commander, label, exposed, identified):
    from cordon.cases import actions as ca

    return ca.do_register_contact(p1, label=label, last_exposure=exposed, identified_on=identified,
                                  home=city["unit_a"], actor=commander)


def _mark():
    from cordon.cases.models import ReleaseMark

    return ReleaseMark.objects.values_list("day", flat=True).first()


def _released(label):
    from cordon.cases.models import PersonOrder
    from cordon.core.models import AuditEntry

    o = PersonOrder.objects.get(label=label)
    rows = AuditEntry.objects.filter(action="order.release", object_id=str(o.pk)).count()
    return o.status, o.released_on, rows


@pytest.mark.django_db
def test_an_order_identified_late_is_released_after_the_mark_passed_its_free_day(city, commander, p1):
    from cordon.cases import actions as ca

    c1 = _contact(p1, city, commander, "C1", D(2022, 11, 8), D(2022, 11, 9))
    later = _contact(p1, city, commander, "C3", D(2022, 11, 12), D(2022, 11, 13))
    assert c1.free_on == D(2022, 11, 19) and later.free_on == D(2022, 11, 23)
    assert _mark() is None
    assert ca.do_release_due(D(2022, 11, 19)) == 1
    assert _mark() == D(2022, 11, 19)
    assert ca.do_release_due(D(2022, 11, 20)) == 0 and _mark() == D(2022, 11, 20)
    # entered after the day start of 11-20 with the same exposure as C1: free on 11-19, a day the mark has passed
    late = _contact(p1, city, commander, "C2", D(2022, 11, 8), D(2022, 11, 10))
    assert late.status == "active" and late.free_on == D(2022, 11, 19)
    assert _mark() == D(2022, 11, 18)
    assert ca.do_release_due(D(2022, 11, 21)) == 1
    assert _released("C2") == ("released", D(2022, 11, 21), 1)
    assert _released("C3")[0] == "active" and _mark() == D(2022, 11, 21)
    assert ca.do_release_due(D(2022, 11, 23)) == 1 and _released("C3") == ("released", D(2022, 11, 23), 1)
    assert _released("C1") == ("released", D(2022, 11, 19), 1)


@pytest.mark.django_db
def test_a_release_for_an_earlier_day_keeps_the_mark(city, commander, p1):
    from cordon.cases import actions as ca
    from cordon.cases.models import PersonOrder

    _contact(p1, city, commander, "C1", D(2022, 11, 8), D(2022, 11, 9))
    _contact(p1, city, commander, "C3", D(2022, 11, 12), D(2022, 11, 13))
    assert ca.do_release_due(D(2022, 11, 20)) == 1 and _mark() == D(2022, 11, 20)
    assert ca.do_release_due(D(2022, 11, 15)) == 0 and _mark() == D(2022, 11, 20)
    # an extension moves the free day later, never before the mark: the order is released on its new day
    c3 = PersonOrder.objects.get(label="C3")
    ca.do_record_checkin(c3, on=D(2022, 11, 20), test_result="positive", actor=commander)
    c3 = ca.do_extend_order(c3, days=2, reason="positive on 11-20", on=D(2022, 11, 20), actor=commander)
    assert c3.free_on == D(2022, 11, 25) and _mark() == D(2022, 11, 20)
    assert ca.do_release_due(D(2022, 11, 23)) == 0
    assert ca.do_release_due(D(2022, 11, 25)) == 1 and _released("C3") == ("released", D(2022, 11, 25), 1)


@pytest.mark.django_db
def test_a_release_undone_before_its_commit_is_completed_by_the_next_run(city, commander, p1):
    from cordon.cases import actions as ca
    from cordon.core.models import AuditEntry

    _contact(p1, city, commander, "C1", D(2022, 11, 8), D(2022, 11, 9))
    _contact(p1, city, commander, "C2", D(2022, 11, 8), D(2022, 11, 9))
    assert ca.do_release_due(D(2022, 11, 18)) == 0 and _mark() == D(2022, 11, 18)
    with pytest.raises(RuntimeError), transaction.atomic():
        assert ca.do_release_due(D(2022, 11, 19)) == 2
        raise RuntimeError("the day start's process died before its commit")
    assert _mark() == D(2022, 11, 18)
    assert _released("C1") == ("active", None, 0) and _released("C2") == ("active", None, 0)
    assert ca.do_release_due(D(2022, 11, 19)) == 2
    assert ca.do_release_due(D(2022, 11, 19)) == 0
    assert _released("C1") == ("released", D(2022, 11, 19), 1) and _released("C2") == ("released", D(2022, 11, 19), 1)
    assert AuditEntry.objects.filter(action="order.release").count() == 2 and _mark() == D(2022, 11, 19)
