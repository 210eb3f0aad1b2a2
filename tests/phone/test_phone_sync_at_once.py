"""A small sync of check-ins on PostgreSQL writes everything in ONE statement (``phone.actions._at_once``: the
check-ins' insert-or-update and their audit rows, the ``Change`` rows, the device's last contact, the sync's audit
row): the same results, rows and audit rows as the ORM's path (``_chunk``) and the per-change path for the same
batch (refusals, an ended order, a change id twice, a change sent before); a change id stored meanwhile by a
concurrent sync sends it the ORM's way with nothing written twice."""
from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from cordon.core import clock, rows
from cordon.core.models import AuditEntry
from cordon.phone import actions, queries
from cordon.phone.models import Change, Device, Status
from tests.phone.test_phone_batch import checkins  # noqa: F401  (the batch of check-ins, a fixture)

pytestmark = pytest.mark.django_db
postgresql = pytest.mark.skipif("connection.vendor != 'postgresql'",
                                reason="data-modifying CTEs are PostgreSQL's")


class _Undo(Exception):
    pass


@pytest.fixture
def scene(checkins, worker):
    """The check-ins of test_phone_batch's batch (refusals, an ended order, the same day twice, an id twice) without
    its tube, with a malformed id and a change sent in an earlier sync."""
    device, changes = checkins["device"], [c for c in checkins["changes"] if c["kind"] == "checkin"]
    earlier = {**changes[1], "id": str(uuid.uuid4()),
               "at": (dt.datetime.fromisoformat(changes[1]["at"]) - dt.timedelta(days=2)).isoformat()}
    actions.do_sync(device, batch=uuid.uuid4(), changes=[earlier], actor=worker)
    Device.objects.filter(pk=device.pk).update(last_seen=None)
    changes[-1:-1] = [{"id": "not-a-uuid", "kind": "checkin", "at": changes[0]["at"], "data": {}}, earlier]
    return {**checkins, "changes": changes, "batch": uuid.uuid4()}


def _snapshot(results, device):
    from cordon.cases.models import CheckIn

    by_id = {c.pk: (c.order_id, c.on) for c in CheckIn.objects.all()}

    def plain(record):
        return record and {**record, "id": by_id[record["id"]]}

    def audit(action):
        return [(a.object_type, a.object_id, a.object_repr, a.after, a.reason, a.occurred_at, a.actor_id,
                 a.actor_name, a.district_id, a.street_id, a.community_id, a.unit_id)
                for a in AuditEntry.objects.filter(action=action).order_by("id")]

    return {
        "results": [{**x, "record": plain(x["record"])} for x in results],
        "rows": sorted((c.order_id, c.on, c.temperature, c.symptoms, c.test_result, c.actor)
                       for c in CheckIn.objects.all()),
        "audit": audit("order.checkin"),
        "sync audit": audit("phone.sync"),
        "changes": sorted((str(c.pk), c.device_id, c.user_id, c.batch, c.kind, c.status, c.message, plain(c.record),
                           c.data, c.at, c.district_id, c.street_id, c.community_id, c.unit_id)
                          for c in Change.objects.all()),
        "seen": Device.objects.get(pk=device.pk).last_seen is not None,
    }


def _run(scene, worker, monkeypatch, way: str):
    with monkeypatch.context() as m:
        if way != "at once":
            m.setattr(actions, "_at_once", lambda *_a, **_k: None)
        if way == "per change":
            m.setattr(actions, "_fast", lambda *_a, **_k: (_ for _ in ()).throw(actions._Retry()))
        try:
            with transaction.atomic():
                device = Device.objects.get(pk=scene["device"].pk)
                with CaptureQueriesContext(connection) as q:
                    out = actions.do_sync(device, batch=scene["batch"], changes=scene["changes"], actor=worker)
                snap = _snapshot(out, device)
                again = actions.do_sync(device, batch=scene["batch"], changes=scene["changes"], actor=worker)
                assert again == out
                assert {k: v for k, v in _snapshot(again, device).items() if k != "sync audit"} == \
                    {k: v for k, v in snap.items() if k != "sync audit"}  # a batch sent again: nothing written twice
                raise _Undo
        except _Undo:
            pass
    return snap, [x["sql"] for x in q.captured_queries]


@postgresql
def test_one_statement_and_the_orm_paths_give_the_same_records(scene, worker, monkeypatch):
    at_once, sql = _run(scene, worker, monkeypatch, "at once")
    orm, orm_sql = _run(scene, worker, monkeypatch, "orm")
    per_change, _ = _run(scene, worker, monkeypatch, "per change")
    assert [x["status"] for x in at_once["results"]] == [Status.APPLIED] * 3 + [Status.FLAGGED] + [
        Status.REJECTED] * 5 + [Status.APPLIED, Status.REJECTED] + [Status.APPLIED] * 2
    for key in at_once:
        assert at_once[key] == orm[key] == per_change[key], key
    assert len(at_once["sync audit"]) == 2 and at_once["seen"]  # the earlier sync's and this one's
    writes = [s for s in sql if s.lstrip().upper().startswith(("INSERT", "UPDATE", "WITH"))]
    assert len(writes) == 1 and writes[0].startswith("WITH"), writes
    assert len(sql) < len(orm_sql)


@postgresql
def test_a_recent_contact_is_not_written_again(scene, worker):
    """The device's ``last_seen`` is rewritten at most once a minute (``Device.SEEN_EVERY``)."""
    device, changes = scene["device"], scene["changes"][:1]
    Device.objects.filter(pk=device.pk).update(last_seen=clock.now() - dt.timedelta(seconds=20))
    device.refresh_from_db()
    with CaptureQueriesContext(connection) as q:
        actions.do_sync(device, batch=uuid.uuid4(), changes=changes, actor=worker)
    assert "phone_device" not in next(x["sql"] for x in q.captured_queries if x["sql"].startswith("WITH"))
    Device.objects.filter(pk=device.pk).update(last_seen=clock.now() - dt.timedelta(minutes=2))
    device.refresh_from_db()
    actions.do_sync(device, batch=uuid.uuid4(), changes=[{**changes[0], "id": str(uuid.uuid4())}], actor=worker)
    assert clock.now() - Device.objects.get(pk=device.pk).last_seen < dt.timedelta(seconds=30)


@postgresql
def test_a_change_stored_meanwhile_takes_the_orm_way(scene, worker, monkeypatch):
    """A change id stored by a concurrent sync after this one read the ids seen: the one statement fails whole
    (nothing written), the ORM's chunk meets it too, and the per-change path answers its stored result."""
    device = scene["device"]
    first = scene["changes"][:2]
    stored = actions.do_sync(device, batch=uuid.uuid4(), changes=first[:1], actor=worker)
    count = AuditEntry.objects.count()
    monkeypatch.setattr(queries, "change_results", lambda _ids: {})  # as if read before the other sync's commit
    out = actions.do_sync(device, batch=uuid.uuid4(), changes=first, actor=worker)
    assert out[0] == stored[0] and out[1]["status"] == Status.APPLIED
    assert Change.objects.filter(pk__in=[c["id"] for c in first]).count() == 2
    assert AuditEntry.objects.count() == count + 2  # the second check-in and the sync: nothing of the first again


def test_rows_by_keys_are_the_orms(scene):
    from cordon.cases.models import PersonOrder

    keys = [o.pk for o in scene["orders"]] + [999_999]
    got = {o.pk: o for o in rows.by_pks(PersonOrder, keys)}
    assert {k: o.__dict__ | {"_state": None} for k, o in got.items()} == \
        {o.pk: o.__dict__ | {"_state": None} for o in PersonOrder.objects.filter(pk__in=keys)}
    assert rows.by_pks(PersonOrder, []) == []
    with pytest.raises((ValueError, TypeError)):
        rows.by_pks(PersonOrder, ["x"])


def test_orders_read_by_key_are_those_the_scope_reads(scene, worker, outsider):
    from cordon.cases.models import PersonOrder
    from cordon.core import access

    keys = [o.pk for o in scene["orders"]]
    for user in (worker, outsider):
        for cap in (access.READ_HEALTH, access.CASES_WRITE, access.VIEW):
            assert set(access.scoped_by_pks(PersonOrder, user, keys, cap)) == \
                set(PersonOrder.objects.for_user(user, cap).filter(pk__in=keys).values_list("pk", flat=True))


@postgresql
def test_parameters_are_written_in_as_psycopg_writes_them():
    import datetime as dt
    from decimal import Decimal

    from psycopg.types.json import Jsonb

    sql = "SELECT %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s"
    params = [None, "it's 100% 'quoted' \\ 王", 7, -2**62, Decimal("36.5"), dt.date(2026, 12, 7),
              dt.datetime(2026, 12, 7, 4, 5, 6, 789, tzinfo=dt.timezone(dt.timedelta(hours=8))),
              uuid.UUID(int=12345), Jsonb({"a": [1, "%s"], "b": None}), True, ""]
    with connection.cursor() as c:
        assert rows.inline(sql, params, c) == c.cursor.mogrify(sql, params)
        c.execute(rows.inline(sql, params, c))
        assert list(c.fetchone()) == [None, params[1], 7, -2**62, Decimal("36.5"), params[5], params[6], params[7],
                                      '{"a": [1, "%s"], "b": null}', True, ""]  # (Django reads jsonb as text)
        with pytest.raises(ValueError):
            rows.inline(sql, params[:-1], c)
