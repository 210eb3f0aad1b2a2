"""``rows.insert_values`` (the values a written-out INSERT sends: a sync's rows, ``save_with_entry``) are exactly
what ``Model.save`` would write, value by value (``rows.insert_value``), whatever the attribute holds: the plain
values taken as they are and every other one prepared by its field."""
from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.db import connection

from cordon.core import audit, rows
from cordon.core.models import AuditEntry, Grant
from cordon.phone.models import Change, Status

pytestmark = pytest.mark.django_db


def _norm(v):
    return ("json", v.obj) if type(v).__name__ in ("Jsonb", "Json") else v  # (psycopg's wrappers: no __eq__)


def _same(model, obj, *, moving=()):
    """Both ways give the same values, of the same types (``moving``: fields whose ``pre_save`` reads the clock,
    compared by type)."""
    fields = rows.insert_columns(model)
    slow = [rows.insert_value(f, obj, connection) for f in fields]
    fast = rows.insert_values(rows.plan(fields), obj, connection)
    assert [type(v) for v in fast] == [type(v) for v in slow]
    assert [_norm(a) for f, a in zip(fields, fast) if f.name not in moving] == \
        [_norm(b) for f, b in zip(fields, slow) if f.name not in moving]
    return dict(zip([f.attname for f in fields], fast))


def test_audit_rows_with_odd_attribute_types(city, worker):
    e = audit.entry("x.test", actor=worker, obj=city["unit_a"], after={"n": 1}, reason="原因")
    assert _same(AuditEntry, e)["actor_id"] == worker.pk
    e.object_id, e.actor_id, e.district_id = 5, "7", None  # an int for a text field, a text for a key
    got = _same(AuditEntry, e)
    assert got["object_id"] == "5" and got["actor_id"] == 7 and got["district_id"] is None
    e.action = Status.FLAGGED  # a str subclass (a choices member): prepared by the field, as save would
    _same(AuditEntry, e)


def test_fields_with_their_own_pre_save_and_other_types(city, worker):
    g = Grant(user=worker, role="volunteer", area=city["community_a"])  # created: auto_now_add
    assert isinstance(_same(Grant, g, moving={"created"})["created"], (dt.datetime, str))
    c = Change(id=uuid.uuid4(), device_id=uuid.uuid4(), user=worker, batch=uuid.uuid4(), kind="checkin",
               at=dt.datetime(2022, 3, 1, 8, tzinfo=dt.UTC), received=dt.datetime(2022, 3, 1, 9, tzinfo=dt.UTC),
               data={"order": 1}, status=Status.APPLIED, message="", record={"a": [1]})
    _same(Change, c)
    c.record, c.message, c.user_id = None, "消息", str(worker.pk)
    _same(Change, c)
