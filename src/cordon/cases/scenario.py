"""Scenario event types for infections (docs/scenario.md)."""
from __future__ import annotations

from cordon.cases.actions import (do_extend_order, do_manual_order, do_record_checkin, do_record_infection,
                                  do_register_arrival, do_register_contact, do_register_spillover)
from cordon.cases.models import Infection, OrderStatus, PersonOrder
from cordon.places.models import Area
from cordon.scenario.runner import Refused, collector
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
    d = ev.data
    inf = do_record_infection(label=str(d["person"]), home=ctx.area(d["home"]), found=d["found"],
                              kind=d.get("kind", "confirmed"), confirmed_on=ctx.date,
                              visited=[ctx.area(p) for p in d.get("visited") or []],
                              home_isolating=bool(d.get("home_isolating", False)), actor=ctx.actor)
    ctx.people[str(d["person"])] = inf


def _day(ctx, rel):
    import datetime as dt

    return ctx.scenario.start + dt.timedelta(days=int(rel))


def _int(*keys):
    def check(data):
        for k in keys:
            if k in data and (not isinstance(data[k], int) or isinstance(data[k], bool)):
                return f"{k} must be a whole number (a day index)"
        return None

    return check


@register("contact", required=("person", "of", "category", "last_exposure_day"), optional=("home",),
          check=_int("last_exposure_day"))
def contact(ctx, ev):
    d = ev.data
    of = str(d["of"])
    inf = Infection.objects.filter(label=of).first()
    via = None
    if inf is None:
        via = PersonOrder.objects.filter(label=of).order_by("-id").first()
        if via is None or via.infection is None:
            raise Refused("nine-prohibitions-4", f"{of} is neither a recorded infection nor a traced contact")
        inf = via.infection
    home = ctx.area(d["home"]) if d.get("home") else inf.home
    do_register_contact(inf, label=str(d["person"]), category=d["category"],
                        last_exposure=_day(ctx, d["last_exposure_day"]), identified_on=ctx.date, home=home,
                        via=via, actor=ctx.actor)


@register("arrival", required=("person", "from_level", "kind", "arrival_day"), optional=("home",),
          check=_int("arrival_day"))
def arrival(ctx, ev):
    d = ev.data
    home = ctx.area(d["home"]) if d.get("home") else Area.objects.filter(kind="unit").order_by("id").first()
    do_register_arrival(label=str(d["person"]), from_level=d["from_level"], kind=d["kind"],
                        arrived_on=_day(ctx, d["arrival_day"]), destination=home, identified_on=ctx.date,
                        actor=ctx.actor)


@register("spillover", required=("person", "from_area", "left_day"), optional=("home",), check=_int("left_day"))
def spillover(ctx, ev):
    d = ev.data
    do_register_spillover(label=str(d["person"]), from_area=ctx.area(d["from_area"]),
                          left_on=_day(ctx, d["left_day"]),
                          home=ctx.area(d["home"]) if d.get("home") else None, identified_on=ctx.date,
                          actor=ctx.actor)


@register("order", required=("person", "category"), optional=("reason",))
def order(ctx, ev):
    d = ev.data
    do_manual_order(label=str(d["person"]), category=d["category"], reason=d.get("reason") or "scenario order",
                    on=ctx.date, actor=ctx.actor)


def _active(ctx, person):
    o = PersonOrder.objects.filter(label=str(person), status=OrderStatus.ACTIVE).order_by("-id").first()
    if o is None:
        raise Refused("no-order", f"{person} is not under an order")
    return o


@register("extend", required=("person", "days"), optional=("reason",), check=_int("days"))
def extend(ctx, ev):
    d = ev.data
    do_extend_order(_active(ctx, d["person"]), days=d["days"], reason=d.get("reason") or "", on=ctx.date,
                    actor=ctx.actor)


@register("test", required=("person", "result"))
def test(ctx, ev):
    do_record_checkin(_active(ctx, ev.data["person"]), on=ctx.date, test_result=ev.data["result"], actor=ctx.actor)


@collector("people")
def people(ctx, date):
    out = []
    for o in PersonOrder.objects.filter(status=OrderStatus.ACTIVE).order_by("id"):
        if o.centralized_until and date <= o.centralized_until:
            status = "centralized"
        elif o.home_until and date <= o.home_until:
            status = "home"
        else:
            status = "free"
        out.append({"person": o.label, "category": o.category, "status": status,
                    "centralized_until": o.centralized_until.isoformat() if o.centralized_until else None,
                    "home_until": o.home_until.isoformat() if o.home_until else None,
                    "free_on": o.free_on.isoformat() if o.free_on else None,
                    "test_days": o.test_days})
    return out
