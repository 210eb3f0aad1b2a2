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
PAIRS = 8


def day(n):
    return D0 + dt.timedelta(days=n)


needs_pg = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="thread races need two real sessions: SQLite serialises writers (BEGIN IMMEDIATE) and its test "
           "database is in memory; the stale-copy races below run on SQLite too")


def race(*fns):
    """Run ``fns`` at once (one thread each, released by a barrier), each on its own connection, on the
    day the clock is frozen at (the clock is process-wide).
    Returns [("ok", value) | ("error", exception)] in the order given."""
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


def outcome(results):
    """("ok" count, Conflict count, other errors): another error is what used to end in a 500."""
    ok = sum(1 for k, _ in results if k == "ok")
    conflicts = sum(1 for k, v in results if k == "error" and isinstance(v, Conflict))
    others = [repr(v) for k, v in results if k == "error" and not isinstance(v, Conflict)]
    return ok, conflicts, others


class Tally:
    """Pairs whose outcome broke the rule; the test fails at the end with how many of how many, so a run
    against code without the locks reports the rate (the issue's "30 of 30")."""

    def __init__(self, what: str):
        self.what, self.runs, self.bad = what, 0, []

    def check(self, good: bool, detail) -> None:
        self.runs += 1
        if not good:
            self.bad.append(detail)

    def verify(self) -> None:
        assert not self.bad, f"{self.what}: {len(self.bad)} of {self.runs} pairs went wrong, e.g. {self.bad[:2]}"


def _units(n, prefix="竞争"):
    from cordon.places.actions import do_ensure_area

    return [do_ensure_area(f"城关区/皋兰路街道/五泉社区/{prefix}小区/{i}号楼/1单元", actor="test") for i in range(n)]


# ---------------------------------------------------------------------------------------- designations

@needs_pg
@pytest.mark.django_db(transaction=True)
def test_two_designations_of_one_unit_store_one(city, commander):
    """Through the actions (8 pairs) and through the API (4 pairs): one designation, the other 409."""
    from tests.conftest import client_for

    from cordon.zones.actions import do_designate
    from cordon.zones.models import Designation, Status

    t = Tally("designations through the actions")
    for u in _units(PAIRS):
        with clock.frozen(D0):
            res = race(*[lambda u=u: do_designate(u, "high", on=D0, reason="P1 lives here", actor="test")] * 2)
        stored = Designation.objects.filter(area=u).exclude(status=Status.CLOSED).count()
        t.check(outcome(res) == (1, 1, []) and stored == 1, (outcome(res), stored))
    t.verify()

    a, b = client_for(commander), client_for(commander)

    def post(c, u):
        return c.post("/api/designations", data=json.dumps({"area_id": u.pk, "level": "high", "reason": "P1"}),
                      content_type="application/json")

    t = Tally("designations through the API")
    for u in _units(4, prefix="接口"):
        res = race(lambda: post(a, u), lambda: post(b, u))
        codes = sorted(r.status_code if k == "ok" else repr(r) for k, r in res)
        stored = Designation.objects.filter(area=u).count()
        body = next((r.json() for k, r in res if k == "ok" and r.status_code == 409), {})
        t.check(codes == [201, 409] and stored == 1 and body.get("field") == "area"
                and "已划定为" in body.get("detail", ""), (codes, stored, body))  # "already designated" (zh-hans)
    t.verify()


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
def test_two_lifts_and_two_day_ticks_apply_once(city):
    """Two lifts of one designation at once (8 pairs): one lift event. Two ``cordon tick`` for one day
    (4 days): each level change and each #3 flag once, and neither tick dies on flag_once_a_day."""
    from cordon.core.models import AuditEntry
    from cordon.zones import actions as za
    from cordon.zones.models import Designation, Event, EventKind, Flag

    t = Tally("two lifts")
    for d in _designations(_units(PAIRS, prefix="解封")):
        copies = [Designation.objects.get(pk=d.pk) for _ in range(2)]
        with clock.frozen(day(3)):
            res = race(*[lambda c=c: za.do_lift(c, on=day(3), reason="assessed", actor="test") for c in copies])
        lifts = Event.objects.filter(designation=d, kind=EventKind.LIFT).count()
        t.check(outcome(res) == (1, 1, []) and lifts == 1, (outcome(res), lifts))
    t.verify()

    rounds = _designations(_units(6, prefix="日"))
    kept = _designations(_units(3, prefix="留"))
    with clock.frozen(day(7)):
        for d in rounds + kept:
            za.do_record_round(d, on=day(7), result="negative", actor="test")
        for d in kept:
            za.do_keep(d, on=day(7), reason="assessment pending", actor="test")
    ids = [d.pk for d in rounds]
    t = Tally("two ticks of one day")
    for n in range(4):  # days 8..11: high -> medium on day 8, medium -> low on day 11
        on = day(8 + n)
        with clock.frozen(on):
            res = race(lambda: za.do_tick(on, actor="tick"), lambda: za.do_tick(on, actor="tick"))
        changes = Event.objects.filter(designation_id__in=ids, kind=EventKind.CHANGE, on=on).count()
        flags = Flag.objects.filter(on=on, rule="nine-prohibitions-3").count()
        t.check(outcome(res) == (2, 0, []) and changes == (len(rounds) if n in (0, 3) else 0)
                and flags == len(kept), (on, outcome(res), changes, flags))
    t.verify()
    assert AuditEntry.objects.filter(action="designation.change",
                                     object_id__in=[str(i) for i in ids]).count() == 2 * len(rounds)
    assert set(Designation.objects.filter(pk__in=ids).values_list("level", flat=True)) == {"low"}


# ---------------------------------------------------------------------------------------- care

def _care(n_requests, n_vehicles, prefix):
    from cordon.care import actions as ca

    hospital = ca.do_add_hospital(f"兰州市{prefix}医院", actor="test")
    vehicles = [ca.do_add_vehicle(f"甘A·{prefix}{i:03d}", actor="test") for i in range(n_vehicles)]
    unit = _units(1, prefix=prefix)[0]
    with clock.frozen(D0):
        reqs = [ca.do_create_request(person=f"病人{i}", area=unit, need="elderly", actor="test")
                for i in range(n_requests)]
    return hospital, vehicles, reqs


@needs_pg
@pytest.mark.django_db(transaction=True)
def test_two_dispatchers_dispatch_once_and_a_vehicle_serves_one_request(city):
    from cordon.care.actions import do_dispatch_request
    from cordon.care.models import CareRequest, RequestEvent

    hospital, vehicles, reqs = _care(PAIRS, 2 * PAIRS, "一")
    t = Tally("two dispatchers on one request")
    for i, req in enumerate(reqs):
        mine = vehicles[2 * i:2 * i + 2]
        copies = [CareRequest.objects.get(pk=req.pk) for _ in mine]
        with clock.frozen(D0):
            res = race(*[lambda c=c, v=v: do_dispatch_request(c, vehicle=v, hospital=hospital, actor="test")
                         for c, v in zip(copies, mine)])
        req.refresh_from_db()
        winners = [v.vehicle_id for k, v in res if k == "ok"]
        events = RequestEvent.objects.filter(request=req, status="dispatched").count()
        # the stored vehicle is the winner's, not the last writer's
        t.check(outcome(res) == (1, 1, []) and events == 1 and winners == [req.vehicle_id],
                (outcome(res), events, winners, req.vehicle_id))
    t.verify()

    hospital, vehicles, reqs = _care(2 * PAIRS, PAIRS, "二")
    t = Tally("one vehicle on two requests")
    for i, v in enumerate(vehicles):
        pair = reqs[2 * i:2 * i + 2]
        with clock.frozen(D0):
            res = race(*[lambda r=r: do_dispatch_request(r, vehicle=v, hospital=hospital, actor="test")
                         for r in pair])
        open_ = CareRequest.objects.filter(vehicle=v, status__in=["dispatched", "arrived"]).count()
        t.check(outcome(res) == (1, 1, []) and open_ == 1, (outcome(res), open_))
    t.verify()


# ---------------------------------------------------------------------------------------- desks

@needs_pg
@pytest.mark.django_db(transaction=True)
def test_one_caller_logged_twice_and_one_stock_spent_twice(city):
    """Two operators logging the same caller at once: one original and one duplicate linked to it. Two
    issues of the same stock at once: one goes out, the other is refused; the stock never goes negative."""
    from decimal import Decimal

    from cordon.hotline.actions import do_create_ticket
    from cordon.hotline.models import Ticket
    from cordon.supplies import actions as sa
    from cordon.supplies import queries as sq

    t = Tally("two operators, one caller")
    for i in range(PAIRS):
        phone = f"139093{i:05d}"
        res = race(*[lambda: do_create_ticket(phone=phone, category="supplies", text="需要米面", area=city["unit_a"],
                                              actor="test")] * 2)
        originals = Ticket.objects.filter(phone=phone, duplicate_of__isnull=True).count()
        dups = Ticket.objects.filter(phone=phone, duplicate_of__isnull=False).count()
        t.check(outcome(res) == (2, 0, []) and (originals, dups) == (1, 1), (outcome(res), originals, dups))
    t.verify()

    wh = sa.do_create_warehouse("竞争物资点", area=city["community_a"], actor="test")
    item = sa.do_create_item("米", kind="staple", per_person_per_day="1", actor="test")
    t = Tally("two issues of one stock")
    for _ in range(PAIRS):
        sa.do_move_stock(wh, item, direction="in", quantity=10, reason="调拨", actor="test")
        res = race(*[lambda: sa.do_move_stock(wh, item, direction="out", quantity=8, reason="发放", actor="test")] * 2)
        ok, _, others = outcome(res)
        refused = [str(v) for k, v in res if k == "error"]
        have = sq.on_hand(wh)[item.pk]
        t.check(ok == 1 and all("库存仅有" in r for r in refused) and have >= Decimal(0),  # "only N on hand"
                (ok, refused, have))
        if have > 0:
            sa.do_move_stock(wh, item, direction="out", quantity=have, reason="清点", actor="test")
    t.verify()
