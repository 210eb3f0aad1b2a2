"""The day start's set-based statements (the release of ended orders, the beds given back after the centralized
days) and the release's bound. Called by ``cases.actions`` (``do_release_due``, ``do_discharge_after_centralized``),
which hold the SQLite paths; measured by ``cordon bench contacts``."""
from __future__ import annotations

import datetime as dt

from django.db import transaction

from cordon.cases.models import Facility, PersonOrder, Placement, ReleaseMark
from cordon.core import access, audit, clock
from cordon.core.models import AuditEntry

STEP_DOWN_REASON = "centralized quarantine over: home days follow"
STEP_DOWN_RULE = "order centralized days (pack)"


def discharge_after_centralized_pg(on: dt.date, actor) -> int:
    """PostgreSQL: ``do_discharge_after_centralized`` as one statement, as the release is (a day's cohort can be a
    hundred thousand beds): the open placements of active orders whose centralized days ended before ``on`` are
    discharged on the day after (compare-and-set: ``discharged_on IS NULL``), and the rows they return feed the
    ``facility.discharge`` audit rows (the columns ``audit.entry`` fills for a facility) and the beds given back."""
    from django.db import connection

    qn = connection.ops.quote_name
    po, pl, au, fa = PersonOrder._meta, Placement._meta, AuditEntry._meta, Facility._meta
    col = lambda meta, name: qn(meta.get_field(name).column)  # noqa: E731
    scope = ", ".join(f"f.{col(fa, lv)}" for lv in access.LEVELS)
    p_, o_, f_ = qn(pl.db_table), qn(po.db_table), qn(fa.db_table)
    sql = f"""
        WITH dis AS (
            UPDATE {p_} p SET {col(pl, 'discharged_on')} = o.{col(po, 'centralized_until')} + 1
            FROM {o_} o
            WHERE p.{col(pl, 'discharged_on')} IS NULL AND p.{col(pl, 'order')} = o.{col(po, 'id')}
              AND o.{col(po, 'status')} = 'active' AND o.{col(po, 'centralized_until')} < %(on)s
              AND p.{col(pl, 'admitted_on')} <= o.{col(po, 'centralized_until')}
            RETURNING p.{col(pl, 'id')} AS id, p.{col(pl, 'facility')} AS facility_id,
                      p.{col(pl, 'discharged_on')} AS day, o.{col(po, 'label')} AS person
        ), ins AS (
            INSERT INTO {qn(au.db_table)} ({', '.join(col(au, f) for f in AUDIT_COLUMNS)})
            SELECT %(at)s, %(actor_id)s, %(actor)s, 'facility.discharge', 'facility', CAST(f.{col(fa, 'id')} AS text),
                   SUBSTR(f.{col(fa, 'name')}, 1, 400), NULL,
                   jsonb_build_object('placement', dis.id, 'person', dis.person, 'on', dis.day), %(reason)s,
                   %(rule)s, {scope}
            FROM dis JOIN {f_} f ON f.{col(fa, 'id')} = dis.facility_id
            RETURNING 1
        ), freed AS (
            SELECT facility_id, count(*) AS n FROM dis GROUP BY facility_id
        ), beds AS (
            UPDATE {f_} SET {col(fa, 'occupied')} = {col(fa, 'occupied')} - freed.n
            FROM freed WHERE {f_}.{col(fa, 'id')} = freed.facility_id
            RETURNING 1
        )
        SELECT (SELECT count(*) FROM dis), (SELECT count(*) FROM ins), (SELECT count(*) FROM beds)"""
    return _run_day_start(sql, {"on": on, "reason": STEP_DOWN_REASON, "rule": STEP_DOWN_RULE}, actor)


def release_bound(on: dt.date) -> dt.date | None:
    """Inside the release's transaction: the day before which every active order's free day lies after (the
    ``ReleaseMark``; None when no release has completed), moved on to ``on`` for when this release commits (never
    backwards). On PostgreSQL the orders are locked against writes first (SHARE ROW EXCLUSIVE, which two releases
    also take one after the other): an order made meanwhile is either committed before the release reads (and
    released by it) or made after it, when its own later statement finds the moved mark and moves it back
    (``cases.actions._make_order``); SQLite runs one writer at a time already."""
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute(f"LOCK TABLE {connection.ops.quote_name(PersonOrder._meta.db_table)} "
                        "IN SHARE ROW EXCLUSIVE MODE")
    since = ReleaseMark.objects.values_list("day", flat=True).first()
    if since is None:
        ReleaseMark.objects.create(day=on)
    elif since < on:
        ReleaseMark.objects.update(day=on)
    return since


def release_due_pg(on: dt.date, actor) -> int:
    """PostgreSQL: the same four writes as one statement (data-modifying CTEs), no id lists sent back and
    forth: the released rows feed the placements' discharge and the audit rows inside the server, and the
    discharged placements give their beds back (``occupied`` less the count per facility). Only the orders
    with a free day after the last release's mark are read (``release_bound``), through the free_on index."""
    from django.db import connection

    qn = connection.ops.quote_name
    po, pl, au, fa = PersonOrder._meta, Placement._meta, AuditEntry._meta, Facility._meta
    col = lambda meta, name: qn(meta.get_field(name).column)  # noqa: E731
    scope = ", ".join(col(po, lv) for lv in access.LEVELS)
    with transaction.atomic():
        since = release_bound(on)
        bound = "" if since is None else f" AND {col(po, 'free_on')} > %(since)s"
        sql = f"""
        WITH rel AS (
            UPDATE {qn(po.db_table)} SET {col(po, 'status')} = 'released', {col(po, 'released_on')} = %(on)s
            WHERE {col(po, 'status')} = 'active' AND {col(po, 'free_on')} <= %(on)s{bound}
            RETURNING {col(po, 'id')} AS id, {col(po, 'label')} AS label, {col(po, 'free_on')} AS free_on, {scope}
        ), dis AS (
            UPDATE {qn(pl.db_table)} SET {col(pl, 'discharged_on')} = %(on)s
            FROM rel WHERE {col(pl, 'discharged_on')} IS NULL AND {col(pl, 'order')} = rel.id
            RETURNING {col(pl, 'facility')} AS facility_id
        ), ins AS (
            INSERT INTO {qn(au.db_table)} ({', '.join(col(au, f) for f in AUDIT_COLUMNS)})
            SELECT %(at)s, %(actor_id)s, %(actor)s, 'order.release', 'order', CAST(id AS text), SUBSTR(label, 1, 400),
                   NULL, jsonb_build_object('released_on', %(on)s::date, 'free_on', free_on), '',
                   'order end (pack)', {scope}
            FROM rel
            RETURNING 1
        ), freed AS (
            SELECT facility_id, count(*) AS n FROM dis GROUP BY facility_id
        ), beds AS (
            UPDATE {qn(fa.db_table)} SET {col(fa, 'occupied')} = {col(fa, 'occupied')} - freed.n
            FROM freed WHERE {qn(fa.db_table)}.{col(fa, 'id')} = freed.facility_id
            RETURNING 1
        )
        SELECT (SELECT count(*) FROM rel), (SELECT count(*) FROM ins), (SELECT count(*) FROM beds)"""
        return _run_day_start(sql, {"on": on, "since": since}, actor, read_all=since is None)


#: the audit row's columns a day-start statement fills (what ``audit.entry`` fills)
AUDIT_COLUMNS = ("at", "actor", "actor_name", "action", "object_type", "object_id", "object_repr", "before", "after",
                  "reason", "rule", *access.LEVELS)


def _run_day_start(sql: str, params: dict, actor, *, read_all: bool = True) -> int:
    """Run one of the day start's set-based statements on PostgreSQL in its own transaction, with the audit
    rows' moment and actor (``%(at)s``, ``%(actor)s``, ``%(actor_id)s``) added to ``params``; the first number
    it answers. ``read_all``: the statement reads most of the orders (no narrower bound than a day)."""
    from django.db import connection

    with transaction.atomic(), connection.cursor() as cur:
        # Room to hash a day's ids in memory (the default 4 MB spills 100 k ids to disk and turns a join into
        # one index probe per row); no JIT compilation (on a larger table the plan's cost passes
        # jit_above_cost, and compiling takes longer than the plan saves). Without a bound the orders are read
        # in file order: the orders of past days (released long ago) are most of the table and match
        # ``free_on <= day`` too, so the free_on index would lead to nearly every row, one buffer lookup each
        # (500 k orders: 0.31-0.43 s through the index against 0.16-0.18 s read in order, on a busy machine).
        cur.execute("SET LOCAL work_mem = '64MB'")
        cur.execute("SET LOCAL jit = off")
        if read_all:
            cur.execute("SET LOCAL enable_indexscan = off")
            cur.execute("SET LOCAL enable_bitmapscan = off")
        cur.execute(sql, {**params, "at": clock.now(), "actor": audit.actor_name(actor),
                          "actor_id": None if (actor is None or isinstance(actor, str)) else actor.pk})
        return cur.fetchone()[0]
