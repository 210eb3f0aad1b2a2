"""The sync's batch path (a chunk's tubes through ``screening.do_register_tubes``, one set of reads and writes)
and its per-change path (each tube through ``do_register_tube`` in a savepoint of its own: the path a chunk takes
again when it meets a concurrent sync) give the same results, rows and audit rows for the same batch: duplicates
(in the batch and before it), refusals, a change id sent twice, chunks in between."""
from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import pytest
from django.db import transaction

from cordon.core import clock, ids
from cordon.core.actions import ActionError
from cordon.core.models import AuditEntry
from cordon.phone import actions
from cordon.phone.models import Change, Device, Status

pytestmark = pytest.mark.django_db


class _Undo(Exception):
    pass


def _people(city, n):
    from cordon.places.actions import do_create_resident

    return [do_create_resident(city["hh_a"], {"name": f"居民{i}", "id_number": ids.make_id_number(
        "620102", dt.date(1980, 1, 1), 300 + i, "M"), "phone": f"139094{i:05d}"}, actor="test").pk for i in range(n)]


def _tube(rnd, barcode, people, at=None, cid=None):
    return {"id": cid or str(uuid.uuid4()), "kind": "tube", "at": (at or clock.now()).isoformat(),
            "data": {"round": rnd, "barcode": barcode, "residents": people}}


@pytest.fixture
def scene(city, worker):
    from cordon.screening.actions import do_create_round, do_register_tube

    rnd = do_create_round(name="批量", on=clock.today(), pool_size=5, areas=[city["community_a"]], actor="test")
    p = _people(city, 12)
    do_register_tube(rnd, barcode="OLD-1", residents=[p[11]], actor="test")  # registered before the sync
    device = Device.objects.get(pk=actions.do_register_device(worker, "手机").pk)
    earlier = _tube(rnd.pk, "TE-1", [p[10]])
    actions.do_sync(device, batch=uuid.uuid4(), changes=[earlier], actor=worker)  # a change sent before
    r, now = rnd.pk, clock.now()
    changes = [
        _tube(r, "TA-1", [p[0]]),
        _tube(r, "TA-1", [p[1]]),                      # the same barcode again in the batch: duplicate
        _tube(r, "TA-2", [p[0]]),                      # a person again in the batch: duplicate
        _tube(r, "OLD-1", [p[2]]),                    # a barcode registered before: duplicate
        _tube(r, "TA-3", [p[3], p[11]]),               # a person registered before: duplicate
        {"id": str(uuid.uuid4()), "kind": "nonsense", "at": now.isoformat(), "data": {}},
        _tube(r, "TA-4", [p[1], p[2], p[2]]),          # applied (the repeated person once)
        _tube(r, "TA-5", [999_999_999]),               # unknown: rejected
        _tube(r, "TA-6", [city["resident_b"].pk]),     # another community's: rejected
        _tube(r, "", [p[4]]),                         # no barcode: rejected
        _tube(r + 999, "TA-7", [p[4]]),                # no such round: rejected
        _tube(r, "TA-8", [p[4]], at=now - dt.timedelta(days=3)),  # outside the round's window: rejected
        _tube(r, "TA-9", p[4:10]),                     # more than the pool: rejected
        _tube(r, "TA-10", "p4"),                       # not a list: rejected
        {"id": str(uuid.uuid4()), "kind": "tube", "at": "yesterday", "data": {"round": r}},
        earlier,                                      # sent before: its stored result
        _tube(r, "TA-11", [p[5], p[6]]),
        _tube(r, "TA-12", [p[6], p[7]]),               # p6 in the tube before: duplicate
        _tube(r, "TA-13", [p[8]], cid=None),
    ]
    changes.append(dict(changes[0]))                  # an id again in a later chunk: the first one's result
    changes.append(dict(changes[16]))                 # ... and in the same chunk
    return {"round": rnd, "device": device, "changes": changes}


def _snapshot(rnd, results):
    """What a sync left, with the database's ids replaced by the tubes' barcodes (the two runs' ids differ)."""
    from django.db.models import Sum

    from cordon.screening.models import ImportBatch, Sample, SampleTally
    from cordon.screening.queries import registered_in
    from cordon.places.models import Resident

    by_id = {s.pk: s.barcode for s in Sample.objects.filter(round=rnd)}

    def plain(record):
        return record and {k: (by_id[v] if k == "id" and record.get("type") == "sample" else v)
                           for k, v in record.items()}

    audit = [(a.action, by_id.get(int(a.object_id)) if a.object_type == "sample" else a.object_id, a.object_repr,
              a.after, a.reason, a.occurred_at, a.actor_name, a.district_id, a.street_id, a.community_id,
              a.unit_id)
             for a in AuditEntry.objects.filter(action="screening.tube_register").order_by("id")]
    return {
        "results": [{**x, "record": plain(x["record"])} for x in results],
        "samples": sorted((s.barcode, s.people, s.sampled_at, s.site) for s in Sample.objects.filter(round=rnd)),
        "batches": sorted((b.kind, b.source, b.size, b.status, b.line, b.rows_ok, b.actor)
                          for b in ImportBatch.objects.filter(round=rnd)),
        "tally": sorted(SampleTally.objects.filter(round_id=rnd.pk).values_list("unit_id", "day")
                        .annotate(n=Sum("n"))),
        "registered": sorted(Resident.objects.filter(registered_in(rnd)).values_list("pk", flat=True)),
        "audit": sorted(audit, key=lambda a: (a[1] or "", a[0])),
        "changes": sorted((str(c.pk), c.kind, c.status, c.message, plain(c.record), c.at if c.at != c.received else None,
                           c.district_id,
                           c.community_id, c.unit_id) for c in Change.objects.all()),
    }


def _run(scene, worker, monkeypatch, *, fast: bool):
    with monkeypatch.context() as m:
        m.setattr(actions, "CHUNK", 8)  # the batch spans three chunks
        if not fast:
            def per_change(*_a, **_k):
                raise actions._Retry
            m.setattr(actions, "_fast", per_change)
        try:
            with transaction.atomic():
                out = actions.do_sync(scene["device"], batch=uuid.uuid4(), changes=scene["changes"], actor=worker)
                snap = _snapshot(scene["round"], out)
                again = actions.do_sync(scene["device"], batch=uuid.uuid4(), changes=scene["changes"], actor=worker)
                assert again == out and _snapshot(scene["round"], again) == snap  # a retried batch: nothing twice
                raise _Undo
        except _Undo:
            pass
    return snap


def test_batch_and_per_change_paths_give_the_same_records(scene, worker, monkeypatch):
    fast = _run(scene, worker, monkeypatch, fast=True)
    slow = _run(scene, worker, monkeypatch, fast=False)
    statuses = [x["status"] for x in fast["results"]]
    assert statuses == [Status.APPLIED, Status.DUPLICATE, Status.DUPLICATE, Status.DUPLICATE, Status.DUPLICATE,
                        Status.REJECTED, Status.APPLIED] + [Status.REJECTED] * 8 + [Status.APPLIED] * 2 + [
        Status.DUPLICATE, Status.APPLIED, Status.APPLIED, Status.APPLIED]
    for key in fast:
        assert fast[key] == slow[key], key
    assert len(fast["samples"]) == 1 + 5 and all((a[5] is not None) == (a[1] != "OLD-1") for a in fast["audit"])


def test_a_concurrent_registration_sends_the_chunk_the_per_change_way(scene, worker, monkeypatch):
    """People registered by a concurrent sync after the batch read the round (the bitmaps' check fails): the
    chunk is undone and done again change by change, each tube applied once."""
    from cordon.screening import actions as sa

    real, calls = sa.register_people, []

    def racing(round_id, people):
        calls.append(len(people))
        if len(calls) == 1:
            raise ActionError("registered meanwhile", field="batch")
        return real(round_id, people)

    monkeypatch.setattr(sa, "register_people", racing)
    rnd = scene["round"].pk
    people = _people_free(scene)
    changes = [_tube(rnd, f"TR-{i}", [p]) for i, p in enumerate(people)]
    out = actions.do_sync(scene["device"], batch=uuid.uuid4(), changes=changes, actor=worker)
    assert [x["status"] for x in out] == [Status.APPLIED] * len(people)
    assert calls[0] == len(people) and calls[1:] == [1] * len(people)
    assert AuditEntry.objects.filter(action="screening.tube_register", object_repr__contains="TR-").count() == 3


def _people_free(scene):
    from cordon.places.models import Resident
    from cordon.screening.queries import registered_in

    return list(Resident.objects.filter(name__startswith="居民").exclude(registered_in(scene["round"]))
                .order_by("id").values_list("pk", flat=True)[:3])


@pytest.fixture
def checkins(city, worker, outsider):
    from cordon.cases import actions as ca
    from cordon.cases.models import PersonOrder

    today = clock.today()
    inf = ca.do_record_infection(label="P-9", home=city["unit_a"], found="community", confirmed_on=today,
                                 actor="test")
    orders = [ca.do_register_contact(inf, label=f"K-{i}", last_exposure=today - dt.timedelta(days=1),
                                     identified_on=today, home=home, resident=who, actor="test")
              for i, (home, who) in enumerate([(city["unit_a"], city["resident_a"]),
                                               (city["unit_a"], city["resident_a2"]),
                                               (city["unit_a"], None), (city["unit_b"], city["resident_b"])])]
    PersonOrder.objects.filter(pk=orders[2].pk).update(status="released", released_on=today)
    device = Device.objects.get(pk=actions.do_register_device(worker, "手机").pk)
    now = clock.now() - dt.timedelta(minutes=20)

    def ci(order, **data):
        return {"id": str(uuid.uuid4()), "kind": "checkin", "at": (data.pop("at", now)).isoformat(),
                "data": {"order": order, **data}}

    a, b, ended, other = (o.pk for o in orders)
    changes = [ci(a, temperature=36.5), ci(b, temperature=37.9, symptoms="咳嗽"),
               ci(a, temperature=36.9, at=now + dt.timedelta(minutes=5)),   # the same day again: replaces
               ci(ended, temperature=36.6),                                   # an ended order: flagged
               ci(other, temperature=36.6),                                   # another community's: rejected
               ci(a, temperature=52), ci(a, temperature="hot"), ci(a, symptoms=7), ci(999_999, temperature=36.6),
               _tube(1, "TX-1", [1]),                                         # no such round, in between
               ci(b, temperature=None, at=now - dt.timedelta(days=1))]        # the day before: a row of its own
    changes.append(dict(changes[1]))
    return {"device": device, "changes": changes, "orders": orders}


def _checkin_snapshot(results):
    from cordon.cases.models import CheckIn

    by_id = {c.pk: (c.order_id, c.on) for c in CheckIn.objects.all()}
    plain = [{**x, "record": x["record"] and {**x["record"], "id": by_id[x["record"]["id"]]}} for x in results]
    return {
        "results": plain,
        "rows": sorted((c.order_id, c.on, c.temperature, c.symptoms, c.test_result, c.actor)
                       for c in CheckIn.objects.all()),
        "audit": [(a.object_id, a.after, a.occurred_at, a.actor_name, a.community_id, a.unit_id)
                  for a in AuditEntry.objects.filter(action="order.checkin").order_by("id")],
        "changes": sorted((str(c.pk), c.status, c.message, c.at, c.community_id, c.unit_id)
                          for c in Change.objects.filter(kind="checkin")),
    }


def test_checkins_batch_and_per_change_paths_give_the_same_records(checkins, worker, monkeypatch):
    snaps = []
    for fast in (True, False):
        with monkeypatch.context() as m:
            m.setattr(actions, "CHUNK", 7)
            if not fast:
                m.setattr(actions, "_fast", lambda *_a, **_k: (_ for _ in ()).throw(actions._Retry()))
            try:
                with transaction.atomic():
                    out = actions.do_sync(checkins["device"], batch=uuid.uuid4(), changes=checkins["changes"],
                                          actor=worker)
                    snaps.append(_checkin_snapshot(out))
                    again = actions.do_sync(checkins["device"], batch=uuid.uuid4(), changes=checkins["changes"],
                                            actor=worker)
                    assert again == out and _checkin_snapshot(again) == snaps[-1]
                    raise _Undo
            except _Undo:
                pass
    fast, slow = snaps
    assert [x["status"] for x in fast["results"]] == [Status.APPLIED] * 3 + [Status.FLAGGED] + [
        Status.REJECTED] * 6 + [Status.APPLIED] * 2
    for key in fast:
        assert fast[key] == slow[key], key
    a = checkins["orders"][0].pk
    assert [r[2] for r in fast["rows"] if r[0] == a] == [Decimal("36.9")]  # the later one of the day
    assert len(fast["rows"]) == 4 and len(fast["audit"]) == 5
