"""Triage of emergency medical requests: need (+ urgency) -> priority and response deadline.

The table is data (``triage.yaml``, with sources; deadlines are marked unverified). Pure: no Django.
"""
from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from pathlib import Path

import yaml

TABLE = Path(__file__).with_name("triage.yaml")


@dataclass(frozen=True)
class Priority:
    key: str
    rank: int
    dispatch_minutes: int
    zh: str
    en: str
    aliases: tuple[str, ...]
    source: str

    def title(self, lang: str = "zh") -> str:
        return self.en if lang.startswith("en") else self.zh


@functools.lru_cache(maxsize=1)
def table() -> dict[str, Priority]:
    data = yaml.safe_load(TABLE.read_text(encoding="utf-8"))
    out = {}
    for p in data["priorities"]:
        out[p["key"]] = Priority(p["key"], int(p["rank"]), int(p["dispatch_minutes"]), p["title"]["zh"],
                                 p["title"]["en"], tuple(str(a).lower() for a in p.get("aliases") or ()),
                                 p.get("source", ""))
    return out


def ordered() -> list[Priority]:
    return sorted(table().values(), key=lambda p: p.rank)


def classify(need: str, urgency: str = "") -> Priority:
    """The priority for a need (a key, an alias, or free text) and the caller's urgency."""
    t = table()
    if (urgency or "").strip().lower() in ("critical", "危重", "危重症"):
        return t["critical"]
    n = (need or "").strip().lower()
    if n in t:
        return t[n]
    for p in ordered():
        if n in p.aliases:
            return p
    for p in ordered():  # free text that mentions an alias
        if any(a and a in n for a in p.aliases):
            return p
    return t["other"]


def deadline(received_at: dt.datetime, p: Priority) -> dt.datetime:
    return received_at + dt.timedelta(minutes=p.dispatch_minutes)


def rule(p: Priority) -> str:
    return f"care-triage: {p.key} (rank {p.rank}, dispatch within {p.dispatch_minutes} min; {p.source})"
