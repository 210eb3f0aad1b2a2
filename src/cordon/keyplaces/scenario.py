"""Scenario event types for key places (docs/scenario.md): ``key_place`` registers a place, ``place_status``
opens it, puts it in closed loop or closes it. Closing an essential place outside high/medium areas shows in
the day's ``flags`` (nine prohibitions #9); an unknown place is refused with rule ``invalid``."""
from __future__ import annotations

from cordon.keyplaces.actions import do_register_place, do_set_place_status
from cordon.keyplaces.models import KeyPlace
from cordon.scenario.runner import Refused
from cordon.scenario.spec import register


@register("key_place", required=("place", "kind", "area"), optional=("name", "capacity"))
def key_place(ctx, ev):
    d = ev.data
    area = ctx.area(d["area"])
    do_register_place(ref=str(d["place"]), name=str(d.get("name") or d["place"]), kind=str(d["kind"]), area=area,
                      capacity=int(d.get("capacity") or 0), on=ctx.date, actor=ctx.actor, reason="scenario")


@register("place_status", required=("place", "status"), optional=("reason",))
def place_status(ctx, ev):
    d = ev.data
    place = KeyPlace.objects.select_related("area").filter(ref=str(d["place"])).first()
    if place is None:
        raise Refused("invalid", f"no key place {d['place']}")
    do_set_place_status(place, status=str(d["status"]), reason=str(d.get("reason") or ""), on=ctx.date,
                        actor=ctx.actor)
