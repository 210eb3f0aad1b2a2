"""The day start's set-based writes on PostgreSQL: the step-down (the beds of people whose centralized days are over
given back, ``cases.actions.do_discharge_after_centralized``) and the release of the orders whose free day has come
(``cases.actions.do_release_due``), each one statement (data-modifying CTEs) that writes its rows and their audit
rows inside the server, with no id lists sent back and forth; the beds they free are given back after them, in one
more statement.

**In parts, at once.** A day on which a hundred thousand orders end keeps one PostgreSQL backend busy for about two
seconds (``cordon bench contacts``), while the database has more cores. On such a day, and when the caller's
transaction has written nothing yet (so no row it holds can be waited for), the orders table is cut into block
ranges holding about as many of the day's orders each (a sample of its pages), and each range is stepped down and
released by its own connection, in its own transaction, at the same time (``CORDON_DAY_START_PARTS``, default 2;
1 keeps one connection). A part reads only its blocks (a TID range scan), so the parts write disjoint orders and
placements; the beds each part gives back are written last in its transaction, facilities locked in id order, so
two parts never wait for each other in a circle. Each part is whole on its own: an order is released together with
its audit row and its bed, and a part that fails rolls back alone; the day start then fails and its retry releases
what is left (an order already released is not due any more), so nothing is lost and nothing done twice. Inside a
caller's transaction that has written (a test's, a scenario's), everything runs on the caller's connection.
"""
from __future__ import annotations

import datetime as dt
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

from django.conf import settings
from django.db import connection, transaction

from cordon.cases.models import Facility, PersonOrder, Placement
from cordon.core import access, audit, clock
from cordon.core.models import AuditEntry

STEP_DOWN_REASON = "centralized quarantine over: home days follow"
STEP_DOWN_RULE = "order centralized days (pack)"

#: the audit row's columns a day-start statement fills (what ``audit.entry`` fills)
AUDIT_COLUMNS = ("at", "actor", "actor_name", "action", "object_type", "object_id", "object_repr", "before", "after",
                 "reason", "rule", *access.LEVELS)

#: a day start with fewer orders due than this (estimated from a sample) runs on one connection: a part's own
#: connection and transaction cost more than they save
PARTS_FROM = 20_000

#: pages of the orders table read to estimate how many orders are due and where they lie
SAMPLE_PAGES = 2_000

#: one statement's settings: room to hash a day's ids in memory (the default 4 MB spills 100 k ids to disk and turns
#: a join into one index probe per row); no JIT compilation (on a larger table the plan's cost passes
#: jit_above_cost, and compiling takes longer than the plan saves). The orders are read in file order: the orders of
#: past days (released long ago) are most of the table and match ``free_on <= day`` too, so the free_on index would
#: lead to nearly every row, one buffer lookup each (500 k orders: 0.31-0.43 s through the index against 0.16-0.18 s
#: read in order, on a busy machine).
_SETTINGS = (("work_mem", "64MB"), ("jit", "off"), ("enable_indexscan", "off"), ("enable_bitmapscan", "off"))


def _names():
    qn = connection.ops.quote_name

    def col(model, name: str) -> str:
        return qn(model._meta.get_field(name).column)

    return qn, col


class _Day:
    """What every statement of one day start shares: the day, and its audit rows' moment and actor (taken once, by
    the caller's thread)."""

    def __init__(self, on: dt.date, actor):
        self.on = on
        self.params = {"on": on, "at": clock.now(), "actor": audit.actor_name(actor),
                       "actor_id": None if (actor is None or isinstance(actor, str)) else actor.pk}


def _blocks(alias: str, blocks: tuple[int | None, int | None] | None) -> tuple[str, dict]:
    """The SQL condition keeping the orders (``alias``) of a block range, and its parameters."""
    if blocks is None:
        return "", {}
    lo, hi = blocks
    cond, params = [], {}
    if lo is not None:
        cond.append(f"{alias}ctid >= %(lo)s::tid")
        params["lo"] = f"({lo},0)"
    if hi is not None:
        cond.append(f"{alias}ctid < %(hi)s::tid")
        params["hi"] = f"({hi},0)"
    return "".join(c + " AND " for c in cond), params


def _step_down(cur, day: _Day, blocks, freed: Counter) -> int:
    """The open placements of active orders whose centralized days ended before the day are discharged on the day
    after those days (compare-and-set: ``discharged_on IS NULL``), with one ``facility.discharge`` audit row each
    (the columns ``audit.entry`` fills for a facility); the beds they free are added to ``freed``."""
    qn, col = _names()
    po, pl, fa = PersonOrder, Placement, Facility
    scope = ", ".join(f"f.{col(fa, lv)}" for lv in access.LEVELS)
    p_, o_, f_ = qn(pl._meta.db_table), qn(po._meta.db_table), qn(fa._meta.db_table)
    where, params = _blocks("o.", blocks)
    cur.execute(f"""
        WITH dis AS (
            UPDATE {p_} p SET {col(pl, 'discharged_on')} = o.{col(po, 'centralized_until')} + 1
            FROM {o_} o
            WHERE {where}p.{col(pl, 'discharged_on')} IS NULL AND p.{col(pl, 'order')} = o.{col(po, 'id')}
              AND o.{col(po, 'status')} = 'active' AND o.{col(po, 'centralized_until')} < %(on)s
              AND p.{col(pl, 'admitted_on')} <= o.{col(po, 'centralized_until')}
            RETURNING p.{col(pl, 'id')} AS id, p.{col(pl, 'facility')} AS facility_id,
                      p.{col(pl, 'discharged_on')} AS day, o.{col(po, 'label')} AS person
        ), ins AS (
            INSERT INTO {qn(AuditEntry._meta.db_table)} ({', '.join(col(AuditEntry, f) for f in AUDIT_COLUMNS)})
            SELECT %(at)s, %(actor_id)s, %(actor)s, 'facility.discharge', 'facility', CAST(f.{col(fa, 'id')} AS text),
                   SUBSTR(f.{col(fa, 'name')}, 1, 400), NULL,
                   jsonb_build_object('placement', dis.id, 'person', dis.person, 'on', dis.day), %(reason)s,
                   %(rule)s, {scope}
            FROM dis JOIN {f_} f ON f.{col(fa, 'id')} = dis.facility_id
            RETURNING 1
        ), freed AS (
            SELECT facility_id, count(*) AS n FROM dis GROUP BY facility_id
        )
        SELECT (SELECT count(*) FROM dis), (SELECT count(*) FROM ins),
               (SELECT array_agg(facility_id ORDER BY facility_id) FROM freed),
               (SELECT array_agg(n ORDER BY facility_id) FROM freed)""",
                {**day.params, **params, "reason": STEP_DOWN_REASON, "rule": STEP_DOWN_RULE})
    return _counted(cur.fetchone(), freed)


def _release(cur, day: _Day, blocks, freed: Counter) -> int:
    """Every active order whose free day has come is released, with one ``order.release`` audit row each (the
    columns ``audit.entry`` fills for an order), and the person's open placement discharged on the day; the beds
    they free are added to ``freed``."""
    qn, col = _names()
    po, pl = PersonOrder, Placement
    scope = ", ".join(col(po, lv) for lv in access.LEVELS)
    where, params = _blocks("", blocks)
    cur.execute(f"""
        WITH rel AS (
            UPDATE {qn(po._meta.db_table)} SET {col(po, 'status')} = 'released', {col(po, 'released_on')} = %(on)s
            WHERE {where}{col(po, 'status')} = 'active' AND {col(po, 'free_on')} <= %(on)s
            RETURNING {col(po, 'id')} AS id, {col(po, 'label')} AS label, {col(po, 'free_on')} AS free_on, {scope}
        ), dis AS (
            UPDATE {qn(pl._meta.db_table)} SET {col(pl, 'discharged_on')} = %(on)s
            FROM rel WHERE {col(pl, 'discharged_on')} IS NULL AND {col(pl, 'order')} = rel.id
            RETURNING {col(pl, 'facility')} AS facility_id
        ), ins AS (
            INSERT INTO {qn(AuditEntry._meta.db_table)} ({', '.join(col(AuditEntry, f) for f in AUDIT_COLUMNS)})
            SELECT %(at)s, %(actor_id)s, %(actor)s, 'order.release', 'order', CAST(id AS text), SUBSTR(label, 1, 400),
                   NULL, jsonb_build_object('released_on', %(on)s::date, 'free_on', free_on), '',
                   'order end (pack)', {scope}
            FROM rel
            RETURNING 1
        ), freed AS (
            SELECT facility_id, count(*) AS n FROM dis GROUP BY facility_id
        )
        SELECT (SELECT count(*) FROM rel), (SELECT count(*) FROM ins),
               (SELECT array_agg(facility_id ORDER BY facility_id) FROM freed),
               (SELECT array_agg(n ORDER BY facility_id) FROM freed)""", {**day.params, **params})
    return _counted(cur.fetchone(), freed)


def _counted(row, freed: Counter) -> int:
    n, written, facilities, counts = row
    if n != written:  # one audit row per row written, or nothing
        raise RuntimeError(f"day start: {n} rows written with {written} audit rows")
    freed.update(dict(zip(facilities or [], counts or [])))
    return n


def _give_beds_back(cur, freed: Counter) -> None:
    """``occupied`` less the beds freed, per facility, the facilities locked in id order first (two parts giving
    beds back to the same facilities take them in the same order: one waits, neither deadlocks)."""
    if not freed:
        return
    qn, col = _names()
    f_, fid, occ = qn(Facility._meta.db_table), col(Facility, "id"), col(Facility, "occupied")
    ids = sorted(freed)
    cur.execute(f"SELECT {fid} FROM {f_} WHERE {fid} = ANY(%s) ORDER BY {fid} FOR UPDATE", [ids])
    cur.execute(f"UPDATE {f_} SET {occ} = {occ} - v.n FROM unnest(%s::bigint[], %s::bigint[]) AS v(id, n) "
                f"WHERE {f_}.{fid} = v.id", [ids, [freed[i] for i in ids]])


def _run(work) -> int:
    """``work(cursor)`` in a transaction (a savepoint inside the caller's) with the statements' settings, which are
    put back after it succeeded (the caller's transaction goes on); on an error the rollback undoes them, and the
    error raised is the statement's (a statement in the failed transaction would raise "transaction aborted")."""
    with transaction.atomic(), connection.cursor() as cur:
        for name, value in _SETTINGS:
            cur.execute(f"SET LOCAL {name} = '{value}'")
        out = work(cur)
        for name, _value in _SETTINGS:
            cur.execute(f"SET LOCAL {name} TO DEFAULT")
        return out


def discharge_after_centralized(on: dt.date, actor) -> int:
    """``do_discharge_after_centralized`` on PostgreSQL, on this connection: the placements discharged."""
    day, freed = _Day(on, actor), Counter()

    def work(cur):
        n = _step_down(cur, day, None, freed)
        _give_beds_back(cur, freed)
        return n

    return _run(work)


def release_due(on: dt.date, actor, *, parts: int | None = None) -> int:
    """``do_release_due`` on PostgreSQL: the step-down, then the release; in ``parts`` (the setting's by default)
    block ranges at once when the day is large and the caller's transaction has written nothing. The orders
    released."""
    day = _Day(on, actor)
    ranges = _ranges(on, parts)
    if ranges is None:
        return _run(lambda cur: _part(cur, day, None))

    def on_own_connection(blocks) -> int:
        try:
            return _run(lambda cur: _part(cur, day, blocks))
        finally:
            connection.close()  # this thread's own connection

    with ThreadPoolExecutor(len(ranges), thread_name_prefix="day-start-") as pool:
        done = [pool.submit(on_own_connection, blocks) for blocks in ranges]
    return sum(f.result() for f in done)  # every part has ended; a part's error is raised here


def _part(cur, day: _Day, blocks) -> int:
    freed: Counter = Counter()
    _step_down(cur, day, blocks, freed)
    n = _release(cur, day, blocks, freed)
    _give_beds_back(cur, freed)
    return n


def _ranges(on: dt.date, parts: int | None) -> list[tuple[int | None, int | None]] | None:
    """The block ranges of the orders table for ``parts`` connections, each holding about as many of the orders due
    on ``on`` (from a sample of ``SAMPLE_PAGES`` pages), or None to run on the caller's connection: one part, a day
    with fewer than ``PARTS_FROM`` orders due (when ``parts`` is the setting's), or a caller's transaction that has
    written (its rows' locks could be waited for by a part while it waits for the parts). The first range has no
    lower bound and the last no upper one (pages added meanwhile belong to it)."""
    forced = parts is not None
    parts = parts if forced else settings.CORDON_DAY_START_PARTS
    if parts < 2:
        return None
    qn, col = _names()
    with connection.cursor() as cur:
        if connection.in_atomic_block:
            cur.execute("SELECT pg_current_xact_id_if_assigned() IS NOT NULL")
            if cur.fetchone()[0]:
                return None
        table = PersonOrder._meta.db_table
        cur.execute("SELECT pg_relation_size(%s) / current_setting('block_size')::int", [table])
        pages = cur.fetchone()[0]
        share = 100.0 if pages <= SAMPLE_PAGES else 100.0 * SAMPLE_PAGES / pages
        cur.execute(f"SELECT (ctid::text::point)[0]::bigint AS b FROM {qn(table)} TABLESAMPLE SYSTEM (%s) REPEATABLE (0) "
                    f"WHERE {col(PersonOrder, 'status')} = 'active' AND {col(PersonOrder, 'free_on')} <= %s ORDER BY b",
                    [share, on])
        sample = [b for (b,) in cur.fetchall()]
    if not forced and len(sample) * 100.0 / share < PARTS_FROM:
        return None
    if len(sample) >= parts:
        cuts = [sample[len(sample) * i // parts] for i in range(1, parts)]
    else:
        cuts = [pages * i // parts for i in range(1, parts)]
    cuts = sorted({c for c in cuts if c > 0})
    if not cuts:
        return None
    return list(zip([None, *cuts], [*cuts, None]))
