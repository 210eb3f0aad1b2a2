"""Reads of care: what pages, the API and jobs show (no writes; writes are in actions.py)."""
from __future__ import annotations

import datetime as dt

from cordon.care import triage
from cordon.care.models import OPEN_STATUSES, ProactiveTask, Status, TaskKind
from cordon.core import clock
from cordon.cases.models import Infection, OrderStatus, PersonOrder
from cordon.places.models import special_groups
from cordon.zones.queries import covering

ONE = dt.timedelta(days=1)
#: How far ahead a seal is assumed to last when its designation has no expected change date.
DEFAULT_SEAL_DAYS = 7


def seal_window(d, on: dt.date) -> tuple[dt.date, dt.date]:
    """The days (inclusive) a designation is expected to keep people in: today until the day before its
    expected change, or DEFAULT_SEAL_DAYS when no change date is known yet."""
    end = d.next_on - ONE if d.next_on else on + dt.timedelta(days=DEFAULT_SEAL_DAYS - 1)
    return on, max(on, end)


def tasks_for(d, r, need, on: dt.date) -> list[ProactiveTask]:
    """What resident ``r`` inside designation ``d`` will need during the seal, as unsaved tasks."""
    start, end = seal_window(d, on)
    first = d.designated_on
    out = []

    def add(kind, due_on, detail=""):
        t = ProactiveTask(designation=d, resident=r, kind=kind, due_on=due_on, detail=detail[:200], created_on=on)
        t.set_scope_from(r)
        out.append(t)

    weekdays = list(need.dialysis_weekdays) if need is not None and need.dialysis_weekdays else []
    if weekdays:
        day = start
        while day <= end:
            if day.weekday() in weekdays:
                add(TaskKind.DIALYSIS, day, "透析日 / dialysis day")
            day += ONE
    elif r.treatment == "dialysis":
        add(TaskKind.DIALYSIS, first, "透析时间未登记，请联系确认 / schedule not registered: confirm it")
    if r.treatment in ("chemotherapy", "other"):
        add(TaskKind.TREATMENT, first, "确认下次治疗时间 / confirm the next session")
    due = (need.due_date if need is not None and need.due_date else None) or r.pregnant_due
    if due is not None and start <= due <= end:
        add(TaskKind.DUE, due, "预产期在封控期内 / due date inside the seal")
    if need is not None and need.oxygen:
        add(TaskKind.OXYGEN, first, "保障氧气供应 / keep oxygen supplied")
    if need is not None and need.medication:
        add(TaskKind.MEDICATION, first, need.medication)
    groups = set(special_groups(r, on))
    if groups & {"aged80", "alone", "infant", "disability", "chronic"}:
        add(TaskKind.CHECK, first, ", ".join(sorted(groups)))
    return out


def person_status(*, resident=None, infection=None, order=None) -> bool:
    """True when the person must go to a designated hospital: an infection, or under a quarantine order."""
    if infection is not None:
        return True
    if order is not None and order.status == OrderStatus.ACTIVE:
        return True
    if resident is not None:
        if Infection.objects.filter(resident=resident).exists():
            return True
        if PersonOrder.objects.filter(resident=resident, status=OrderStatus.ACTIVE).exists():
            return True
    return False


def is_sealed(area) -> bool:
    return covering(area).exists()


def board(qs):
    """Open requests, most urgent first: priority, then deadline."""
    return qs.filter(status__in=OPEN_STATUSES).order_by("priority", "deadline", "id")


def request_list(scoped_qs, tab: str):
    """The board's list of one tab: open requests most urgent first, or closed ones newest first (the page
    and its export)."""
    if tab == "closed":
        return scoped_qs.filter(status=Status.CLOSED).order_by("-closed_at", "-id")
    return board(scoped_qs)


def special_list(scoped_qs, today: dt.date, q: str = ""):
    """Residents of a special group or with registered needs, found by name or household number, in unit and
    household order (the registry page and its export)."""
    from django.db.models import Q

    from cordon.zones.queries import special_q

    qs = scoped_qs.filter(special_q(today) | Q(care_need__isnull=False))
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(household__number=q))
    return qs.order_by("unit_id", "household_id", "id")


def _min(td) -> float | None:
    return round(td.total_seconds() / 60, 1) if td is not None else None


def kpis(qs, since: dt.datetime | None = None) -> list[dict]:
    """Minutes from receipt to dispatch and to the vehicle's arrival, by priority: mean and max, and how
    many were dispatched after their deadline. One grouped query (aggregated in the database)."""
    from django.db.models import Avg, Count, DurationField, ExpressionWrapper, F, Max, Q

    since = since or clock.now() - dt.timedelta(days=30)
    to_d = ExpressionWrapper(F("dispatched_at") - F("received_at"), output_field=DurationField())
    to_a = ExpressionWrapper(F("arrived_at") - F("received_at"), output_field=DurationField())
    rows = {r["priority_key"]: r for r in qs.filter(received_at__gte=since).order_by().values("priority_key").annotate(
        n=Count("id"), nd=Count("dispatched_at"), na=Count("arrived_at"), d_avg=Avg(to_d), d_max=Max(to_d),
        a_avg=Avg(to_a), a_max=Max(to_a), late=Count("id", filter=Q(dispatched_at__gt=F("deadline"))))}
    out = []
    for p in triage.ordered():
        r = rows.get(p.key)
        if not r:
            continue
        out.append({"priority": p.key, "rank": p.rank, "goal_minutes": p.dispatch_minutes, "requests": r["n"],
                    "to_dispatch": {"mean": _min(r["d_avg"]), "max": _min(r["d_max"]), "count": r["nd"]}
                    if r["nd"] else None,
                    "to_arrival": {"mean": _min(r["a_avg"]), "max": _min(r["a_max"]), "count": r["na"]}
                    if r["na"] else None,
                    "dispatched_late": r["late"]})
    return out
