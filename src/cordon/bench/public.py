"""``cordon bench public [--population N] [--seconds S] [--clients C]``: the public lookup under a rush.

Builds the synthetic city in a scratch database with ``--designations`` unit designations (as the tick bench
seeds them), starts ``cordon serve --workers 2`` on a free localhost port against it, then, for a bounded
time each, hammers

1. ``/public/lookup.json?q=...`` with ``--clients`` concurrent keep-alive clients (separate processes), each
   cycling through ``--addresses`` distinct addresses as residents type them ("五泉小区1号楼", half of them
   in a designated building), and
2. a static file of the same size as a lookup answer, served by the same server (whitenoise) as the baseline.

Reports requests/s, p50 and p99 for both and the ratio lookup/static (goal >= 0.5). Only localhost traffic;
the server is stopped at the end. The last line is the JSON figures (``seconds`` is the measured time).
"""
from __future__ import annotations

import contextlib
import http.client
import json
import math
import multiprocessing as mp
import random
import shutil
import statistics
import tempfile
import time
import urllib.parse
from pathlib import Path
from cordon.bench.common import city_arguments, city_database, emit, peak_rss_mb, served, timed


def add_arguments(p) -> None:
    city_arguments(p, "cordon_bench_public")
    p.add_argument("--designations", type=int, default=5_000)
    p.add_argument("--addresses", type=int, default=5_000)
    p.add_argument("--seconds", type=float, default=15.0, help="measured time per target")
    p.add_argument("--warmup", type=float, default=3.0)
    p.add_argument("--clients", type=int, default=8)
    p.add_argument("--workers", type=int, default=2)


def _client(args) -> tuple[int, int, list[float]]:
    """One client: keep-alive GETs of ``paths`` (cycled) until ``until``, back to back or, with ``think`` > 0,
    after a pause of ``think`` seconds on average (exponential) before each; latencies of those after
    ``measure_from``."""
    port, paths, measure_from, until, seed, headers, think = args
    rng = random.Random(seed)
    paths = list(paths)
    rng.shuffle(paths)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    ok = errors = 0
    lat: list[float] = []
    i = 0
    while True:
        if think > 0:
            time.sleep(rng.expovariate(1 / think))
        now = time.time()
        if now >= until:
            break
        path = paths[i % len(paths)]
        i += 1
        t = time.perf_counter()
        try:
            conn.request("GET", path, headers={"Accept": "application/json", **headers})
            resp = conn.getresponse()
            resp.read()
            good = resp.status == 200
        except (OSError, http.client.HTTPException):
            good = False
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        ms = (time.perf_counter() - t) * 1000
        if now >= measure_from:
            if good:
                ok += 1
                lat.append(ms)
            else:
                errors += 1
    conn.close()
    return ok, errors, lat


def hammer(port: int, paths: list[str], clients: int, warmup: float, seconds: float, headers=None,
           think: float = 0.0) -> dict:
    """``clients`` keep-alive clients (processes) GET ``paths`` for ``seconds`` after ``warmup``, back to back or
    ``think`` seconds apart on average: req/s, p50, p99."""
    start = time.time() + 0.5
    measure_from = start + warmup
    until = measure_from + seconds
    with mp.get_context("fork").Pool(clients) as pool:
        res = pool.map(_client, [(port, paths, measure_from, until, i, headers or {}, think) for i in range(clients)])
    ok = sum(r[0] for r in res)
    errors = sum(r[1] for r in res)
    lat = sorted(x for r in res for x in r[2])
    p = lambda q: lat[min(len(lat) - 1, max(0, math.ceil(q / 100 * len(lat)) - 1))] if lat else None  # noqa: E731
    return {"requests": ok, "errors": errors, "rps": round(ok / seconds, 1), "p50_ms": round(p(50), 2) if lat else None,
            "p99_ms": round(p(99), 2) if lat else None, "mean_ms": round(statistics.fmean(lat), 2) if lat else None}


def addresses(n: int, seed: int) -> list[str]:
    """What residents type: compound name + building name (+ unit for some), half in designated buildings."""
    from cordon.places.models import Area
    from cordon.zones.models import Designation

    rng = random.Random(seed)
    designated = list(Designation.objects.filter(status="active").values_list("area__path", flat=True)[:n])
    building_ids = list(Area.objects.filter(kind="building").values_list("id", flat=True))
    others = list(Area.objects.filter(pk__in=rng.sample(building_ids, min(n, len(building_ids))))
                  .values_list("path", flat=True))
    out = []
    for i in range(n):
        path = designated[i % len(designated)] if (designated and i % 2 == 0) else others[i % len(others)]
        parts = path.split("/")
        # district/street/community/compound/building[/unit]: the street + compound + building (+ unit) as typed
        q = parts[1] + parts[3] + parts[4] + (parts[5] if len(parts) > 5 and rng.random() < 0.5 else "")
        out.append(q)
    return out


@contextlib.contextmanager
def serving(day, static: dict[str, bytes], workers: int):
    """``cordon serve --workers N`` (``common.served``) with ``static`` files under ``/static/bench/`` and the clock
    pinned to ``day``; yields the port once the first static file answers."""
    home = Path(tempfile.mkdtemp(prefix="cordon-bench-serve-"))
    static_dir = home / "static" / "bench"
    static_dir.mkdir(parents=True)
    for name, data in static.items():
        (static_dir / name).write_bytes(data)
    try:
        with served({"CORDON_HOME": str(home), "CORDON_TODAY": day.isoformat()}, workers,
                    "/static/bench/" + next(iter(static))) as port:
            yield port
    finally:
        shutil.rmtree(home, ignore_errors=True)


def run(args) -> int:
    from cordon.bench.tick import seed_designations
    from cordon.situation import public

    import datetime as dt

    day = dt.date(2022, 11, 20)
    with city_database(args, f"public bench: {args.designations:,} designations") as (vendor, _city, city_s):
        _seeded, seed_s = timed(seed_designations, args.designations, day, args.seed)
        build_s = city_s + seed_s
        qs = addresses(args.addresses, args.seed)
        sample = public.lookup(qs[0])
        found = sum(1 for q in qs[:200] if public.lookup(q)["matches"])
        from cordon.situation import addressindex

        index = addressindex.stats()  # built by the lookups above, as each server process builds its own
        body = json.dumps(sample, ensure_ascii=False).encode()
        with serving(day, {"baseline.json": body}, args.workers) as port:
            lookup_paths = ["/public/lookup.json?q=" + urllib.parse.quote(q) for q in qs]
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            c.request("GET", lookup_paths[0])
            r = c.getresponse()
            answer = r.read()
            cache_control = r.getheader("Cache-Control")
            c.request("GET", "/static/bench/baseline.json")
            r = c.getresponse()
            static_size = len(r.read())
            c.close()
            t = time.perf_counter()
            lk = hammer(port, lookup_paths, args.clients, args.warmup, args.seconds)
            st = hammer(port, ["/static/bench/baseline.json"], args.clients, args.warmup, args.seconds)
            measured = time.perf_counter() - t
    ratio = round(lk["rps"] / st["rps"], 3) if st["rps"] else None
    rows = [
        ("database", vendor),
        ("city + designations", f"{args.population:,} residents, {args.designations:,} designations "
                                f"(built in {build_s:.0f} s, not counted)"),
        ("addresses", f"{len(qs):,} distinct, e.g. {qs[0]!r}; {found}/200 resolve"),
        ("address index", (f"{index['areas']:,} areas, {index['names']:,} distinct names: {index['mb']} MB, built in "
                           f"{index['build_s']} s (once per server process)") if index.get("usable")
                          else f"not used ({index.get('why') or 'not built'})"),
        ("answer size", f"lookup {len(answer):,} B, static {static_size:,} B; Cache-Control: {cache_control}"),
        ("server", f"cordon serve --workers {args.workers} on 127.0.0.1:{port}; {args.clients} keep-alive clients, "
                   f"{args.seconds:.0f} s each after {args.warmup:.0f} s warm-up"),
        ("lookup.json", f"{lk['rps']:,} req/s, p50 {lk['p50_ms']} ms, p99 {lk['p99_ms']} ms, {lk['errors']} errors"),
        ("static baseline", f"{st['rps']:,} req/s, p50 {st['p50_ms']} ms, p99 {st['p99_ms']} ms, {st['errors']} errors"),
        ("ratio lookup/static", f"{ratio} (goal >= 0.5: {'met' if ratio and ratio >= 0.5 else 'NOT met'})"),
        ("peak memory (RSS)", f"{peak_rss_mb():,.0f} MB"),
    ]
    emit("public", rows, {"seconds": round(measured, 2), "peak_rss_mb": peak_rss_mb(), "p50_ms": lk["p50_ms"],
                          "p99_ms": lk["p99_ms"], "rps": lk["rps"], "ratio": ratio, "static_rps": st["rps"],
                          "static_p50_ms": st["p50_ms"], "static_p99_ms": st["p99_ms"], "errors": lk["errors"],
                          "database": vendor, "population": args.population, "clients": args.clients,
                          "addresses": len(qs), "index_mb": index.get("mb"), "index_build_s": index.get("build_s")})
    return 0
