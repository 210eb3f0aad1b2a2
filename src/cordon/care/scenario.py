"""Scenario event types for emergency medical care (docs/scenario.md): ``care_request`` and ``care_close``;
per-day output key ``care`` (the open requests, most urgent first)."""
from __future__ import annotations

from cordon.care.actions import do_close_request, do_create_request
from cordon.care.queries import board
from cordon.care.models import CareRequest
from cordon.cases.models import Infection, PersonOrder
from cordon.places.models import Area
from cordon.scenario.runner import Refused, collector
from cordon.scenario.spec import register

OUTCOMES = ("done", "refused", "cancelled")


def _check_close(data):
    if data.get("outcome") not in OUTCOMES:
        return "outcome must be done, refused or cancelled"
    if "confirmed" in data and not isinstance(data["confirmed"], bool):
        return "confirmed must be true or false"
    return None


@register("care_request", required=("id", "person", "need"), optional=("urgency", "area", "source"))
def care_request(ctx, ev):
    """``person`` is a scenario person label (an infection or an order: the designated hospital applies and
    the home is where) or free text (then ``area``, else the city's first unit)."""
    d = ev.data
    person = str(d["person"])
    infection = Infection.objects.filter(label=person).first()
    order = None if infection is not None else PersonOrder.objects.filter(label=person).order_by("-id").first()
    if d.get("area"):
        area = ctx.area(d["area"])
    elif infection is not None:
        area = infection.home
    elif order is not None and order.home_id:
        area = order.home
    else:
        area = Area.objects.filter(kind="unit").order_by("id").first()
        if area is None:
            raise Refused("unknown-area", "the scenario's city has no unit")
    do_create_request(person=person, area=area, need=str(d["need"]), urgency=str(d.get("urgency") or ""),
                      source=str(d.get("source") or "community"), infection=infection, order=order,
                      ref=str(d["id"]), actor=ctx.actor, reason="scenario")


@register("care_close", required=("id", "outcome"), optional=("reason", "confirmed", "confirmed_by"),
          check=_check_close)
def care_close(ctx, ev):
    """Close a request. ``refused`` is always refused (nine-prohibitions-6). ``cancelled`` stands for the
    requester's own cancellation (``confirmed_by`` defaults to "requester"); ``confirmed: false`` models a
    cancellation the requester did not confirm, which is refused (care-cancel-needs-confirmation)."""
    d = ev.data
    req = CareRequest.objects.filter(ref=str(d["id"])).first()
    if req is None:
        raise Refused("unknown-request", f"no care request {d['id']}")
    confirmed_by = ""
    if d["outcome"] == "cancelled" and d.get("confirmed", True):
        confirmed_by = str(d.get("confirmed_by") or "requester")
    do_close_request(req, outcome=d["outcome"], reason=str(d.get("reason") or "scenario"), confirmed_by=confirmed_by,
                     confirmation=str(d.get("reason") or "scenario"), actor=ctx.actor)


@collector("care")
def care(ctx, date):
    return [{"id": r.ref, "priority": r.priority_key, "status": r.status}
            for r in board(CareRequest.objects.all())]
