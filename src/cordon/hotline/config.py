"""The desk's configuration (``desk.yaml``): deadline classes, routing per category, escalation texts,
public-form limits and the roster horizon, checked against ``SPEC`` when loaded (a mistake is a
FILE:LINE error at start-up, not a KeyError on the first call)."""
from __future__ import annotations

import functools
from pathlib import Path

from cordon.hotline.models import Category
from cordon.policy.schema import IDENT, TEXT, Ctx, Int, MapOf, Str, Struct, load_yaml

DESK = Path(__file__).with_name("desk.yaml")
ROUTES = ("medical", "community", "street", "district")
ESCALATIONS = 3  # levels: first response overdue, resolution overdue, resolution long overdue

CLASS = Struct({"first_response_minutes": (Int(min=1), True), "resolve_minutes": (Int(min=1), True),
                "title": (TEXT, True)})
SPEC = Struct({
    "source": (Str(), False),
    "classes": (MapOf(Str(pattern=IDENT), CLASS, min_len=1), True),
    "categories": (MapOf(Str(choices=tuple(Category.values)), Struct({"class": (Str(), True),
                                                                       "route": (Str(choices=ROUTES), True)})), True),
    "units": (Struct({"medical": (TEXT, True), "city": (TEXT, True)}), True),
    "escalation": (MapOf(Int(min=1, max=ESCALATIONS), TEXT), True),
    "public_limits": (Struct({"submit_per_hour": (Int(min=1), True), "lookup_per_10min": (Int(min=1), True)}), True),
    "roster": (Struct({"horizon_days": (Int(min=1), True), "min_operators": (Int(min=0), True)}), True),
})


def _semantic(d: dict, ctx: Ctx) -> None:
    for level in range(1, ESCALATIONS + 1):
        if "escalation" in d and level not in d["escalation"]:
            ctx.err(ctx.line("escalation"), f"escalation.{level}", "required key missing")
    classes = d.get("classes") or {}
    cats = d.get("categories")
    if cats is None:
        return
    for key, c in cats.items():
        if classes and c.get("class") not in (None, *classes):
            p = f"categories.{key}.class"
            ctx.err(ctx.line(p), p, f"{c['class']!r} is not a class ({', '.join(classes)})")
    for key in Category.values:
        if key not in cats:
            ctx.err(ctx.line("categories"), f"categories.{key}", "required key missing")


def load(path: str | Path = DESK) -> dict:
    """The checked configuration; raises schema.Invalid with every error as FILE:LINE: field: reason."""
    return load_yaml(path, SPEC, what="desk configuration", semantic=_semantic)


@functools.lru_cache(maxsize=1)
def desk() -> dict:
    return load()
