"""Scenario event types for command orders (docs/scenario.md): ``command``, ``ack`` and ``done``; per-day output
key ``commands`` (each recipient unit of each order: sent, acknowledged, done or overdue)."""
from __future__ import annotations

import datetime as dt

from cordon.command.actions import do_acknowledge_order, do_complete_order, do_send_order
from cordon.command.models import Recipient, RecipientStatus as RS
from cordon.core import clock
from cordon.scenario.runner import Refused, collector
from cordon.scenario.spec import register


def _check_command(data):
    if not isinstance(data.get("to"), list) or not data["to"]:
        return "to must be a list of area paths"
    if not isinstance(data.get("due_day"), int) or isinstance(data["due_day"], bool) or data["due_day"] < 0:
        return "due_day must be a day number (0 or more)"
    return None


def _deadline(ctx, due_day: int) -> dt.datetime:
    """The end of the scenario's day ``due_day`` (city time)."""
    day = ctx.scenario.start + dt.timedelta(days=due_day)
    return dt.datetime.combine(day, dt.time(23, 59, 59), tzinfo=clock.tz())


@register("command", required=("id", "to", "due_day"), optional=("text", "title", "level", "priority", "basis"),
          check=_check_command)
def command(ctx, ev):
    """The command centre sends order ``id`` to the units at ``to`` (fanned out to ``level`` when given), due by
    the end of ``due_day``. A path outside the city is refused ``unknown-area``."""
    d = ev.data
    for path in d["to"]:
        ctx.area(path)  # Refused("unknown-area") for a path the city does not have
    ctx.state.setdefault("command_due", {})[str(d["id"])] = int(d["due_day"])
    do_send_order(title=str(d.get("title") or d["id"]), text=str(d.get("text") or d["id"]),
                  due=_deadline(ctx, int(d["due_day"])), to=[str(p) for p in d["to"]],
                  level=str(d.get("level") or ""), priority=str(d.get("priority") or "routine"),
                  basis=str(d.get("basis") or ""), ref=str(d["id"]), actor=ctx.actor, reason="scenario")


def _recipient(d) -> Recipient:
    r = (Recipient.objects.select_related("order")
         .filter(order__ref=str(d["command"]), label=str(d["unit"]).strip().strip("/")).first())
    if r is None:
        raise Refused("unknown-recipient", f"order {d['command']} was not sent to {d['unit']}")
    return r


@register("ack", required=("command", "unit"))
def ack(ctx, ev):
    do_acknowledge_order(_recipient(ev.data), actor=ctx.actor, reason="scenario")


@register("done", required=("command", "unit"), optional=("evidence",))
def done(ctx, ev):
    do_complete_order(_recipient(ev.data), evidence=str(ev.data.get("evidence") or "scenario"), actor=ctx.actor,
                      reason="scenario")


#: What the output calls each recipient status.
OUTPUT = {RS.SENT: "sent", RS.READ: "sent", RS.ACKNOWLEDGED: "acknowledged", RS.IN_PROGRESS: "acknowledged",
          RS.DONE: "done"}


@collector("commands")
def commands(ctx, date):
    """Each recipient of each order: overdue when the day is past the order's due day and it is not done."""
    out = []
    for r in Recipient.objects.select_related("order").order_by("order__ref", "label"):
        status = OUTPUT[r.status]
        if status != "done" and r.order.due.astimezone(clock.tz()).date() < date:
            status = "overdue"
        out.append({"id": r.order.ref, "unit": r.label, "status": status})
    return out


