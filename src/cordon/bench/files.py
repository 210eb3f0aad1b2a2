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

from cordon.bench.common import city_arguments, present_parts, run_composed

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
    return run_composed("files", args, parts(), lambda part, vendor, city: part.measure(args, vendor, city))
