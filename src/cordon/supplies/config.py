"""Supplies thresholds as data (``supplies.yaml``), checked against ``SPEC`` when loaded (a mistake is a
FILE:LINE error at start-up, not a KeyError on the first call)."""
from __future__ import annotations

import functools
from pathlib import Path

from cordon.policy.schema import Int, Num, Struct, load_yaml

FILE = Path(__file__).with_name("supplies.yaml")
SPEC = Struct({"price_alert_rise_pct": (Num(min=0), True), "default_days": (Int(min=1), True)})


def load(path: str | Path = FILE) -> dict:
    """The checked configuration; raises schema.Invalid with every error as FILE:LINE: field: reason."""
    return load_yaml(path, SPEC, what="supplies configuration")


@functools.lru_cache(maxsize=1)
def config() -> dict:
    return load()
