"""The sync's statements per change stay few (a sync of 1 000 changes is a few seconds on PostgreSQL): the reads
every change would repeat (the device, the user's grants, the round, the ids seen) are read once per sync."""
from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.db import connection
from django.test import Client
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


#: the statements of one sync of check-ins over HTTP (200 workers at once, each with a few: the whole cost of a
#: request must stay small): the token with its user and grants, the device, the ids seen, the orders, the
#: check-ins' insert-or-update and their audit rows, the changes, the device's last contact and the sync's audit
#: row; plus the chunk's transaction (BEGIN and COMMIT, or a savepoint inside a test's transaction). On PostgreSQL the
#: writes are one statement without BEGIN and COMMIT (``phone.actions._at_once``): 4 reads and 1 write
SYNC_STATEMENTS = {"postgresql": 5}


def _home_orders(city, n):
    from cordon.cases import actions as ca

    today = clock.today()
    inf = ca.do_record_infection(label="P-8", home=city["unit_a"], found="community", confirmed_on=today,
                                 actor="test")
    return [ca.do_register_contact(inf, label=f"H-{i}", last_exposure=today - dt.timedelta(days=1),
                                   identified_on=today, home=city["unit_a"], actor="test") for i in range(n)]


def test_a_sync_of_five_checkins_over_http_is_a_fixed_few_statements(city, worker, as_user):
    """POST /api/phone/sync with a bearer token and 5 check-ins (``cordon bench phone``'s part 3): a bounded
    number of statements whatever the number of check-ins, no savepoint inside the chunk's transaction, and no
    read of the kinds of record the batch does not name (no delivery order read for a batch of check-ins)."""
    import json

    from cordon.core.actions import do_create_token
    from cordon.core.models import AuditEntry
    from cordon.phone.queries import scope_hash

    orders = _home_orders(city, 5)
    device = actions.do_register_device(worker, "手机")
    _t, secret = do_create_token(worker, "phone", actor=worker)
    c = Client()

    def sync(some):
        now = (clock.now() - dt.timedelta(minutes=5)).isoformat()
        body = {"device": str(device.pk), "batch": str(uuid.uuid4()), "scope_hash": scope_hash(worker),
                "changes": [{"id": str(uuid.uuid4()), "kind": "checkin", "at": now,
                             "data": {"order": o.pk, "temperature": 36.5, "symptoms": ""}} for o in some]}
        with CaptureQueriesContext(connection) as q:
            r = c.post("/api/phone/sync", data=json.dumps(body), content_type="application/json",
                       HTTP_AUTHORIZATION=f"Bearer {secret}")
        assert r.status_code == 200, r.content
        return r.json()["results"], [x["sql"] for x in q.captured_queries]

    sync(orders[:1])  # warm-up (the token's last use is written at most once a minute)
    out, sql = sync(orders)
    assert [r["status"] for r in out] == [Status.APPLIED] * 5
    assert AuditEntry.objects.filter(action="order.checkin").count() == 6
    control = [s for s in sql if s.split()[0].upper() in ("BEGIN", "COMMIT", "SAVEPOINT", "RELEASE")]
    work = [s for s in sql if s not in control]
    assert len(work) <= SYNC_STATEMENTS.get(connection.vendor, 9), "\n".join(work)
    assert len([s for s in control if s.upper().startswith("SAVEPOINT")]) <= 1, control  # the chunk's only
    assert not [s for s in work if "supplies_" in s], work
    _again, more = sync(orders[:2])
    assert len(more) == len(sql)  # not one statement more or less for 2 check-ins than for 5


def test_checkins_refused_before_any_write_leave_the_callers_transaction_usable(city):
    """``do_record_checkins`` checks its items before it writes (its writes take no savepoint of their own): a
    refused item inside a caller's transaction writes nothing and leaves that transaction usable."""
    from django.db import transaction

    from cordon.cases import actions as ca
    from cordon.cases.models import CheckIn
    from cordon.core.actions import ActionError
    from cordon.core.models import AuditEntry

    o1, o2 = _home_orders(city, 2)
    with transaction.atomic():
        with pytest.raises(ActionError):
            ca.do_record_checkins([{"order": o1, "temperature": None}, {"order": o2, "test_result": "maybe"}],
                                  actor="test")
        assert not CheckIn.objects.exists() and not AuditEntry.objects.filter(action="order.checkin").exists()
        ca.do_record_checkins([{"order": o1, "test_result": "negative"}], actor="test")
    assert CheckIn.objects.get().test_result == "negative"
    assert AuditEntry.objects.filter(action="order.checkin").count() == 1
