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

from cordon.bench.common import city_arguments, present_parts, run_composed

PARTS = ("_keyworkers_overdue", "_keyworkers_feed", "_keyworkers_checks")


def parts() -> list:
    """The part modules present in this tree, in order."""
    return present_parts(PARTS)


def add_arguments(p) -> None:
    city_arguments(p, "cordon_bench_keyworkers", population=1_000_000)
    p.add_argument("--parts", default="", help="run only these parts (comma-separated: overdue, feed, checks; "
                                              "default: all present)")
    for part in parts():
        part.add_arguments(p)


def chosen(args) -> list:
    """The parts ``--parts`` names (all present ones by default), in the bench's order."""
    names = {n.strip() for n in (getattr(args, "parts", "") or "").split(",") if n.strip()}
    unknown = names - {n.removeprefix("_keyworkers_") for n in PARTS}
    if unknown:
        raise SystemExit(f"unknown parts: {', '.join(sorted(unknown))}")
    return [m for m in parts() if not names or m.__name__.rsplit("_", 1)[-1] in names]


def run(args) -> int:
    state: dict = {}  # what earlier parts made (the workers) for the later ones
    return run_composed("keyworkers", args, chosen(args),
                        lambda part, vendor, city: part.measure(args, vendor, city, state))
