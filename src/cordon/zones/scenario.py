"""Scenario event types and outputs for risk areas (docs/scenario.md)."""
from __future__ import annotations

from cordon.cases.models import Infection
from cordon.core.jobs import day_start
from cordon.scenario.runner import DAY_END, DAY_START, Refused, collector
from cordon.scenario.spec import register
from cordon.zones.actions import (do_adjust_extent, do_confirm_proposal, do_designate, do_keep, do_lift,
                                  do_record_round, do_reseal, do_resume)
from cordon.zones.models import Designation, Flag, Proposal, ProposalStatus, Status
from cordon.zones.queries import rounds_due


def _designation(ctx, path, *, active_only=True):
    area = ctx.area(path)
    qs = Designation.objects.filter(area=area)
    qs = qs.filter(status=Status.ACTIVE) if active_only else qs.exclude(status=Status.CLOSED)
    d = qs.first()
    if d is None:
        raise Refused("not-designated", f"{area.path} is not designated")
    return d


def _level_check(data):
    if data.get("level") not in ("high", "medium", "low"):
        return "level must be high, medium or low"
    return None


@register("designate", required=("area", "level"), optional=("reason", "because"), check=_level_check)
def designate(ctx, ev):
    area = ctx.area(ev.data["area"])
    because = ev.data.get("because") or []
    infections = list(Infection.objects.filter(label__in=[str(b) for b in because]))
    if not because:
        # Link the infections that live in or visited the area (as a person would pick them).
        infections = [i for i in Infection.objects.select_related("home").prefetch_related("visited")
                      if related(i.home, area) or any(related(v, area) for v in i.visited.all())]
    do_designate(area, ev.data["level"], on=ctx.date, reason=ev.data.get("reason") or "scenario",
                 infections=infections, actor=ctx.actor)


def related(a, b) -> bool:
    """True when one of the two areas contains the other (or they are the same)."""
    return getattr(a, f"{b.kind}_id") == b.pk or getattr(b, f"{a.kind}_id") == a.pk


def _result_check(data):
    if data.get("result") not in ("negative", "positive", "pending"):
        return "result must be negative, positive or pending"
    return None


@register("round", required=("area", "result"), check=_result_check)
def round_(ctx, ev):
    d = _designation(ctx, ev.data["area"])
    result = ev.data["result"]
    do_record_round(d, on=ctx.date, result="" if result == "pending" else result, actor=ctx.actor)


@register("keep", required=("area",), optional=("reason",))
def keep(ctx, ev):
    do_keep(_designation(ctx, ev.data["area"]), on=ctx.date, reason=ev.data.get("reason", ""), actor=ctx.actor)


@register("resume", required=("area",), optional=("reason",))
def resume(ctx, ev):
    do_resume(_designation(ctx, ev.data["area"]), on=ctx.date, reason=ev.data.get("reason", ""), actor=ctx.actor)


@register("lift", required=("area",), optional=("reason", "level"))
def lift(ctx, ev):
    do_lift(_designation(ctx, ev.data["area"]), on=ctx.date, reason=ev.data.get("reason", ""),
            level=ev.data.get("level"), actor=ctx.actor)


@register("reseal", required=("area",), optional=("reason", "level"))
def reseal(ctx, ev):
    do_reseal(_designation(ctx, ev.data["area"], active_only=False), level=ev.data.get("level", "high"),
              on=ctx.date, reason=ev.data.get("reason") or "scenario re-seal", actor=ctx.actor)


@register("adjust", required=("area",), optional=("add", "remove", "reason"))
def adjust(ctx, ev):
    d = _designation(ctx, ev.data["area"])
    do_adjust_extent(d, add=[ctx.area(p) for p in ev.data.get("add") or []],
                     remove=[ctx.area(p) for p in ev.data.get("remove") or []], on=ctx.date,
                     reason=ev.data.get("reason") or "scenario", actor=ctx.actor)


@register("confirm", required=("area",), optional=("level",))
def confirm(ctx, ev):
    """The commander confirms the open proposal for an area (one click)."""
    area = ctx.area(ev.data["area"])
    qs = Proposal.objects.filter(area=area, status=ProposalStatus.OPEN)
    if ev.data.get("level"):
        qs = qs.filter(level=ev.data["level"])
    p = qs.first()
    if p is None:
        raise Refused("no-proposal", f"no open proposal for {area.path}")
    do_confirm_proposal(p, actor=ctx.actor, on=ctx.date)


def _tick(ctx):
    day_start(ctx.date, actor="system")


def _auto_rounds(ctx):
    """Every full-area round the pack requires happens on its day, negative, unless an event says otherwise."""
    if not ctx.scenario.auto_rounds:
        return
    for d in rounds_due(ctx.date):
        if (d.area.path, ctx.day) not in ctx.explicit_rounds:
            do_record_round(d, on=ctx.date, result="negative", actor=ctx.actor, reason="auto round (scenario)")


DAY_START.append(_tick)
DAY_END.append(_auto_rounds)


@collector("areas")
def areas(ctx, date):
    out = []
    for d in Designation.objects.filter(status=Status.ACTIVE, level__in=["high", "medium"]).select_related(
            "area").order_by("area__path"):
        out.append({"area": d.area.path, "level": d.level, "since": d.since.isoformat(),
                    "next": {"level": d.next_level, "on": d.next_on.isoformat()} if d.next_on else None,
                    "waiting": d.waiting.split(" / ")[-1] if d.waiting and not d.next_on else None})
    return out


@collector("proposals")
def proposals(ctx, date):
    return [{"area": p.area.path, "level": p.level, "because": p.because, **({"kind": p.kind} if p.kind != "new" else {})}
            for p in Proposal.objects.filter(status=ProposalStatus.OPEN).select_related("area").order_by("id")]


@collector("flags")
def flags(ctx, date):
    return [{"rule": f.rule, "subject": f.subject, "message": f.message_en or f.message}
            for f in Flag.objects.filter(on=date).order_by("id")]
