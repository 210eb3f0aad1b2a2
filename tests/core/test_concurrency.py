"""Check-then-act under concurrency: two requests at once on the same record.

Each race runs as pairs of threads released together by a barrier; every thread has its own database
connection (Django's connections are per thread), so on PostgreSQL these are two real sessions whose
transactions overlap. Before the locks, most pairs stored both writes (two open designations, two lifts,
two dispatches, two originals of one caller, every tick change twice); now one write wins and the other is
refused with ``Conflict`` (HTTP 409), never a duplicate and never a 500.

SQLite serialises writers (``BEGIN IMMEDIATE``) and its test database lives in memory, so the thread races
run on PostgreSQL only; the stale-copy races (a second lift from a copy read before the first one committed),
which happened on SQLite too, run on both databases.
"""
from __future__ import annotations

import datetime as dt
import json
import threading

import pytest
from django.db import connection, connections

from cordon.core import clock
from cordon.core.actions import Conflict

D0 = dt.date(2022, 11, 1)
PAIRS = 10


def day(n):
    return D0 + dt.timedelta(days=n)


needs_pg = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="thread races need two real sessions: SQLite serialises writers (BEGIN IMMEDIATE) and its test "
           "database is in memory; the stale-copy races below run on SQLite too")


def race(*fns):
    """Run ``fns`` at once (one thread each, released by a barrier), each on its own connection, on the
    day the clock is frozen at (the clock is process-wide). Returns [("ok", value) | ("error", exception)] in the order given."""
    barrier = threading.Barrier(len(fns))
    out: list = [None] * len(fns)

    def run(i, fn):
        try:
            barrier.wait(timeout=20)
            out[i] = ("ok", fn())
        except BaseException as exc:  # noqa: BLE001 - reported to the test
            out[i] = ("error", exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, fn)) for i, fn in enumerate(fns)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return out


def kinds(results):
    """("ok", "conflict") counts; anything else (a 500-style error) fails the test with the exception."""
    ok = sum(1 for k, _ in results if k == "ok")
    conflicts = sum(1 for k, v in results if k == "error" and isinstance(v, Conflict))
    others = [v for k, v in results if k == "error" and not isinstance(v, Conflict)]
    assert not others, others
    return ok, conflicts


def _units(n, prefix="竞争"):
    from cordon.places.actions import do_ensure_area

    return [do_ensure_area(f"城关区/皋兰路街道/五泉社区/{prefix}小区/{i}号楼/1单元", actor="test") for i in range(n)]


# ---------------------------------------------------------------------------------------- designations

@needs_pg
@pytest.mark.django_db(transaction=True)
def test_two_designations_of_one_unit_store_one(city, commander):
    from cordon.zones.actions import do_designate
    from cordon.zones.models import Designation, Status

    units = _units(PAIRS)
    lost = 0
    for u in units:
        with clock.frozen(D0):
            res = race(*[lambda u=u: do_designate(u, "high", on=D0, reason="P1 lives here", actor="test")] * 2)
        ok, conflicts = kinds(res)
        assert (ok, conflicts) == (1, 1), res
        lost += conflicts
        assert Designation.objects.filter(area=u).exclude(status=Status.CLOSED).count() == 1
    assert lost == PAIRS


@needs_pg
@pytest.mark.django_db(transaction=True)
def test_two_designations_through_the_api_answer_201_and_409(city, commander):
    from tests.conftest import client_for

    from cordon.zones.models import Designation

    units = _units(6, prefix="接口")
    a, b = client_for(commander), client_for(commander)

    def post(c, u):
        return c.post("/api/designations", data=json.dumps({"area_id": u.pk, "level": "high", "reason": "P1"}),
                      content_type="application/json")

    for u in units:
        res = race(lambda: post(a, u), lambda: post(b, u))
        assert all(k == "ok" for k, _ in res), res
        codes = sorted(r.status_code for _, r in res)
        assert codes == [201, 409], [r.content for _, r in res]
        body = next(r.json() for _, r in res if r.status_code == 409)
        assert body["field"] == "area" and "already designated" in body["detail"]
        assert Designation.objects.filter(area=u).count() == 1


def test_the_database_refuses_a_second_open_designation(db, city):
    """The partial unique index backs the lock, on both databases: a write that skips the action cannot
    store a second open designation either; a closed one may sit beside an open one."""
    from django.db import IntegrityError, transaction

    from cordon.zones.actions import do_designate
    from cordon.zones.models import Designation, Status

    with clock.frozen(D0):
        d = do_designate(city["unit_a"], "high", on=D0, reason="P1", actor="test")
    twin = Designation.objects.get(pk=d.pk)
    twin.pk = None
    with pytest.raises(IntegrityError), transaction.atomic():
        twin.save()
    twin.pk, twin.status = None, Status.CLOSED
    twin.save()
    assert Designation.objects.filter(area=city["unit_a"]).count() == 2


# ---------------------------------------------------------------------------------------- lifts

def _designations(units):
    from cordon.zones.actions import do_designate

    with clock.frozen(D0):
        return [do_designate(u, "high", on=D0, reason="P1", actor="test") for u in units]


def test_a_second_lift_from_a_stale_copy_is_a_conflict(db, city):
    """Two desks read the designation while it was active; the second lift used to apply too (two lift
    events, two audit rows), on SQLite as well. Now it re-reads under the lock and is refused."""
    from cordon.core.models import AuditEntry
    from cordon.zones.actions import do_lift
    from cordon.zones.models import Designation, Event, EventKind

    for d in _designations(_units(3, prefix="旧")):
        first, second = Designation.objects.get(pk=d.pk), Designation.objects.get(pk=d.pk)
        with clock.frozen(day(3)):
            do_lift(first, on=day(3), reason="assessed", actor="test")
            with pytest.raises(Conflict) as exc:
                do_lift(second, on=day(3), reason="assessed", actor="test")
        assert exc.value.field == "designation"
        assert Event.objects.filter(designation=d, kind=EventKind.LIFT).count() == 1
        assert AuditEntry.objects.filter(action="designation.lift", object_id=str(d.pk)).count() == 1


@needs_pg
@pytest.mark.django_db(transaction=True)
def test_two_lifts_at_once_apply_once(city):
    from cordon.zones.actions import do_lift
    from cordon.zones.models import Designation, Event, EventKind

    designations = _designations(_units(PAIRS, prefix="解封"))
    for d in designations:
        copies = [Designation.objects.get(pk=d.pk) for _ in range(2)]
        with clock.frozen(day(3)):
            res = race(*[lambda c=c: do_lift(c, on=day(3), reason="assessed", actor="test") for c in copies])
        assert kinds(res) == (1, 1), res
        assert Event.objects.filter(designation=d, kind=EventKind.LIFT).count() == 1


# ---------------------------------------------------------------------------------------- the day tick

@needs_pg
@pytest.mark.django_db(transaction=True)
def test_two_ticks_of_one_day_apply_each_change_once(city):
    from cordon.core.models import AuditEntry
    from cordon.zones import actions as za
    from cordon.zones.models import Designation, Event, EventKind, Flag

    rounds = _designations(_units(6, prefix="日"))
    kept = _designations(_units(3, prefix="留"))
    with clock.frozen(day(7)):
        for d in rounds + kept:
            za.do_record_round(d, on=day(7), result="negative", actor="test")
        for d in kept:
            za.do_keep(d, on=day(7), reason="assessment pending", actor="test")
    for n in range(4):  # four days, two ticks racing on each
        on = day(8 + n)
        with clock.frozen(on):
            res = race(lambda: za.tick(on, actor="tick"), lambda: za.tick(on, actor="tick"))
        assert all(k == "ok" for k, _ in res), res
        # the kept areas are flagged once a day, whichever tick got there first
        assert Flag.objects.filter(on=on, rule="nine-prohibitions-3").count() == len(kept)
    ids = [d.pk for d in rounds]
    # high -> medium on day 8, medium -> low on day 11: two changes each, not four
    assert Event.objects.filter(designation_id__in=ids, kind=EventKind.CHANGE).count() == 2 * len(rounds)
    assert AuditEntry.objects.filter(action="designation.change").count() == 2 * len(rounds)
    assert set(Designation.objects.filter(pk__in=ids).values_list("level", flat=True)) == {"low"}


# ---------------------------------------------------------------------------------------- care

def _care(n_requests, n_vehicles):
    from cordon.care import actions as ca

    hospital = ca.do_add_hospital("兰州市第二人民医院", actor="test")
    vehicles = [ca.do_add_vehicle(f"甘A·9{i:04d}", actor="test") for i in range(n_vehicles)]
    unit = _units(1, prefix="急")[0]
    with clock.frozen(D0):
        reqs = [ca.do_create_request(person=f"病人{i}", area=unit, need="elderly", actor="test")
                for i in range(n_requests)]
    return hospital, vehicles, reqs


@needs_pg
@pytest.mark.django_db(transaction=True)
def test_two_dispatchers_on_one_request_dispatch_once(city):
    from cordon.care.actions import do_dispatch_request
    from cordon.care.models import CareRequest, RequestEvent

    hospital, vehicles, reqs = _care(PAIRS, 2 * PAIRS)
    for i, req in enumerate(reqs):
        mine = vehicles[2 * i:2 * i + 2]
        copies = [CareRequest.objects.get(pk=req.pk) for _ in mine]
        with clock.frozen(D0):
            res = race(*[lambda c=c, v=v: do_dispatch_request(c, vehicle=v, hospital=hospital, actor="test")
                     for c, v in zip(copies, mine)])
        assert kinds(res) == (1, 1), res
        winner = next(v for (k, v) in res if k == "ok")
        req.refresh_from_db()
        assert req.vehicle_id == winner.vehicle_id  # the stored vehicle is the winner's, not the last writer's
        assert RequestEvent.objects.filter(request=req, status="dispatched").count() == 1


@needs_pg
@pytest.mark.django_db(transaction=True)
def test_one_vehicle_is_sent_on_one_request_at_a_time(city):
    from cordon.care.actions import do_dispatch_request
    from cordon.care.models import CareRequest

    hospital, vehicles, reqs = _care(2 * PAIRS, PAIRS)
    for i, v in enumerate(vehicles):
        pair = reqs[2 * i:2 * i + 2]
        with clock.frozen(D0):
            res = race(*[lambda r=r: do_dispatch_request(r, vehicle=v, hospital=hospital, actor="test")
                         for r in pair])
        assert kinds(res) == (1, 1), res
        assert CareRequest.objects.filter(vehicle=v, status__in=["dispatched", "arrived"]).count() == 1


# ---------------------------------------------------------------------------------------- hotline

@needs_pg
@pytest.mark.django_db(transaction=True)
def test_two_operators_logging_one_caller_make_one_original(city):
    from cordon.hotline.actions import do_create_ticket
    from cordon.hotline.models import Ticket

    for i in range(PAIRS):
        phone = f"139093{i:05d}"
        res = race(*[lambda: do_create_ticket(phone=phone, category="supplies", text="需要米面", area=city["unit_a"],
                                              actor="test")] * 2)
        assert kinds(res) == (2, 0), res
        assert Ticket.objects.filter(phone=phone, duplicate_of__isnull=True).count() == 1
        assert Ticket.objects.filter(phone=phone, duplicate_of__isnull=False).count() == 1


# ---------------------------------------------------------------------------------------- supplies

@needs_pg
@pytest.mark.django_db(transaction=True)
def test_two_issues_cannot_spend_the_same_stock(city):
    from decimal import Decimal

    from cordon.supplies import actions as sa

    wh = sa.do_create_warehouse("竞争物资点", area=city["community_a"], actor="test")
    item = sa.do_create_item("米", kind="staple", per_person_per_day="1", actor="test")
    for _ in range(PAIRS):
        sa.do_move_stock(wh, item, direction="in", quantity=10, reason="调拨", actor="test")
        res = race(*[lambda: sa.do_move_stock(wh, item, direction="out", quantity=8, reason="发放", actor="test")] * 2)
        assert sum(1 for k, _ in res if k == "ok") == 1, res
        assert all(k == "ok" or "on hand" in str(v) for k, v in res), res
        assert sa.on_hand(wh)[item.pk] >= Decimal(0)
