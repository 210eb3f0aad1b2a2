"""``cordon bench files [--population N] [part options]``: files in and out at city scale.

Builds the synthetic city once in a scratch database (``bench/common.city_database``), then runs each part of
the bench that is present, each in its own module with its own options (prefixed by the part's name):

- ``_files_export``: the people under orders exported as CSV and XLSX through the contacts page's export;
- ``_files_upload``: a registrations upload through the web job against the CLI import of the same file;
- ``_files_search``: resident search by ID-number suffix.

Each part's ``measure(args, vendor, city)`` makes the further data it needs and returns its table rows and its
JSON figures (keys prefixed by the part). The last line is the JSON figures of every part run.
"""
from __future__ import annotations

import time

from cordon.bench.common import city_arguments, city_database, emit, peak_rss_mb, present_parts

PARTS = ("_files_export", "_files_upload", "_files_search")


def parts() -> list:
    """The part modules present in this tree, in order."""
    return present_parts(PARTS)


def add_arguments(p) -> None:
    city_arguments(p, "cordon_bench_files")
    for part in parts():
        part.add_arguments(p)


def run(args) -> int:
    from django.conf import settings

    settings.ALLOWED_HOSTS = list(settings.ALLOWED_HOSTS) + ["testserver"]
    run_parts = parts()
    rows: list[tuple[str, str]] = []
    figures: dict = {}
    t0 = time.perf_counter()
    with city_database(args, f"files bench ({', '.join(p.__name__.rsplit('.', 1)[-1] for p in run_parts)})") \
            as (vendor, city, city_s):
        rows += [("database", vendor),
                 ("city", f"{args.population:,} residents, {city['units']:,} units, built in {city_s:.1f} s "
                          "(not counted)")]
        for part in run_parts:
            part_rows, part_figures = part.measure(args, vendor, city)
            rows += part_rows
            figures.update(part_figures)
    seconds = time.perf_counter() - t0 - city_s
    rows.append(("peak memory (RSS)", f"{peak_rss_mb():,.0f} MB"))
    emit("files", rows, {"seconds": round(seconds, 3), "peak_rss_mb": peak_rss_mb(), "database": vendor,
                         "population": args.population, **figures})
    return 0 if all(v is not False for k, v in figures.items() if k.endswith("_ok")) else 1
