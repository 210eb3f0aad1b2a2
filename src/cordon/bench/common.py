"""Shared bench output: a readable table, then one JSON object as the very last line."""
from __future__ import annotations

import json
import resource
import sys


def peak_rss_mb() -> float:
    """Peak resident memory of this process and its finished children, in MB."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return round(max(own, kids) / 1024, 1)


def table(rows: list[tuple], headers: tuple) -> str:
    cells = [tuple(str(c) for c in headers)] + [tuple(str(c) for c in r) for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    line = "  ".join("-" * w for w in widths)
    out = ["  ".join(c.ljust(w) for c, w in zip(cells[0], widths)), line]
    out += ["  ".join(c.ljust(w) for c, w in zip(r, widths)) for r in cells[1:]]
    return "\n".join(out)


def emit(name: str, rows: list[tuple], figures: dict, headers=("step", "value")) -> None:
    """Print the table and the closing JSON line: {"bench", "seconds", "peak_rss_mb", ...figures}."""
    print(table(rows, headers))
    out = {"bench": name}
    out.update(figures)
    out.setdefault("peak_rss_mb", peak_rss_mb())
    sys.stdout.flush()
    print(json.dumps(out, ensure_ascii=False))
