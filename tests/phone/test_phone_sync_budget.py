"""The sync's statements per change stay few (a sync of 1 000 changes is a few seconds on PostgreSQL): the reads
every change would repeat (the device, the user's grants, the round, the ids seen) are read once per sync."""
from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cordon.core import clock, ids
from cordon.phone import actions
from cordon.phone.models import Change, Device, Status

pytestmark = pytest.mark.django_db

N = 6


def _residents(city, n):
    from cordon.places.actions import do_create_resident

    return [do_create_resident(city["hh_a"], {"name": f"居民{i}", "id_number": ids.make_id_number(
        "620102", clock.today().replace(year=1980), 100 + i, "M"), "phone": f"139093{i:05d}"}, actor="test")
        for i in range(n)]


def _tubes(rnd, people, start):
    now = clock.now().isoformat()
    return [{"id": str(uuid.uuid4()), "kind": "tube", "at": now,
             "data": {"round": rnd.pk, "barcode": f"Q-{start + i:04d}", "residents": [p.pk]}}
            for i, p in enumerate(people)]


def _statements(user, device, changes):
    with CaptureQueriesContext(connection) as q:
        out = actions.do_sync(device, batch=uuid.uuid4(), changes=changes, actor=user)
    return out, [x["sql"] for x in q.captured_queries]


def _setup(city, worker, n):
    from cordon.screening.actions import do_create_round

    rnd = do_create_round(name="全员", on=clock.today(), areas=[city["community_a"]], actor="test")
    device = Device.objects.get(pk=actions.do_register_device(worker, "手机").pk)
    return rnd, device, _residents(city, n)


#: statements per tube change: a chunk's tubes are registered together (screening.do_register_tubes: one read of
#: their people, barcodes and registrations, one insert of each kind of row), the screening hook once per tube
PER_TUBE = 2


def test_tube_sync_statements_per_change(city, worker, capsys):
    rnd, device, people = _setup(city, worker, N + 2)
    actions.do_sync(device, batch=uuid.uuid4(), changes=_tubes(rnd, people[:1], 0), actor=worker)  # warm-up
    _, one = _statements(worker, device, _tubes(rnd, people[1:2], 100))
    out, many = _statements(worker, device, _tubes(rnd, people[2:], 200))
    assert [r["status"] for r in out] == [Status.APPLIED] * N
    assert Change.objects.filter(status=Status.APPLIED).count() == N + 2
    per_change = (len(many) - len(one)) / (N - 1)
    with capsys.disabled():
        print(f"\nstatements: {len(one)} for 1 tube, {len(many)} for {N}: {per_change:.1f} per change")
    assert per_change <= PER_TUBE


def test_an_id_stored_meanwhile_answers_its_stored_result_and_the_chunk_is_applied_once(city, worker, monkeypatch):
    """A concurrent sync stored one of the chunk's ids after this sync read the ids it had seen: the chunk's bulk
    insert fails, the chunk is undone and done again change by change; the others are applied once."""
    from cordon.core.models import AuditEntry
    from cordon.phone import queries

    rnd, device, people = _setup(city, worker, 3)
    first = _tubes(rnd, people[:1], 0)
    [stored] = actions.do_sync(device, batch=uuid.uuid4(), changes=first, actor=worker)
    monkeypatch.setattr(queries, "change_results", lambda ids_: {})  # as if read before the other sync stored it
    rest = _tubes(rnd, people[1:], 10)
    out = actions.do_sync(device, batch=uuid.uuid4(), changes=[rest[0], first[0], rest[1]], actor=worker)
    assert out[1] == stored
    assert [out[0]["status"], out[2]["status"]] == [Status.APPLIED, Status.APPLIED]
    assert Change.objects.count() == 3
    assert AuditEntry.objects.filter(action="screening.tube_register").count() == 3


def test_checkins_are_recorded_together(city, worker):
    """A sync's check-ins cost one read of their orders, one insert-or-update of the day's rows and one insert of
    their audit rows, whatever their number (the 200-workers-at-once goal: each small sync a few statements)."""
    from cordon.cases import actions as ca

    today = clock.today()
    inf = ca.do_record_infection(label="P-7", home=city["unit_a"], found="community", confirmed_on=today,
                                 actor="test")
    orders = [ca.do_register_contact(inf, label=f"K-{i}", last_exposure=today - dt.timedelta(days=1),
                                     identified_on=today, home=city["unit_a"], actor="test") for i in range(N)]
    device = Device.objects.get(pk=actions.do_register_device(worker, "手机").pk)
    now = clock.now().isoformat()

    def checkins(some):
        return [{"id": str(uuid.uuid4()), "kind": "checkin", "at": now, "data": {"order": o.pk, "temperature": 36.6}}
                for o in some]

    actions.do_sync(device, batch=uuid.uuid4(), changes=checkins(orders[:1]), actor=worker)  # warm-up
    _, one = _statements(worker, device, checkins(orders[:1]))
    out, many = _statements(worker, device, checkins(orders))
    assert [r["status"] for r in out] == [Status.APPLIED] * N
    assert len(many) == len(one), many
