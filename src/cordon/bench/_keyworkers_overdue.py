"""The overdue part of ``cordon bench keyworkers``: ``--kw-workers`` key workers (200 000) of ``--kw-employers``
employers, residents of the city spread over every district, each with a year of on-site samples (the latest one
0 to N+1 days ago, N the group's interval, so that some are overdue today, one in a hundred never sampled; the year behind
it one every max(N, ``--kw-history-every``) days, written by one statement); the latest negative day and
the first overdue day are set as the actions keep them. Then, as the city-wide commander, ``--kw-requests``
times each: today's whole overdue list (every row, as the export reads it), its first page (as the page and
the API show it) and the per-employer / per-community counts. Goal (issue 17): today's overdue list for the
whole city under 1 s on PostgreSQL."""
from __future__ import annotations

import datetime as dt
import random
import time

GROUPS = (("delivery", 3), ("high_mobility", 3), ("fever_clinic", 1), ("inbound_contact", 1))
GOAL_S = 1.0


def add_arguments(p) -> None:
    p.add_argument("--kw-workers", type=int, default=200_000, help="key workers to register")
    p.add_argument("--kw-employers", type=int, default=40, help="employers they work for")
    p.add_argument("--kw-days", type=int, default=365, help="days of samples behind today")
    p.add_argument("--kw-history-every", type=int, default=7,
                   help="the samples of the year: one every max(N, this many) days (N: the group's interval)")
    p.add_argument("--kw-requests", type=int, default=10, help="timed reads of each kind")


def _log(msg: str) -> None:
    import sys

    print(msg, file=sys.stderr, flush=True)


def seed(args, today: dt.date) -> dict:
    """Employers, workers and their samples; returns counts."""
    from cordon.bench.contacts import _analyze, _insert
    from cordon.keyworkers.models import Employer, EmployerKind, KeyWorker
    from cordon.places.models import Resident

    rng = random.Random(args.seed)
    employers = [Employer(name=f"bench-employer-{i:03d}", kind=EmployerKind.values[i % len(EmployerKind.values)])
                 for i in range(args.kw_employers)]
    Employer.objects.bulk_create(employers)
    employers = list(Employer.objects.order_by("id"))
    top = Resident.objects.order_by("-id").values_list("id", flat=True).first() or 0
    n = min(args.kw_workers, top)
    picked = sorted(rng.sample(range(1, top + 1), n))
    scope = {r[0]: r[1:] for r in Resident.objects.filter(id__in=picked).values_list(
        "id", "district_id", "street_id", "community_id", "compound_id", "building_id", "unit_id").iterator(10_000)}
    start = today - dt.timedelta(days=args.kw_days)
    now = dt.datetime.combine(today, dt.time(8), tzinfo=dt.UTC)
    workers, overdue = [], 0
    t = time.perf_counter()
    for pid in picked:
        if pid not in scope:
            continue
        group, every = GROUPS[rng.randrange(len(GROUPS))]
        # the latest negative sample 0 .. N+1 days ago (N+1: overdue today); one in a hundred never sampled
        last = None if rng.random() < 0.01 else today - dt.timedelta(days=rng.randint(0, every + 1))
        overdue_from = last + dt.timedelta(days=every + 1) if last else start
        overdue += overdue_from <= today
        dist, street, comm, comp, bldg, unit = scope[pid]
        workers.append(KeyWorker(person_id=pid, group=group, employer=employers[rng.randrange(len(employers))],
                                 registered_on=start, cadence_days=every, last_negative=last, overdue_from=overdue_from,
                                 district_id=dist, street_id=street, community_id=comm, compound_id=comp,
                                 building_id=bldg, unit_id=unit))
    _insert(KeyWorker, workers)
    _log(f"  {len(workers):,} key workers in {time.perf_counter() - t:.1f} s")
    t = time.perf_counter()
    written = _samples(start, max(1, args.kw_history_every), now)
    _log(f"  {written:,} samples in {time.perf_counter() - t:.1f} s")
    _analyze()
    return {"workers": len(workers), "samples": written, "overdue": overdue}


_ANC = "district_id, street_id, community_id, compound_id, building_id, unit_id"

_PG_SAMPLES = f"""
INSERT INTO keyworkers_onsitesample (worker_id, "on", result, recorded_at, actor, {_ANC})
SELECT w.id, w.last_negative - k * GREATEST(w.cadence_days, %(every)s), 'negative', %(now)s, 'bench',
       {', '.join('w.' + a for a in _ANC.split(', '))}
FROM keyworkers_keyworker w,
     generate_series(0, (w.last_negative - %(start)s::date) / GREATEST(w.cadence_days, %(every)s)) AS k
WHERE w.last_negative IS NOT NULL"""

_SQLITE_SAMPLES = f"""
WITH RECURSIVE n(k) AS (SELECT 0 UNION ALL SELECT k + 1 FROM n WHERE k < 400)
INSERT INTO keyworkers_onsitesample (worker_id, "on", result, recorded_at, actor, {_ANC})
SELECT w.id, date(w.last_negative, '-' || (n.k * max(w.cadence_days, %(every)s)) || ' days'), 'negative', %(now)s,
       'bench', {', '.join('w.' + a for a in _ANC.split(', '))}
FROM keyworkers_keyworker w JOIN n
  ON n.k * max(w.cadence_days, %(every)s) <= julianday(w.last_negative) - julianday(%(start)s)
WHERE w.last_negative IS NOT NULL"""


def _samples(start: dt.date, every: int, now: dt.datetime) -> int:
    """Each worker's samples of the year in one statement: back from the latest negative one, one every
    max(N, ``every``) days (the history a worker's list never reads: it is there to make the table city-size)."""
    from django.db import connection, transaction

    sql = _PG_SAMPLES if connection.vendor == "postgresql" else _SQLITE_SAMPLES
    params = {"every": every, "start": start if connection.vendor == "postgresql" else start.isoformat(),
              "now": now if connection.vendor == "postgresql" else now.isoformat()}
    with transaction.atomic(), connection.cursor() as c:
        c.execute(sql, params)
    from cordon.keyworkers.models import OnSiteSample

    return OnSiteSample.objects.count()


def _pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def _times(fn, n: int) -> tuple[list[float], object]:
    fn()  # warm up
    out, result = [], None
    for _ in range(n):
        t = time.perf_counter()
        result = fn()
        out.append(time.perf_counter() - t)
    return out, result


def measure(args, vendor: str, city: dict, state: dict) -> tuple[list[tuple[str, str]], dict]:
    from cordon.core import clock
    from cordon.core.actions import do_create_user
    from cordon.keyworkers import queries
    from cordon.policy.cadence import OVERDUE

    today = clock.today()
    t = time.perf_counter()
    made = seed(args, today)
    seed_s = time.perf_counter() - t
    state["keyworkers"] = made
    commander, _ = do_create_user("bench_kw_commander", "bench-pass-2022", role="commander", area=None, actor="bench")
    n = max(1, args.kw_requests)

    def whole():
        return len(list(queries.filtered(commander, status=OVERDUE, on=today)
                        .values_list("id", "person_id", "employer__name", "overdue_from", "last_negative")))

    def first_page():
        labels = queries.group_labels()
        return [queries.row(w, today, labels) for w in queries.filtered(commander, status=OVERDUE, on=today)[:100]]

    def counts():
        return queries.overdue_counts(commander, today)

    whole_s, listed = _times(whole, n)
    page_s, _page = _times(first_page, n)
    counts_s, c = _times(counts, n)
    ok = max(whole_s) < GOAL_S
    rows = [("key workers", f"{made['workers']:,} of {args.kw_employers} employers"),
            ("samples (a year)", f"{made['samples']:,} (seeded in {seed_s:.1f} s, not counted)"),
            ("overdue today", f"{listed:,} (seeded {made['overdue']:,}; counted {c['total']:,})"),
            ("whole overdue list, city-wide (s)", f"p50 {_pct(whole_s, 50):.3f}, max {max(whole_s):.3f} "
                                                    f"(goal < {GOAL_S} s: {'met' if ok else 'NOT met'})"),
            ("first page of 100 (ms)", f"p50 {_pct(page_s, 50) * 1000:.1f}, max {max(page_s) * 1000:.1f}"),
            ("counts per employer and community (s)", f"p50 {_pct(counts_s, 50):.3f}, max {max(counts_s):.3f}")]
    return rows, {"kw_workers": made["workers"], "kw_samples": made["samples"], "kw_overdue": listed,
                  "kw_overdue_list_p50_s": round(_pct(whole_s, 50), 4), "kw_overdue_list_max_s": round(max(whole_s), 4),
                  "kw_first_page_p50_ms": round(_pct(page_s, 50) * 1000, 1),
                  "kw_counts_p50_s": round(_pct(counts_s, 50), 4), "kw_overdue_list_ok": ok}
