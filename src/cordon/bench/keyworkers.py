"""``cordon bench keyworkers [--population N] [part options]``: key workers at city scale.

Builds the synthetic city once in a scratch database (``bench/common.city_database``), then runs each part of
the bench that is present, each in its own module with its own options (prefixed by the part's name), as
``bench/files.py`` does:

- ``_keyworkers_overdue``: 200 000 key workers with a year of samples; today's overdue list for the whole city;
- ``_keyworkers_feed``: what the screening results hook adds to the import of a city round;
- ``_keyworkers_checks``: pass checks against the key workers' status (when present).

Each part's ``measure(args, vendor, city, state)`` makes the further data it needs (``state``: what earlier
parts made, e.g. the workers) and returns its table rows and its JSON figures (keys prefixed by the part). The
last line is the JSON figures of every part run.
"""
from __future__ import annotations

import time

from cordon.bench.common import city_arguments, city_database, emit, peak_rss_mb, present_parts

PARTS = ("_keyworkers_overdue", "_keyworkers_feed", "_keyworkers_checks")


def parts() -> list:
    """The part modules present in this tree, in order."""
    return present_parts(PARTS)


def add_arguments(p) -> None:
    city_arguments(p, "cordon_bench_keyworkers", population=1_000_000)
    for part in parts():
        part.add_arguments(p)


def run(args) -> int:
    run_parts = parts()
    rows: list[tuple[str, str]] = []
    figures: dict = {}
    state: dict = {}
    t0 = time.perf_counter()
    with city_database(args, f"keyworkers bench ({', '.join(p.__name__.rsplit('.', 1)[-1] for p in run_parts)})") \
            as (vendor, city, city_s):
        rows += [("database", vendor),
                 ("city", f"{args.population:,} residents, built in {city_s:.1f} s (not counted)")]
        for part in run_parts:
            part_rows, part_figures = part.measure(args, vendor, city, state)
            rows += part_rows
            figures.update(part_figures)
    seconds = time.perf_counter() - t0 - city_s
    rows.append(("peak memory (RSS)", f"{peak_rss_mb():,.0f} MB"))
    emit("keyworkers", rows, {"seconds": round(seconds, 3), "peak_rss_mb": peak_rss_mb(), "database": vendor,
                              "population": args.population, **figures})
    return 0 if all(v is not False for k, v in figures.items() if k.endswith("_ok")) else 1
