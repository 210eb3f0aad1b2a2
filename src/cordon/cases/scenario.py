"""Scenario event types for infections (docs/scenario.md)."""
from __future__ import annotations

from cordon.scenario.spec import register


def _check(data):
    if data.get("found") not in ("community", "controlled_area", "quarantine_site"):
        return "found must be community, controlled_area or quarantine_site"
    if data.get("kind", "confirmed") not in ("confirmed", "asymptomatic"):
        return "kind must be confirmed or asymptomatic"
    if not isinstance(data.get("visited", []), list):
        return "visited must be a list of area paths"
    return None


@register("infection", required=("person", "home", "found"), optional=("visited", "kind", "home_isolating"),
          check=_check)
def infection(ctx, ev):
    from cordon.cases.actions import do_record_infection

    d = ev.data
    inf = do_record_infection(label=str(d["person"]), home=ctx.area(d["home"]), found=d["found"],
                              kind=d.get("kind", "confirmed"), confirmed_on=ctx.date,
                              visited=[ctx.area(p) for p in d.get("visited") or []],
                              home_isolating=bool(d.get("home_isolating", False)), actor=ctx.actor)
    ctx.people[str(d["person"])] = inf
