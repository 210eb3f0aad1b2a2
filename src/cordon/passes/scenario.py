"""Scenario event types for passes (docs/scenario.md): ``pass``, ``revoke``, ``check``; per-day outputs
``passes`` (every pass's status that day) and ``checks`` (the day's checks in order). A pass's ``person`` is a
scenario person known as a resident (a key worker registered by a ``key_worker`` event, or a resident of the
city by name); an unknown person or pass is refused with rule ``invalid``. The day-start job (suspension and
reactivation) runs in the zones day start (``core.jobs``)."""
from __future__ import annotations

import datetime as dt

from cordon.passes.actions import do_check_pass, do_issue_pass, do_revoke_pass
from cordon.passes.models import CheckLog, Kind, Pass
from cordon.places.models import Resident
from cordon.scenario.runner import Refused, collector
from cordon.scenario.spec import register


def _day(ctx, value, name):
    if isinstance(value, int) and not isinstance(value, bool):
        return ctx.scenario.start + dt.timedelta(days=value)
    raise Refused("invalid", f"{name} must be a day number")


def _check_pass(data):
    if data.get("kind") not in Kind.values:
        return "kind must be one of " + ", ".join(Kind.values)
    if not isinstance(data.get("areas"), list) or not data["areas"]:
        return "areas must be a list of area paths"
    return None


def _person(ctx, label: str):
    r = ctx.people.get(label)
    if isinstance(r, Resident):
        return r
    r = Resident.objects.filter(name=label).order_by("id").first()
    if r is None:
        raise Refused("invalid", f"unknown person {label}")
    return r


def _pass(ctx, label):
    p = Pass.objects.filter(label=str(label)).order_by("-id").first()
    if p is None:
        raise Refused("invalid", f"unknown pass {label}")
    return p


@register("pass", required=("id", "person", "kind", "areas", "from_day", "to_day"), check=_check_pass)
def issue(ctx, ev):
    d = ev.data
    if Pass.objects.filter(label=str(d["id"])).exists():
        raise Refused("invalid", f"pass {d['id']} already issued")
    holder = _person(ctx, str(d["person"]))
    do_issue_pass(kind=d["kind"], areas=[ctx.area(a) for a in d["areas"]], valid_from=_day(ctx, d["from_day"], "from_day"),
                  valid_to=_day(ctx, d["to_day"], "to_day"), holder=holder, label=str(d["id"]), actor=ctx.actor,
                  reason="scenario")


@register("revoke", required=("pass", "reason"))
def revoke(ctx, ev):
    do_revoke_pass(_pass(ctx, ev.data["pass"]), reason=str(ev.data["reason"]) or "scenario", actor=ctx.actor)


@register("check", required=("pass", "area"))
def check(ctx, ev):
    area = ctx.area(ev.data["area"])
    p = Pass.objects.filter(label=str(ev.data["pass"])).order_by("-id").first()
    log, _answer = do_check_pass(code=p.code if p else "", area=area, actor=ctx.actor)
    ctx.state.setdefault("pass_checks", {})[log.pk] = str(ev.data["pass"])
    if p is None:  # logged as a refused check, and refused as an event
        raise Refused("invalid", f"unknown pass {ev.data['pass']}")


@collector("passes")
def passes(ctx, date):
    return [{"id": p.label, "status": p.status} for p in Pass.objects.exclude(label="").order_by("id")]


@collector("checks")
def checks(ctx, date):
    labels = ctx.state.get("pass_checks", {})
    return [{"pass": labels.get(c.pk, c.pass_ref.label if c.pass_ref_id else None), "area": c.area.path,
             "result": c.result, "reason": c.reason or None}
            for c in CheckLog.objects.filter(on=date).select_related("area", "pass_ref").order_by("at", "id")]
