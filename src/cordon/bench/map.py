"""``cordon bench map [--population N] [--designations D] [--clients C] [--seconds S]``: the maps at city scale.

Builds the synthetic city in a scratch database (its geometry laid out by the load's hook, timed), seeds
``--designations`` unit designations (as the tick bench does) and a city-wide commander with an API token, then

1. the city-wide risk-area layer (``/api/maps/layers/risk`` at zoom 10, the whole city: one point per
   designation) from ``cordon serve``, ``--repeat`` times after one request per worker process: median and worst
   time and the size of the answer (goals: < 300 ms, < 2 MB);
2. building-zoom views (zoom 17 viewports around designated and other buildings, risk layer and basemap
   alternately), each asked as the map page asks it: the tiles of ``maps.tiles``'s grid it meets (``--viewports``:
   one request for the viewport, as the page did before tiles), under ``--clients`` concurrent keep-alive
   clients against ``cordon serve``, each waiting
   ``--think`` seconds on average (exponential) before each request, as people panning a map do (goal: p99
   < 100 ms); then the same clients back to back, which measures the server's capacity (their latency is the
   queue: 50 clients on 2 workers wait for each other);
3. ``/public/risk-areas.geojson`` under a rush of the same clients against a static file of the same size served
   by the same server (goal: >= 0.5 of the static file's rate).

``--reuse-city`` keeps the city with its shapes and designations for the next run (a run then costs the copy
and the measures: about a minute instead of many at 4.4 M). Only localhost traffic; the server is stopped at the end. The last line is the JSON figures.
"""
from __future__ import annotations

import datetime as dt
import http.client
import json
import random
import statistics
import sys
import time
from pathlib import Path

from cordon.bench.common import (city_arguments, emit, keep_database, peak_rss_mb, restore_database,
                                 scratch_database, timed)
from cordon.bench.public import hammer, serving


def add_arguments(p) -> None:
    city_arguments(p, "cordon_bench_map")
    p.add_argument("--designations", type=int, default=10_000)
    p.add_argument("--views", type=int, default=2_000, help="distinct building-zoom viewports")
    p.add_argument("--repeat", type=int, default=7, help="city-wide layer requests timed")
    p.add_argument("--seconds", type=float, default=15.0, help="measured time per rush")
    p.add_argument("--warmup", type=float, default=3.0)
    p.add_argument("--clients", type=int, default=50)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--think", type=float, default=1.0,
                   help="seconds each building-zoom client waits on average (exponential) before each request, as a "
                        "person panning a map does (the goal's measure); the same views are also sent back to back")
    p.add_argument("--viewports", action="store_true",
                   help="building-zoom views as one viewport request each (the map page before tiles), instead of "
                        "the tiles the page asks for each view")
    p.add_argument("--reuse-city", action="store_true",
                   help="keep the built city (with its shapes and designations) for the next run with the same "
                        "--population, --seed and --designations, and start from it when it is there: PostgreSQL "
                        "keeps database SCRATCH_city (copied with CREATE DATABASE ... TEMPLATE), SQLite a copy of "
                        "its file under CORDON_HOME/bench/")


def _kept(args) -> Path:
    from django.conf import settings

    return Path(settings.HOME) / "bench" / f"map-{args.population}-{args.seed}-{args.designations}"


def _keep_city(args, built: dict) -> None:
    """``--reuse-city``: the city with its shapes and designations kept (a template database / a file copy)."""
    kept = _kept(args)
    kept.mkdir(parents=True, exist_ok=True)  # PostgreSQL keeps a template database, but the statistics live here
    keep_database(args.scratch, kept / "city.sqlite3")
    (kept / "city.json").write_text(json.dumps(built))


def _reused_city(args) -> dict | None:
    """``--reuse-city``: what built the kept city (its statistics and timings), copied into the scratch
    database; None when there is none."""
    try:
        built = json.loads((_kept(args) / "city.json").read_text())
    except (OSError, ValueError):
        return None
    return built if restore_database(args.scratch, _kept(args) / "city.sqlite3") else None


def _build_city(args) -> dict:
    """The synthetic city with its shapes and ``--designations`` designations, settled; its statistics."""
    from cordon.bench.screening import settle
    from cordon.bench.tick import seed_designations
    from cordon.maps.actions import do_generate_shapes
    from cordon.maps.models import Shape
    from cordon.places.bulk import load_city

    city, city_s = timed(load_city, args.population, args.seed, progress=False)
    shapes_s = city["timings"].get("map_shapes")
    if not Shape.objects.exists():  # the load ran inside a transaction: its hook did not run
        _n, shapes_s = timed(do_generate_shapes, actor="bench")
    _seeded, seed_s = timed(seed_designations, args.designations, DAY, args.seed)
    settle()
    return {"units": city["units"], "seconds": city["seconds"], "city_s": city_s, "shapes_s": shapes_s,
            "seed_s": seed_s}


def _viewports(n: int, seed: int, tiled: bool = True) -> list[list[str]]:
    """Building-zoom views (~350 m x 250 m) centred on buildings, half of them holding a designated unit: the
    requests of each, its tiles (``maps.tiles``, as the map page asks for them) or, ``tiled`` false, the
    viewport itself (as the page asked before tiles)."""
    from cordon.maps.models import Shape
    from cordon.maps.tiles import covering
    from cordon.zones.models import Designation

    rng = random.Random(seed)
    # in a fixed order, so an index (which may change the order rows come in) does not change the views drawn
    sealed = list(Designation.objects.filter(status="active").order_by("id").values_list("building_id", flat=True)[:n])
    ids = list(Shape.objects.filter(kind="building").order_by("area_id").values_list("area_id", flat=True))
    pick = [sealed[i % len(sealed)] if sealed and i % 2 == 0 else rng.choice(ids) for i in range(n)]
    at = {a: (x, y) for a, x, y in Shape.objects.filter(area_id__in=set(pick)).values_list("area_id", "cx", "cy")}
    out = []
    for i, b in enumerate(pick):
        if b not in at:
            continue
        x, y = at[b]
        layer = "risk" if i % 2 == 0 else "basemap"
        box = (x - 0.002, y - 0.0012, x + 0.002, y + 0.0012)
        if tiled:  # as the map page asks from building zoom on: the grid's tiles the view meets
            out.append([f"/api/maps/layers/{layer}?tx={tx}&ty={ty}&zoom=17" for tx, ty in covering(*box)])
        else:
            out.append([f"/api/maps/layers/{layer}?west={box[0]:.6f}&south={box[1]:.6f}&east={box[2]:.6f}"
                        f"&north={box[3]:.6f}&zoom=17"])
    return out


DAY = dt.date(2022, 11, 20)


def run(args) -> int:
    from cordon.core.actions import do_create_token, do_create_user
    from cordon.maps import queries
    from cordon.maps.models import Shape

    day = DAY
    with scratch_database(args.database, args.scratch, keep=args.keep) as (vendor, _where, _migrate_s):
        print(f"map bench: {args.designations:,} designations, {args.population:,} residents, {vendor}",
              file=sys.stderr, flush=True)
        city = _reused_city(args) if args.reuse_city else None
        reused = city is not None
        if city is None:
            city = _build_city(args)
            if args.reuse_city:
                _keep_city(args, city)
        shapes_s, seed_s = city["shapes_s"], city["seed_s"]
        n_shapes = Shape.objects.count()
        user, _grant = do_create_user("bench-commander", "bench-pass-2022-x", role="commander", actor="bench",
                                      check_password=False)
        _token, secret = do_create_token(user, "bench", actor="bench")
        per_view = _viewports(args.views, args.seed, tiled=not args.viewports)
        views = [path for paths in per_view for path in paths]
        public_body = queries.public_geojson().encode()
        with serving(day, {"baseline.geojson": public_body}, args.workers) as port:
            auth = {"Authorization": f"Bearer {secret}"}
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            times, size, body = [], 0, b""
            for i in range(args.repeat + args.workers):  # the first of each worker process is not counted
                t = time.perf_counter()
                c.request("GET", "/api/maps/layers/risk?zoom=10", headers=auth)
                r = c.getresponse()
                body = r.read()
                if r.status != 200:
                    raise RuntimeError(f"city-wide layer: HTTP {r.status}: {body[:300]!r}")
                if i >= args.workers:
                    times.append((time.perf_counter() - t) * 1000)
                size = len(body)
            features = body.count(b'"type":"Feature"')
            c.request("GET", views[0], headers=auth)
            r = c.getresponse()
            view_size = len(r.read())
            view_status = r.status
            c.close()
            t = time.perf_counter()
            zoom = hammer(port, views, args.clients, args.warmup, args.seconds, headers=auth, think=args.think)
            flood = hammer(port, views, args.clients, args.warmup, args.seconds, headers=auth)
            pub = hammer(port, ["/public/risk-areas.geojson"], args.clients, args.warmup, args.seconds)
            st = hammer(port, ["/static/bench/baseline.geojson"], args.clients, args.warmup, args.seconds)
            measured = time.perf_counter() - t
    median, worst = statistics.median(times), max(times)
    ratio = round(pub["rps"] / st["rps"], 3) if st["rps"] else None

    def goal(ok) -> str:
        return "met" if ok else "NOT met"

    rows = [
        ("database", vendor),
        ("city", f"{args.population:,} residents, {city['units']:,} units, {n_shapes:,} shapes laid out in "
                 f"{shapes_s if shapes_s is not None else float('nan'):.1f} s (in the load's {city['seconds']:.0f} s)"
                 + ("; kept by an earlier run, copied (--reuse-city)" if reused else "")),
        ("designations", f"{args.designations:,} seeded in {seed_s:.0f} s (not counted)"),
        ("city-wide risk layer", f"{features:,} features, {size / 1e6:.2f} MB; median {median:.0f} ms, worst "
                                 f"{worst:.0f} ms of {args.repeat} (goals < 300 ms: {goal(worst < 300)}, < 2 MB: "
                                 f"{goal(size < 2e6)})"),
        ("building-zoom views", f"{len(per_view):,} viewports as {len(views):,} "
                                f"{'viewport requests' if args.viewports else 'tile requests'} "
                                f"({len(set(views)):,} distinct), first answer {view_size:,} B (HTTP {view_status}); "
                                f"{args.clients} clients each {args.think:g} s apart on average: "
                                f"{zoom['rps']:,} req/s, p50 {zoom['p50_ms']} ms, p99 {zoom['p99_ms']} ms, "
                                f"{zoom['errors']} errors (goal p99 < 100 ms: "
                                f"{goal(zoom['p99_ms'] is not None and zoom['p99_ms'] < 100)})"),
        ("building-zoom, back to back", f"{args.clients} clients without pause (the server's capacity, queued): "
                                        f"{flood['rps']:,} req/s, p50 {flood['p50_ms']} ms, p99 {flood['p99_ms']} ms, "
                                        f"{flood['errors']} errors"),
        ("public GeoJSON", f"{len(public_body):,} B; {pub['rps']:,} req/s, p99 {pub['p99_ms']} ms, {pub['errors']} errors"),
        ("static baseline", f"{st['rps']:,} req/s, p99 {st['p99_ms']} ms"),
        ("ratio public/static", f"{ratio} (goal >= 0.5: {goal(ratio is not None and ratio >= 0.5)})"),
        ("server", f"cordon serve --workers {args.workers}; {args.clients} keep-alive clients, {args.seconds:.0f} s "
                   f"each after {args.warmup:.0f} s warm-up"),
    ]
    emit("map", rows, {
        "seconds": round(measured, 2), "peak_rss_mb": peak_rss_mb(), "database": vendor,
        "population": args.population, "units": city["units"], "designations": args.designations,
        "shapes": n_shapes, "reused_city": reused, "shapes_s": round(shapes_s, 2) if shapes_s is not None else None,
        "citywide_ms_median": round(median, 1), "citywide_ms_max": round(worst, 1), "citywide_bytes": size,
        "citywide_features": features, "zoom_rps": zoom["rps"], "zoom_p50_ms": zoom["p50_ms"],
        "zoom_p99_ms": zoom["p99_ms"], "zoom_errors": zoom["errors"], "zoom_think_s": args.think,
        "zoom_requests_per_view": round(len(views) / max(1, len(per_view)), 2), "zoom_tiles": not args.viewports,
        "flood_rps": flood["rps"], "flood_p50_ms": flood["p50_ms"], "flood_p99_ms": flood["p99_ms"], "public_rps": pub["rps"],
        "public_p99_ms": pub["p99_ms"], "static_rps": st["rps"], "ratio": ratio, "clients": args.clients})
    return 0
