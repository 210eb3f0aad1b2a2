"""Scenario events for key workers (docs/scenario.md): ``key_worker`` (registers a person of the scenario as a
key worker: a resident is created in the ``home`` unit) and ``sample`` (a sample taken that day, negative or
positive); per-day output ``key_workers``: every registered worker's status and ``due`` (the last day still
current, null before a first negative sample)."""
from __future__ import annotations

import datetime as dt

from cordon.core.ids import make_id_number
from cordon.keyworkers.actions import do_create_employer, do_record_sample, do_register_key_worker
from cordon.keyworkers.models import Employer, EmployerKind, KeyWorker
from cordon.keyworkers.queries import due_of, status_of
from cordon.places.actions import do_create_resident, do_get_or_create_household
from cordon.scenario.runner import Refused, collector
from cordon.scenario.spec import register

_LABELS = "keyworkers.people"  # ctx.state: person label -> KeyWorker id


def _check_result(data):
    return None if data.get("result") in ("negative", "positive") else "result must be negative or positive"


@register("key_worker", required=("person", "group", "employer", "home"))
def key_worker(ctx, ev):
    d = ev.data
    label = str(d["person"])
    known = ctx.state.setdefault(_LABELS, {})
    if label in known:
        raise Refused("invalid", f"{label} is already a key worker")
    home = ctx.area(d["home"])
    if home.kind != "unit":
        raise Refused("invalid", f"home must be a building unit: {d['home']}")
    employer = Employer.objects.filter(name=str(d["employer"])).first() or do_create_employer(
        str(d["employer"]), kind=EmployerKind.DELIVERY_PLATFORM, actor=ctx.actor, reason="scenario")
    hh = do_get_or_create_household(home, "KW", actor=ctx.actor)
    seq = len(known) + 1
    person = do_create_resident(hh, {"name": label[:40], "id_number": make_id_number(
        "620102", dt.date(1990, 1, 1) + dt.timedelta(days=seq // 500), seq, "M")}, actor=ctx.actor,
        reason="scenario key worker")
    w = do_register_key_worker(person, group=str(d["group"]), employer=employer, registered_on=ctx.date,
                               actor=ctx.actor, reason="scenario")
    known[label] = w.pk


@register("sample", required=("person", "result"), check=_check_result)
def sample(ctx, ev):
    d = ev.data
    pk = ctx.state.get(_LABELS, {}).get(str(d["person"]))
    if pk is None:
        raise Refused("invalid", f"{d['person']} is not a registered key worker")
    do_record_sample(KeyWorker.objects.get(pk=pk), result=d["result"], on=ctx.date, actor=ctx.actor,
                     reason="scenario")


@collector("key_workers")
def key_workers(ctx, date):
    labels = {pk: label for label, pk in ctx.state.get(_LABELS, {}).items()}
    out = []
    for w in KeyWorker.objects.filter(pk__in=list(labels)).order_by("id"):
        due = due_of(w)
        out.append({"person": labels[w.pk], "status": status_of(w, date), "due": due.isoformat() if due else None})
    return out
