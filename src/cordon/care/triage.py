"""Triage of emergency medical requests: need (+ urgency) -> priority and response deadline.

The table is data (``triage.yaml``, with sources; deadlines are marked unverified), checked against ``SPEC``
when loaded (a mistake is a FILE:LINE error at start-up). Pure: no Django.
"""
from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from pathlib import Path

from cordon.policy.schema import IDENT, TEXT, Ctx, Int, ListOf, Str, Struct, load_yaml

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


PRIORITY = Struct({"key": (Str(pattern=IDENT), True), "rank": (Int(min=1), True), "dispatch_minutes": (Int(min=1), True),
                   "title": (TEXT, True), "aliases": (ListOf(Str()), False)}, sourced="optional")
SPEC = Struct({"source": (Str(), False), "priorities": (ListOf(PRIORITY, min_len=1), True),
               "urgent_override": (Str(), False)})
REQUIRED = ("critical", "other")  # the urgency override and the fallback


def _semantic(d: dict, ctx: Ctx) -> None:
    keys, ranks = [], []
    for i, p in enumerate(d.get("priorities") or []):
        for fld, seen in (("key", keys), ("rank", ranks)):
            if fld in p:
                if p[fld] in seen:
                    ctx.err(ctx.line(f"priorities[{i}].{fld}"), f"priorities[{i}].{fld}", f"{p[fld]!r} appears twice")
                seen.append(p[fld])
    if "priorities" in d:
        for k in REQUIRED:
            if k not in keys:
                ctx.err(ctx.line("priorities"), "priorities", f"needs a priority with key {k!r}")
    if d.get("urgent_override") not in (None, *keys):
        ctx.err(ctx.line("urgent_override"), "urgent_override", f"{d['urgent_override']!r} is not a priority key")


@functools.lru_cache(maxsize=1)
def table() -> dict[str, Priority]:
    return load(TABLE)


def load(path: str | Path) -> dict[str, Priority]:
    """The checked table; raises schema.Invalid with every error as FILE:LINE: field: reason."""
    data = load_yaml(path, SPEC, what="triage table", semantic=_semantic)
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
