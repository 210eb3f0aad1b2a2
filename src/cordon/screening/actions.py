"""Screening actions (DESIGN.md #2): each is atomic and writes its audit row.

- ``do_create_round``: a round over the whole city, chosen nodes, or the extent of designated risk areas.
- ``do_refresh_round``: coverage per node (district .. compound; buildings and units counted on demand by
  ``queries.coverage_children``) and per day, tube figures, and recall tasks for positive pools -- all set-based SQL
  (GROUP BY on the ancestor ids the units carry).
- ``do_record_retest``: a single-tube retest result for one person of a positive pool; a positive one
  becomes an infection through ``cases.actions.do_record_infection``.
- ``do_register_tube``: one pooled tube registered by hand (a sampling team's phone, synced later): the same
  tube row, bitmaps and tally as an import, its own audit row; a tube or person already registered in the round
  is a ``DuplicateTube`` (nothing written).
- ``do_close_round`` / ``do_reopen_round`` (``do_set_round_status`` picks one): a closed round takes no more
  registrations; closing records its outcome as the full round of every designated area it covers whole
  (``zones.actions.do_record_round``). A round closes itself when every registered tube has a result
  (``do_refresh_round``, and the periodic ``do_close_complete_rounds``).
"""
from __future__ import annotations

import datetime as dt
from concurrent.futures import Future, wait

from django.db import connection, transaction
from django.db.models import Count, Q
from django.utils.translation import gettext as _

from cordon.cases.actions import do_record_infection
from cordon.cases.models import Found
from cordon.core import access, audit, clock
from cordon.core.actions import ActionError, Conflict, lock, serialize_all
from cordon.core.models import LEVELS, AuditEntry
from cordon.places.models import Area, Resident
from cordon.zones.actions import do_record_round
from cordon.zones.models import Event, EventKind, Member

from . import hooks
from .ingest import id_in
from .ingest.batches import _refuse_closed
from .ingest.parse import _barcode_error, _text_error
from .ingest.samples import register_people, tally_rows, write_tally
from .models import (ROUND_TRANSITIONS, BatchKind, BatchStatus, Coverage, CoverageDay, CoverageRow, ImportBatch,
                     RecallMember, RecallTask, Retest, Round, RoundArea, RoundStatus, Sample, SampleTally, TaskStatus,
                     TubeResult, decode_ids)
from .queries import (MATERIALISED, SAMPLED_IN_UNIT, access_round, covered_filter, designations_covered,
                      positive_inside, registered_in, tube_figures)

POOL_SIZES = (10, 5)   # POLICY.md: pooled 10-in-1, 5-in-1 alternative


def _require_write(actor, areas) -> None:
    if actor is None or isinstance(actor, str):
        return
    scope = access.scope_for(actor, access.SCREENING_WRITE)
    if not areas:
        if not scope.everything:
            raise access.Forbidden  # a whole-city round needs a city-wide grant
        return
    view = access.scope_for(actor, access.VIEW)
    for a in areas:
        if not view.contains(a):
            raise access.NotFound
        if not scope.contains(a):
            raise access.Forbidden


@transaction.atomic
def do_create_round(*, name: str, on: dt.date, pool_size: int = 10, coverage: str = Coverage.AREAS, areas=(),
                    designations=(), actor=None, reason: str = "") -> Round:
    """Create a round. ``areas`` for chosen nodes; ``designations`` for designated areas (their current
    extent); a whole-city round needs a city-wide grant."""
    name = (name or "").strip()
    if not name or len(name) > 120:
        raise ActionError(_("a name of 1 to 120 characters is required"), field="name")
    if pool_size not in POOL_SIZES:
        raise ActionError(_("pooling is 10-in-1 or 5-in-1"), field="pool_size")
    if coverage not in Coverage.values:
        raise ActionError(_("coverage must be one of %(values)s")
                          % {"values": ', '.join(Coverage.values)}, field="coverage")
    if not isinstance(on, dt.date):
        raise ActionError(_("a date is required"), field="on")
    designations = list(designations)
    nodes: list[Area] = []
    designation = None
    if coverage == Coverage.AREAS:
        nodes = [a for a in areas if a is not None]
        if not nodes:
            raise ActionError(_("choose at least one area"), field="areas")
    elif coverage == Coverage.DESIGNATED:
        if not designations:
            raise ActionError(_("choose at least one designated area"), field="designations")
        for d in designations:
            nodes += [m.area for m in Member.objects.filter(designation=d, removed_on__isnull=True)
                      .select_related("area")] or [d.area]
        designation = designations[0] if len(designations) == 1 else None
    _require_write(actor, nodes)
    # keep the top nodes only (a node under another chosen node adds nothing)
    ids_ = {a.pk for a in nodes}
    top = []
    for a in sorted({a.pk: a for a in nodes}.values(), key=lambda a: a.depth):
        anc = {getattr(a, f"{lv}_id") for lv in LEVELS[: a.depth]}
        if not (anc & ids_):
            top.append(a)
    r = Round.objects.create(name=name, coverage=coverage, on=on, pool_size=pool_size, designation=designation,
                             created=clock.now(), created_by=audit.actor_name(actor))
    ras = []
    for a in top:
        ra = RoundArea(round=r, area=a)
        ra.set_scope_from(a)
        ras.append(ra)
    RoundArea.objects.bulk_create(ras)
    audit.record("screening.round_create", actor=actor, obj=r, scope=top[0] if len(top) == 1 else None,
                 after={"name": name, "on": on, "pool_size": pool_size, "coverage": coverage,
                        "areas": [a.path for a in top], "designations": [d.pk for d in designations]},
                 reason=reason)
    return r


# ---------------------------------------------------------------------------------------------- coverage


#: Levels kept as ``CoverageRow`` rows by ``_refresh_coverage``. Buildings and units (~95 % of a city's nodes)
#: are counted when asked, for the children of one node at a time (``coverage_children``).
def _refresh_coverage(r: Round) -> dict:
    """Recompute the round's coverage rows (district, street, community, compound: ~13 k rows for a city;
    buildings and units are counted on demand by ``coverage_children``) and per-day counts, from the
    registrations' tally (``SampleTally``: counts per unit and day written with each import chunk).

    Due = residents of the covered units (``Area.population``, kept by every write), sampled = their tally
    rows, counted per unit and never more than the unit's residents (``SAMPLED_IN_UNIT``: people sampled who
    have since moved out would otherwise hide the unit's, or a neighbour's, residents still missing). One pass
    sums the round's tally per unit and joins it to the covered units (sampled per compound), one pass over the
    units sums what is due per compound; the compound rows are then summed into each level above. The day counts
    per district (every registration of the round) come from a temporary table of the tally by district and
    day. A node's parent and ancestors are its units' (the hierarchy is strict: a node of level i lies under one
    node of each level above)."""
    cov = CoverageRow._meta.db_table
    area = Area._meta.db_table
    tally = SampleTally._meta.db_table
    tmp = "screening_cov_tally"
    # the connection's own temporary table (names resolve to it first; dropped by its qualified name)
    own_tmp = f"{'pg_temp' if connection.vendor == 'postgresql' else 'temp'}.{tmp}"
    anc = ", ".join(f"{lv}_id" for lv in LEVELS)
    cond, params = covered_filter(r, "a")
    with connection.cursor() as c:
        c.execute(f"DELETE FROM {cov} WHERE round_id = %s", [r.pk])
        c.execute(f"DELETE FROM {CoverageDay._meta.db_table} WHERE round_id = %s", [r.pk])
        c.execute(f"DROP TABLE IF EXISTS {own_tmp}")
        c.execute(f"CREATE TEMPORARY TABLE {tmp} (district_id bigint, day date, n bigint)")
        c.execute(f"INSERT INTO {tmp} (district_id, day, n) "
                  f"SELECT a.district_id, t.day, sum(t.n) FROM {tally} t LEFT JOIN {area} a ON a.id = t.unit_id "
                  f"WHERE t.round_id = %s GROUP BY 1, 2", [r.pk])
        # compounds: due summed from the covered units (grouped by compound alone: SQLite reads them in the
        # order of its compound index; every unit of a compound has the same ancestors), sampled from the
        # tally of the covered units, unit by unit at most its residents
        c.execute(
            f"INSERT INTO {cov} (round_id, area_id, kind, parent_id, due, sampled, {anc}) "
            f"SELECT %s, d.compound_id, 'compound', d.community_id, d.due, coalesce(s.n, 0), d.district_id, "
            f"d.street_id, d.community_id, d.compound_id, NULL, NULL FROM "
            f"(SELECT a.compound_id, max(a.district_id) AS district_id, max(a.street_id) AS street_id, "
            f"max(a.community_id) AS community_id, sum(a.population) AS due FROM {area} a "
            f"WHERE a.kind = 'unit' AND a.compound_id IS NOT NULL{cond} GROUP BY a.compound_id) d "
            f"LEFT JOIN (SELECT a.compound_id, sum({SAMPLED_IN_UNIT.format(n='u.n', population='a.population')}) "
            f"AS n FROM (SELECT unit_id, sum(n) AS n FROM {tally} WHERE round_id = %s GROUP BY unit_id) u "
            f"JOIN {area} a ON a.id = u.unit_id WHERE a.kind = 'unit'{cond} GROUP BY a.compound_id) s "
            f"ON s.compound_id = d.compound_id", [r.pk, *params, r.pk, *params])
        # every level above: sums of the compound rows
        for i in range(len(MATERIALISED) - 2, -1, -1):
            lv, cols = MATERIALISED[i], MATERIALISED[: i + 1]
            keys = ", ".join(f"{x}_id" for x in cols)
            nulls = ", ".join(["NULL"] * (len(LEVELS) - len(cols)))
            parent = f"{MATERIALISED[i - 1]}_id" if i else "NULL"
            c.execute(
                f"INSERT INTO {cov} (round_id, area_id, kind, parent_id, due, sampled, {anc}) "
                f"SELECT %s, {lv}_id, %s, {parent}, sum(due), sum(sampled), {keys}, {nulls} FROM {cov} "
                f"WHERE round_id = %s AND kind = 'compound' GROUP BY {keys}", [r.pk, lv, r.pk])
        # per day (city time, counted at import) and district: every registration of the round
        c.execute(f"INSERT INTO {CoverageDay._meta.db_table} (round_id, day, district_id, sampled) "
                  f"SELECT %s, day, district_id, sum(n) FROM {tmp} GROUP BY day, district_id", [r.pk])
        c.execute(f"DROP TABLE {own_tmp}")
        c.execute(f"SELECT coalesce(sum(due), 0), coalesce(sum(sampled), 0) FROM {cov} "
                  f"WHERE round_id = %s AND kind = 'district'", [r.pk])
        due, sampled = c.fetchone()
    return {"due": int(due), "sampled": int(sampled)}


def _build_recall(r: Round) -> dict:
    """Recall tasks: everyone registered in a positive tube, grouped by unit (new people only)."""
    smp, res = Sample._meta.db_table, TubeResult._meta.db_table
    # Driven from the few positive tubes: their barcodes first, then the round's tubes by the (round, barcode)
    # index, then the people's units (their homes now).
    with connection.cursor() as c:
        c.execute(f"SELECT barcode FROM {res} WHERE result = 'positive'")
        positive = [b for (b,) in c.fetchall()]
        people = []
        for i in range(0, len(positive), 500):
            part = positive[i:i + 500]
            c.execute(f"SELECT barcode, people FROM {smp} WHERE round_id = %s AND barcode IN "
                      f"({', '.join(['%s'] * len(part))})", [r.pk, *part])
            people += [(rid, bc) for bc, ids_ in c.fetchall() for rid in decode_ids(ids_)]
        unit_of = {}
        for i in range(0, len(people), 50_000):
            cond, param = id_in("id", [rid for rid, _ in people[i:i + 50_000]])
            c.execute(f"SELECT id, unit_id FROM {Resident._meta.db_table} WHERE {cond}", [param])
            unit_of.update(c.fetchall())
    rows = [(rid, bc, unit_of.get(rid)) for rid, bc in people]
    rows.sort(key=lambda x: (x[2] or 0, x[0]))
    if not rows:
        return {"tasks_new": 0, "people_new": 0}
    existing = set(RecallMember.objects.filter(task__round=r).values_list("resident_id", flat=True))
    rows = [x for x in rows if x[0] not in existing and x[2]]
    if not rows:
        return {"tasks_new": 0, "people_new": 0}
    # Set-based writes (a city round's first refresh makes thousands of tasks and ~10 k members): tasks for
    # units without one, copied with their scope from the areas; members with the scope of their task;
    # people per touched task counted by the database.
    task_t, member_t, area_t = RecallTask._meta.db_table, RecallMember._meta.db_table, Area._meta.db_table
    anc = ", ".join(f"{lv}_id" for lv in LEVELS)
    unit_ids = sorted({x[2] for x in rows})
    in_units, unit_param = id_in("a.id", unit_ids)
    with connection.cursor() as c:
        c.execute(f"INSERT INTO {task_t} (round_id, area_id, status, created, people, retested, positives, {anc}) "
                  f"SELECT %s, a.id, %s, %s, 0, 0, 0, {', '.join(f'a.{lv}_id' for lv in LEVELS)} FROM {area_t} a "
                  f"WHERE {in_units} AND NOT EXISTS (SELECT 1 FROM {task_t} t WHERE t.round_id = %s "
                  f"AND t.area_id = a.id)",
                  [r.pk, TaskStatus.OPEN, connection.ops.adapt_datetimefield_value(clock.now()), unit_param, r.pk])
        tasks_new = c.rowcount
        in_areas, area_param = id_in("area_id", unit_ids)
        c.execute(f"SELECT area_id, id, {anc} FROM {task_t} WHERE round_id = %s AND {in_areas}", [r.pk, area_param])
        task_of = {row[0]: row[1:] for row in c.fetchall()}
        members = [(task_of[uid][0], rid, bc, *task_of[uid][1:]) for rid, bc, uid in rows if uid in task_of]
        insert = f"INSERT INTO {member_t} (task_id, resident_id, barcode, retest, retested_at, infection_id, {anc}) "
        if connection.vendor == "postgresql" and members:
            # one statement for all of them (thousands of people after a city round's first refresh)
            cols = ", ".join(f"c{i}" for i in range(3, 9))
            c.execute(insert + f"SELECT c0, c1, c2, '', NULL, NULL, {cols} FROM unnest(%s::bigint[], %s::bigint[], "
                      f"%s::text[], {', '.join(['%s::bigint[]'] * 6)}) AS u(c0, c1, c2, {cols})",
                      [list(col) for col in zip(*members)])
        else:
            c.executemany(insert + "VALUES (%s, %s, %s, '', NULL, NULL, %s, %s, %s, %s, %s, %s)", members)
        in_tasks, task_param = id_in("id", sorted(t[0] for t in task_of.values()))
        c.execute(f"UPDATE {task_t} SET status = %s, people = (SELECT count(*) FROM {member_t} m "
                  f"WHERE m.task_id = {task_t}.id) WHERE round_id = %s AND {in_tasks}",
                  [TaskStatus.OPEN, r.pk, task_param])
    return {"tasks_new": tasks_new, "people_new": len(rows)}


def do_refresh_round(r: Round, *, actor=None, reason: str = "", close_complete: bool = True) -> Round:
    """Coverage, tube figures and recall tasks of the round, recomputed from the registrations and results.

    Outside a caller's transaction on PostgreSQL the tube figures (a join of the round's ~400 k tubes with
    the results: a read of committed rows) are counted on a second connection while this one rewrites the
    coverage and the recall tasks. An open round whose registered tubes all have a result (none invalid) closes
    itself (``do_close_round``, see ``_complete``) unless ``close_complete`` is false."""
    if actor is not None and not isinstance(actor, str):
        access_round(actor, r.pk, write=True)
    apart = connection.vendor == "postgresql" and not connection.in_atomic_block
    aside = _aside(tube_figures, r) if apart else None
    try:
        with transaction.atomic():
            cov = _refresh_coverage(r)
            recall = _build_recall(r)
            tubes = aside.result() if aside is not None else tube_figures(r)
            people = RecallMember.objects.filter(task__round=r).count()
            Round.objects.filter(pk=r.pk).update(refreshed=clock.now(), people_recalled=people, **cov, **tubes)
            r.refresh_from_db()
            audit.record("screening.round_refresh", actor=actor, obj=r, after={**cov, **tubes, **recall,
                                                                                "people_recalled": people},
                         reason=reason)
            if close_complete and _complete(r, tubes):
                do_close_round(r, actor="system", automatic=True, tubes=tubes,
                               reason="results complete: every registered tube has a result")
    finally:
        if aside is not None:
            wait([aside])  # never leave its thread and connection behind
    return r


def _aside(fn, *args):
    """``fn(*args)`` on another thread with its own database connection (closed after): a Future."""
    import threading

    from django.db import connections

    fut: Future = Future()

    def run():
        try:
            fut.set_result(fn(*args))
        except BaseException as e:
            fut.set_exception(e)
        finally:
            connections.close_all()

    threading.Thread(target=run, name="cordon-aside", daemon=True).start()
    return fut


# ---------------------------------------------------------------------------------------------- one tube


class DuplicateTube(Conflict):
    """The tube, or one of its people, is registered in the round already: reported, nothing written."""


#: how long before and after the round's day a tube may be sampled (the importers' window)
TUBE_WINDOW = (dt.timedelta(days=1), dt.timedelta(days=3))


def _tube_input(r: Round, barcode, residents, site) -> tuple[str, list[int]]:
    """A tube's own checks (nothing read): its barcode and site, its people (1 to the round's pool size)."""
    barcode = (barcode or "").strip()
    bad = _barcode_error(barcode) or _text_error("site", site or "")
    if bad:
        raise ActionError(bad[1], field=bad[0])
    if not isinstance(residents, (list, tuple)) or not all(isinstance(x, int) and not isinstance(x, bool)
                                                           and 0 < x < 2**63 for x in residents):
        raise ActionError(_("a list of resident ids is required"), field="residents")
    people = list(dict.fromkeys(residents))
    if not people or len(people) > r.pool_size:
        raise ActionError(_("a tube holds 1 to %(n)s people in this round") % {"n": r.pool_size}, field="residents")
    return barcode, people


def _tube_scope(actor):
    return access.scope_for(actor, access.SCREENING_WRITE) if actor is not None and not isinstance(actor, str) \
        else None


def _tube_placed(r: Round, people: list[int], found: dict, scope, when: dt.datetime) -> None:
    """Its people known in the actor's jurisdiction (``found``: resident id -> Resident), its time in the
    round's sampling window."""
    unknown = [p for p in people if p not in found or (scope is not None and not scope.contains(found[p]))]
    if unknown:
        raise ActionError(_("no resident %(id)s in your jurisdiction") % {"id": unknown[0]}, field="residents")
    day0 = dt.datetime.combine(r.on, dt.time(0), tzinfo=clock.tz())
    if not (day0 - TUBE_WINDOW[0] <= when <= day0 + TUBE_WINDOW[1]):
        raise ActionError(_("outside the round's sampling window (%(on)s)") % {"on": r.on}, field="sampled_at")


@transaction.atomic
def do_register_tube(r: Round, *, barcode: str, residents, sampled_at: dt.datetime | None = None, site: str = "",
                     actor=None, reason: str = "", round_checked: bool = False) -> Sample:
    """Register one pooled tube by hand: its people (resident ids, at most the round's pool size) sampled at
    ``sampled_at`` (now by default). Written as an import writes a tube (the ``Sample`` row under a batch of its
    own, the people set in the round's bitmaps, the day's tally, ``hooks.AFTER_BATCH``), audited
    ``screening.tube_register``. A person outside the actor's jurisdiction is answered as an unknown one; a
    barcode or a person already registered in the round raises ``DuplicateTube``. ``round_checked``: the caller
    has checked the actor's write access to the round already (``queries.access_round(actor, r.pk, write=True)``;
    the phone sync checks each round once per sync)."""
    (result,) = do_register_tubes(r, [{"barcode": barcode, "residents": residents, "sampled_at": sampled_at,
                                       "site": site, "occurred": audit.occurred_now()}],
                                  actor=actor, reason=reason, round_checked=round_checked)
    if isinstance(result, Exception):
        raise result
    return result  # its place (the first person's home) set, for the caller


@transaction.atomic
def do_register_tubes(r: Round, tubes: list[dict], *, actor=None, reason: str = "",
                      round_checked: bool = False) -> list:
    """Register many tubes of one round, each as if registered alone, one after the other in the order given
    (``do_register_tube`` is its one-tube case), with the reads and writes done once for all: ``tubes`` are dicts with ``barcode``, ``residents``, ``sampled_at`` (None: now),
    ``site`` and ``occurred`` (the moment the audit row says it happened, ``audit.occurred``). Returns, per
    tube, its ``Sample`` (``place`` set) or the ``ActionError`` / ``DuplicateTube`` the single action would
    have raised (a tube refused writes nothing; a later tube sees the earlier ones registered). Used by the
    phone sync (a phone's batch of tubes)."""
    import uuid

    import numpy as np

    out: list = [None] * len(tubes)
    todo = []  # (index, barcode, people, tube)
    for i, t in enumerate(tubes):
        try:
            todo.append((i, *_tube_input(r, t.get("barcode"), t.get("residents"), t.get("site", ""))))
        except ActionError as exc:
            out[i] = exc
    if not todo:
        return out
    if actor is not None and not isinstance(actor, str) and not round_checked:
        access_round(actor, r.pk, write=True)
    try:
        _refuse_closed(r.pk)
    except ActionError as exc:
        for i, *_rest in todo:
            out[i] = exc
        return out
    found = {x.pk: x for x in Resident.objects.filter(pk__in={p for _i, _b, people in todo for p in people})}
    scope = _tube_scope(actor)
    now = clock.now()
    placed = []
    for i, barcode, people in todo:
        try:
            _tube_placed(r, people, found, scope, tubes[i].get("sampled_at") or now)
            placed.append((i, barcode, people))
        except ActionError as exc:
            out[i] = exc
    serialize_all([("screening.tube", r.pk, b) for _i, b, _p in placed])
    barcodes = set(Sample.objects.filter(round=r, barcode__in={b for _i, b, _p in placed})
                   .values_list("barcode", flat=True))
    taken = set(Resident.objects.filter(pk__in={p for _i, _b, people in placed for p in people})
                .filter(registered_in(r)).values_list("pk", flat=True))
    kept = []
    for i, barcode, people in placed:
        again = sorted(p for p in people if p in taken)
        if barcode in barcodes:
            out[i] = DuplicateTube(_("tube %(barcode)s is already registered in round %(name)s")
                                   % {"barcode": barcode, "name": r.name}, field="barcode")
        elif again:
            out[i] = DuplicateTube(_("resident %(id)s is already registered in round %(name)s")
                                   % {"id": again[0], "name": r.name}, field="residents")
        else:
            barcodes.add(barcode)
            taken.update(people)
            kept.append((i, barcode, people))
    if not kept:
        return out
    audit.check_text(reason, "reason")  # where the single action's audit row checked it: after the tubes' own
    name = audit.actor_name(actor)
    batches = ImportBatch.objects.bulk_create([
        ImportBatch(kind=BatchKind.SAMPLES, key=f"tube:{uuid.uuid4().hex}", round=r, source="tube", size=1,
                    status=BatchStatus.DONE, line=1, rows_ok=len(people), started=now, finished=now, actor=name)
        for _i, _b, people in kept])
    samples = Sample.objects.bulk_create([
        Sample(round=r, batch_id=b.pk, barcode=barcode, site=(tubes[i].get("site") or "")[:80],
               sampled_at=tubes[i].get("sampled_at") or now, people=people)
        for (i, barcode, people), b in zip(kept, batches)])
    everyone = [p for _i, _b, people in kept for p in people]
    register_people(r.pk, np.array(everyone, dtype=np.int64))
    days = [(s.sampled_at.astimezone(clock.tz()).date().toordinal(),) * len(s.people) for s in samples]
    write_tally(tally_rows(r.pk, np.array([found[p].unit_id for p in everyone], dtype=np.int64),
                           np.array([d for ds in days for d in ds], dtype=np.int64)))
    rows = []
    for (i, barcode, people), s in zip(kept, samples):
        t = tubes[i]
        with audit.occurred(t.get("occurred")):
            rows.append(audit.entry(
                "screening.tube_register", actor=actor, object_type="sample", object_id=s.pk,
                object_repr=f"{r.name} {barcode}"[:400], scope=found[people[0]],
                after={"round": r.pk, "barcode": barcode, "residents": people, "sampled_at": s.sampled_at,
                       "site": t.get("site", "")}, reason=reason))
        s.place = found[people[0]]
        out[i] = s
    AuditEntry.objects.bulk_create(rows)
    for b in batches:
        for _name, fn in hooks.AFTER_BATCH:
            fn(b)
    return out


# ---------------------------------------------------------------------------------------------- recall
@transaction.atomic
def do_record_retest(member: RecallMember, *, result: str, actor=None, reason: str = "",
                     confirmed_on: dt.date | None = None) -> RecallMember:
    """A single-tube retest result for one recalled person; positive -> a new infection (cases)."""
    if result not in (Retest.NEGATIVE, Retest.POSITIVE):
        raise ActionError(_("result must be negative or positive"), field="result")
    member = RecallMember.objects.select_for_update().select_related("task", "task__round", "task__area").get(
        pk=member.pk)
    if actor is not None and not isinstance(actor, str):
        access.require_in_scope(actor, member, access.SCREENING_WRITE)
    if member.retest:
        raise ActionError(_("this person's retest is already recorded (%(retest)s)")
                          % {"retest": member.retest}, field="result")
    before = member.retest
    member.retest = result
    member.retested_at = clock.now()
    task = member.task
    if result == Retest.POSITIVE:
        resident = Resident.objects.get(pk=member.resident_id)
        rnd = task.round
        found = Found.CONTROLLED_AREA if rnd.designation_id else Found.COMMUNITY
        # when the person was sampled: in the tube's row that lists them
        sampled = [t.sampled_at for t in Sample.objects.filter(round=rnd, barcode=member.barcode)
                   .order_by("sampled_at") if resident.pk in t.people][:1]
        member.infection = do_record_infection(
            label=f"筛{rnd.pk}-{resident.pk}"[:40], home=Area.objects.get(pk=resident.unit_id), found=found,
            confirmed_on=confirmed_on or clock.today(), resident=resident,
            sampled_at=sampled[0] if sampled else None,
            reported_at=member.retested_at, actor=actor,
            reason=f"single-tube retest positive (round {rnd.pk}, pool {member.barcode})")
    member.save(update_fields=["retest", "retested_at", "infection"])
    agg = RecallMember.objects.filter(task=task).aggregate(
        done=Count("id", filter=~Q(retest="")), pos=Count("id", filter=Q(retest=Retest.POSITIVE)), n=Count("id"))
    status = TaskStatus.DONE if agg["done"] == agg["n"] else TaskStatus.OPEN
    RecallTask.objects.filter(pk=task.pk).update(retested=agg["done"], positives=agg["pos"], status=status)
    audit.record("screening.retest", actor=actor, obj=member, object_repr=f"{task.area.path} {member.barcode}",
                 before={"retest": before or "pending"},
                 after={"retest": result, "infection": member.infection.label if member.infection else None},
                 reason=reason)
    for _name, fn in hooks.AFTER_RETEST:
        fn(member.resident_id, result, member.retested_at.astimezone(clock.tz()).date(), member.infection, actor)
    return member


def _complete(r: Round, tubes: dict) -> bool:
    """An open round is complete when every registered tube has a result (none invalid, which asks for a
    resample) and its sampling is over: its day has passed, or everyone due is sampled. (Results of the
    morning's tubes all in while the afternoon is still sampling is not the end of a round.)"""
    return (r.status == RoundStatus.OPEN and bool(tubes["tubes"]) and tubes["tubes_reported"] == tubes["tubes"]
            and not tubes["tubes_invalid"] and (r.on < clock.today() or r.sampled >= r.due))


def _round_outcome(r: Round, d, tubes: dict) -> str | None:
    """What a closed round says of one designation it covers: positive (a positive pool with someone living
    inside), negative (every registered tube has a result, none positive or invalid), or None (incomplete: it
    says nothing, and the area goes on waiting for its round)."""
    if tubes["tubes_positive"] and positive_inside(r, d):
        return "positive"
    if tubes["tubes"] and tubes["tubes_reported"] == tubes["tubes"] and not tubes["tubes_invalid"]:
        return "negative"
    return None


@transaction.atomic
def do_close_round(r: Round, *, actor=None, reason: str = "", automatic: bool = False,
                   tubes: dict | None = None) -> Round:
    """Close a round: it takes no more registrations, and its outcome goes to the clock of every designated
    area whose whole extent it covers (``zones.actions.do_record_round``, dated the round's day: the pack's
    engine decides whether that day counts). ``automatic``: closed because every registered tube has a
    result (``tubes``: the figures the caller has just counted)."""
    lock(r)  # of two concurrent closes only one goes on; registrations being written finish first
    if actor is not None and not isinstance(actor, str):
        access_round(actor, r.pk, write=True)
    if r.status == RoundStatus.CLOSED:
        raise Conflict(_("round %(name)s is already closed") % {"name": r.name}, field="status")
    if not automatic:
        do_refresh_round(r, actor=actor, reason="closing the round", close_complete=False)
    tubes = tubes if tubes is not None else tube_figures(r)
    r.status = RoundStatus.CLOSED
    r.save(update_fields=["status"])
    counted = {}
    for d in designations_covered(r):
        result = _round_outcome(r, d, tubes)
        counted[d.area.path] = result or "incomplete"
        why = f"screening round {r.pk}"
        if result is None or Event.objects.filter(designation=d, kind=EventKind.ROUND, on=r.on, reason=why,
                                                  result=result).exists():
            continue  # incomplete, or already counted when it was closed before
        do_record_round(d, on=r.on, result=result, actor=actor, reason=why)
    audit.record("screening.round_close", actor=actor, obj=r, before={"status": RoundStatus.OPEN},
                 after={"status": RoundStatus.CLOSED, **tubes, "areas": counted},
                 reason=reason or ("results complete" if automatic else ""))
    return r


@transaction.atomic
def do_reopen_round(r: Round, *, actor=None, reason: str = "") -> Round:
    """Reopen a closed round (late registrations or results to take in): only with a reason."""
    lock(r)
    if actor is not None and not isinstance(actor, str):
        access_round(actor, r.pk, write=True)
    if r.status != RoundStatus.CLOSED:
        raise Conflict(_("round %(name)s is not closed") % {"name": r.name}, field="status")
    audit.require_reason(reason, _("reopening a round needs a reason"))
    r.status = RoundStatus.OPEN
    r.save(update_fields=["status"])
    audit.record("screening.round_reopen", actor=actor, obj=r, before={"status": RoundStatus.CLOSED},
                 after={"status": RoundStatus.OPEN}, reason=reason)
    return r


@transaction.atomic
def do_set_round_status(r: Round, status: str, *, actor=None, reason: str = "") -> Round:
    """Close or reopen (``ROUND_TRANSITIONS``)."""
    if status not in ROUND_TRANSITIONS.get(r.status, set()):
        raise Conflict(_("a round cannot go from %(status)s to %(status2)s")
                       % {"status": r.status, "status2": status}, field="status")
    if status == RoundStatus.CLOSED:
        return do_close_round(r, actor=actor, reason=reason)
    return do_reopen_round(r, actor=actor, reason=reason)


def do_close_complete_rounds(now=None, *, actor="system") -> dict:
    """The periodic job: every open round that is complete (``_complete``) closes itself. Looks only at rounds
    with registrations and a results batch finished since their figures were last counted."""
    from django.db.models import Max

    closed = []
    # the last results batch to finish, read once for every round (results batches belong to no round)
    last_results = ImportBatch.objects.filter(kind="results", finished__isnull=False).aggregate(
        last=Max("finished"))["last"]
    for r in Round.objects.filter(status=RoundStatus.OPEN, batches__kind="samples").distinct().order_by("pk"):
        if r.refreshed is not None and (last_results is None or last_results < r.refreshed):
            continue
        t = tube_figures(r)
        if not (t["tubes"] and t["tubes_reported"] == t["tubes"] and not t["tubes_invalid"]):
            continue  # a tube still waits for its result (one join): a refresh would say no more
        with transaction.atomic():  # each round on its own
            do_refresh_round(r, actor=actor, reason="results arrived")
        r.refresh_from_db()
        if r.status == RoundStatus.CLOSED:
            closed.append(r.pk)
    return {"closed": closed}
