"""``cordon bench NAME [options]``: runs ``cordon.bench.<NAME>``.

Each bench module has ``add_arguments(parser)`` and ``run(args)``; it prints a readable table and, as its
very last line, one JSON object with its figures (see ``common.emit``). Modules named ``_...`` are parts of a
bench (``files`` assembles ``_files_export``, ``_files_upload``, ``_files_search``), not benches.
"""
from __future__ import annotations

import argparse
import importlib
import pkgutil


def available() -> list[str]:
    import cordon.bench as pkg

    return sorted(m.name for m in pkgutil.iter_modules(pkg.__path__)
                  if m.name not in ("runner", "common") and not m.name.startswith("_"))


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("name", help="benchmark name: " + ", ".join(available()))
    p.add_argument("options", nargs=argparse.REMAINDER, help="options for that benchmark")


def run(args) -> int:
    if args.name not in available():
        print(f"unknown benchmark {args.name!r}; available: {', '.join(available())}")
        return 2
    mod = importlib.import_module(f"cordon.bench.{args.name}")
    p = argparse.ArgumentParser(prog=f"cordon bench {args.name}")
    mod.add_arguments(p)
    return int(mod.run(p.parse_args(args.options)) or 0)
