"""``cordon bench citygen [--population N] [--seed S] [--database URL] [--keep]``.

Generates the synthetic city and bulk-loads it (``cordon.places.bulk.load_city``) into a throwaway
database, then prints a table (generation + load time per step, rows per table, rows/s, peak memory) and,
as the very last line, ``{"bench": "citygen", "seconds", "peak_rss_mb", "rows_per_s", "population", ...}``.

Which database: the one the process was started with (``DATABASE_URL``, read by the settings at startup),
or ``--database URL`` (same syntax) to override it for this run. Either way the configured database itself
is never touched:

- SQLite (no ``DATABASE_URL`` or ``sqlite:///...``): a new file in a temporary folder, removed afterwards.
- PostgreSQL (``postgres://user:pass@host:port/db``): a scratch database ``cordon_bench`` (``--scratch``)
  on that server, dropped and created through the server's ``postgres`` database, migrated, loaded and
  dropped afterwards. E.g. ``DATABASE_URL=postgres://postgres@127.0.0.1:5432/cordon_bench cordon bench citygen``.

``--keep`` leaves the database in place (its location is printed). Peak memory is this process's peak
resident set size (the PostgreSQL server's own memory is not included).
"""
from __future__ import annotations

import sys
from cordon.bench.common import city_arguments


def add_arguments(p) -> None:
    city_arguments(p, "cordon_bench")
    p.add_argument("--no-progress", action="store_true")


def run(args) -> int:
    from cordon.bench.common import database_size_mb, emit, peak_rss_mb, scratch_database
    from cordon.places.bulk import load_city
    from cordon.places.models import Area, Household, Resident

    with scratch_database(args.database, args.scratch, keep=args.keep) as (vendor, where, migrate_s):
        print(f"citygen bench: {args.population:,} residents, seed {args.seed}, {vendor} at {where}",
              file=sys.stderr, flush=True)
        stats = load_city(args.population, args.seed, progress=not args.no_progress)
        counts = {m.__name__: m.objects.count() for m in (Area, Household, Resident)}
        size_mb = database_size_mb()

    tm = stats["timings"]
    seconds = stats["seconds"]
    peak = peak_rss_mb()
    rows = [
        ("database", f"{vendor} ({where})"),
        ("population / seed", f"{stats['population']:,} / {stats['seed']}"),
        ("migrate (not counted)", f"{migrate_s:.1f} s"),
        ("tree + households generated", f"{tm.get('tree', 0):.1f} s"),
        ("drop indexes", f"{tm.get('drop_indexes', 0):.1f} s"),
        ("areas written", f"{counts['Area']:,} rows in {tm.get('areas', 0):.1f} s"),
        ("households written", f"{counts['Household']:,} rows in {tm.get('households', 0):.1f} s"),
        ("residents generated + written", f"{counts['Resident']:,} rows in {tm.get('residents', 0):.1f} s "
                                          f"(generation {tm.get('residents_generate', 0):.1f} s)"),
        ("indexes + constraints rebuilt", f"{tm.get('indexes', 0):.1f} s"),
        ("sequences / pragmas / analyze", f"{tm.get('finish', 0):.1f} s"),
        ("total (generation + load)", f"{seconds:.1f} s"),
        ("rows/s (all tables)", f"{stats['rows_per_s']:,}"),
        ("database size", f"{size_mb:,.0f} MB"),
        ("peak memory (RSS)", f"{peak:,.0f} MB"),
    ]
    emit("citygen", rows, {
        "seconds": seconds, "peak_rss_mb": peak, "rows_per_s": stats["rows_per_s"],
        "population": stats["population"], "database": vendor, "areas": counts["Area"],
        "households": counts["Household"], "residents": counts["Resident"], "units": stats["units"],
    })
    return 0
