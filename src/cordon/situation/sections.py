"""The situation sections (see ``registry``): each ``(view, on_date, detail=False) -> dict | None``.

Every section reads a fixed handful of grouped queries whatever the city's size, through the owning
app's models and scoped by ``view``. Figures are plain JSON values; ``links`` point back to the records
(pages), ``ids`` (only with ``detail``) list the day's records for the daily report.
"""
from __future__ import annotations

import datetime as dt
import math
import statistics
from collections import defaultdict

from django.apps import apps
from django.conf import settings
from django.db import connection
from django.db.models import Count, ExpressionWrapper, F, FloatField, Max, Q
from django.db.models.expressions import RawSQL
from django.urls import NoReverseMatch, reverse
from django.utils import translation

from cordon.care.models import OPEN_STATUSES as CARE_OPEN
from cordon.care.models import CareRequest
from cordon.cases.models import Facility, Found, Infection, OrderStatus, PersonOrder, ResponseTask, TaskStatus
from cordon.cases.queries import outlooks
from cordon.core.models import LEVELS
from cordon.core.packs import active_pack
from cordon.epi import rt as epi_rt
from cordon.hotline.models import OPEN_STATUSES as TICKET_OPEN
from cordon.hotline.models import Ticket
from cordon.keyworkers.models import KeyWorker
from cordon.keyworkers.queries import status_q
from cordon.keyplaces.models import Breach, KeyPlace
from cordon.keyplaces.queries import day_counts
from cordon.places.models import Area, Resident
from cordon.situation.registry import SituationScope, end_of, start_of
from cordon.supplies.models import Allocation, DeliveryOrder, Reconciliation, Warehouse
from cordon.zones import kpi
from cordon.zones.models import Designation, Event, EventKind, Flag, Level, Member, Status
from cordon.zones.queries import special_q

ID_CAP = 5000  # ids listed per kind in the daily report
DEFAULT_DAYS = 60
RT_LEAD_DAYS = 21  # days before the curve also fed to Rt, so the first windows see earlier infectivity


def _url(name: str, *args, query: str = "") -> str | None:
    try:
        u = reverse(name, args=args)
    except NoReverseMatch:
        return None
    return u + (("?" + query) if query else "")


def _on_day(field: str, on: dt.date) -> Q:
    """``field`` (a time) falls within the city's day ``on``."""
    day0 = start_of(on)
    return Q(**{f"{field}__gte": day0, f"{field}__lt": day0 + dt.timedelta(days=1)})


def _ids(qs) -> list[int]:
    """The ids of ``qs`` in order, at most ``ID_CAP`` (what the daily report lists per kind)."""
    return list(qs.order_by("id").values_list("id", flat=True)[:ID_CAP])


def _lang() -> str:
    return "en" if (translation.get_language() or "zh").startswith("en") else "zh"


def si_params(view: SituationScope) -> tuple[float, float]:
    mean = view.params.get("mean_si") or getattr(settings, "CORDON_SI_MEAN", 2.6)
    std = view.params.get("std_si") or getattr(settings, "CORDON_SI_STD", 1.5)
    return float(mean), float(std)


def _finite(x):
    return x if (x is not None and math.isfinite(x)) else None


def rt_series(dates: list[dt.date], counts: list[int], mean_si: float, std_si: float, window: int = 7) -> dict:
    """Rt over the daily local counts (EpiEstim's Cori method through ``cordon.epi.rt``), plus the growth
    (doubling / halving) over the last ``window`` days. Plain JSON."""
    out = {"mean_si": mean_si, "std_si": std_si, "window": window, "rows": [], "latest": None, "warnings": [],
           "growth": None}
    if len(counts) >= window + 1 and sum(counts) > 0:
        try:
            res = epi_rt.estimate_r(counts, mean_si=mean_si, std_si=std_si, window=window, dates=dates)
        except epi_rt.EpiInputError as exc:
            out["warnings"].append(str(exc))
        else:
            out["warnings"] = list(res.warnings)
            for w in res.windows:
                if sum(counts[w.t_start - 1:w.t_end]) == 0:
                    continue  # no cases in the window: the posterior is the prior, not worth a point
                out["rows"].append({"date": w.date_end.isoformat(), "mean": round(w.mean, 4),
                                    "q025": round(w.q025, 4), "q975": round(w.q975, 4),
                                    "median": round(w.median, 4)})
            out["latest"] = out["rows"][-1] if out["rows"] else None
    tail = counts[-window:]
    if len(tail) == window and all(c > 0 for c in tail):
        g = epi_rt.doubling_time(tail)
        out["growth"] = {"kind": g.kind, "days": _finite(round(g.time, 1) if math.isfinite(g.time) else None),
                         "lo": _finite(round(g.time_lo, 1) if math.isfinite(g.time_lo) else None),
                         "hi": _finite(round(g.time_hi, 1) if math.isfinite(g.time_hi) else None),
                         "growth_rate": round(g.growth_rate, 4)}
    return out


# ------------------------------------------------------------------------------------------ epi

def epi(view: SituationScope, on: dt.date, detail: bool = False) -> dict:
    """Daily curves (community vs under control), the day's split by kind, district and where found, Rt with
    its interval, doubling/halving time and community-zero status."""
    days = max(7, min(int(view.params.get("days") or DEFAULT_DAYS), 400))
    start = on - dt.timedelta(days=days - 1)
    lead = start - dt.timedelta(days=RT_LEAD_DAYS)
    qs = view.filter(Infection.objects.all())
    n = (on - lead).days + 1
    comm, ctrl = [0] * n, [0] * n
    for day, found, c in (qs.filter(confirmed_on__gte=lead, confirmed_on__lte=on).order_by()
                          .values_list("confirmed_on", "found").annotate(n=Count("id"))):
        i = (day - lead).days
        if found == Found.COMMUNITY:
            comm[i] += c
        else:
            ctrl[i] += c
    all_dates = [lead + dt.timedelta(days=i) for i in range(n)]
    total = [a + b for a, b in zip(comm, ctrl)]
    mean_si, std_si = si_params(view)
    rt = rt_series(all_dates, total, mean_si, std_si)
    rt["rows"] = [r for r in rt["rows"] if r["date"] >= start.isoformat()]
    k = RT_LEAD_DAYS
    # the day: by district x where found x kind (one grouped query)
    by_district: dict = defaultdict(lambda: defaultdict(int))
    today = {"total": 0, "community": 0, "under_control": 0, "confirmed": 0, "asymptomatic": 0,
             "controlled_area": 0, "quarantine_site": 0, "confirmed_community": 0, "asymptomatic_community": 0}
    for did, found, kind, c in (qs.filter(confirmed_on=on).order_by()
                                .values_list("district_id", "found", "kind").annotate(n=Count("id"))):
        row = by_district[did]
        for key in ("total", found, kind, f"{kind}_{'community' if found == Found.COMMUNITY else 'control'}"):
            row[key] += c
        today["total"] += c
        today[kind] = today.get(kind, 0) + c
        if found == Found.COMMUNITY:
            today["community"] += c
            today[f"{kind}_community"] = today.get(f"{kind}_community", 0) + c
        else:
            today[found] = today.get(found, 0) + c
            today["under_control"] += c
    names = dict(Area.objects.filter(pk__in=[d for d in by_district if d]).values_list("pk", "name"))
    districts = sorted(({"district_id": did, "district": names.get(did, "?"), **dict(row)}
                        for did, row in by_district.items()), key=lambda r: (-r["total"], r["district"]))
    # community zero: days since the last community infection
    last_comm = None
    for i in range(n - 1, -1, -1):
        if comm[i]:
            last_comm = all_dates[i]
            break
    if last_comm is None:
        last_comm = (qs.filter(found=Found.COMMUNITY, confirmed_on__lt=lead)
                     .aggregate(m=Max("confirmed_on"))["m"])
    since = (on - last_comm).days if last_comm else None
    out = {
        "days": [d.isoformat() for d in all_dates[k:]],
        "community": comm[k:], "under_control": ctrl[k:], "total": total[k:],
        "window_total": sum(total[k:]), "window_community": sum(comm[k:]),
        "today": today, "by_district": districts,
        "rt": rt,
        "last_community": last_comm.isoformat() if last_comm else None,
        "days_since_community": since,
        "community_zero": since is None or since >= 1,
        "links": {"infections": _url("cases_infections"),
                  "day": _url("cases_infections", query=f"day={on.isoformat()}")},
    }
    if detail:
        out["ids"] = {"infections": _ids(qs.filter(confirmed_on=on))}
        out["records"] = [{"id": i, "label": lbl, "found": f, "kind": kd, "district_id": d,
                           "url": _url("cases_infection", i)}
                          for i, lbl, f, kd, d in qs.filter(confirmed_on=on).order_by("id")
                          .values_list("id", "label", "found", "kind", "district_id")[:500]]
    return out


# ------------------------------------------------------------------------------------------ risk areas

PEOPLE_INSIDE_MAX = 5000  # designations counted for people inside (a grouped query over residents)


def areas(view: SituationScope, on: dt.date, detail: bool = False) -> dict:
    """Active risk areas by level, areas under observation, the day's designations, level changes and lifts
    (with addresses), people inside the active areas."""
    qs = view.filter(Designation.objects.all())
    counts = {"high": 0, "medium": 0, "low": 0, "observation": 0, "closed": 0}
    for status, level, c in qs.order_by().values_list("status", "level").annotate(n=Count("id")):
        if status == Status.ACTIVE:
            counts[level] = counts.get(level, 0) + c
        else:
            counts[status] = counts.get(status, 0) + c
    active_n = counts["high"] + counts["medium"] + counts["low"]

    designated, changes, lifted = [], [], []
    seen = set()
    for e in (Event.objects.filter(on=on, kind__in=(EventKind.DESIGNATE, EventKind.RESEAL, EventKind.CHANGE))
              .filter(view.q("designation__"))
              .select_related("designation__area")
              .only("id", "designation_id", "level", "kind", "designation__public_reason", "designation__area__path")
              .order_by("designation__area__path", "id")[:3000]):
        key = (e.designation_id, e.kind, e.level)
        if key in seen:
            continue
        seen.add(key)
        row = {"id": e.designation_id, "area": e.designation.area.path, "level": e.level, "kind": e.kind,
               "reason": e.designation.public_reason, "url": _url("zones_detail", e.designation_id)}
        if e.kind in (EventKind.DESIGNATE, EventKind.RESEAL):
            designated.append(row)
        elif e.level == Level.LOW:
            lifted.append(row)
        else:
            changes.append(row)
    residents = special = None
    if 0 < active_n <= PEOPLE_INSIDE_MAX:
        residents, special = people_inside_total(qs.filter(status=Status.ACTIVE), on, special=detail)
    elif active_n == 0:
        residents = special = 0
    out = {"active": counts, "active_total": active_n, "residents_inside": residents,
           "special_inside": special, "designated": designated, "lifted": lifted, "changes": changes,
           "links": {"areas": _url("zones_list"), "public": _url("public_risk_areas")}}
    if detail:
        out["ids"] = {"designated": [r["id"] for r in designated], "lifted": [r["id"] for r in lifted],
                      "changed": [r["id"] for r in changes]}
    return out


def people_inside_total(designations, on: dt.date, special: bool = True) -> tuple[int, int | None]:
    """Residents (and special-group residents) inside the current extents of ``designations``, each counted
    once: members lying under another member are dropped. Residents from the areas' maintained population
    (no resident scan); special groups, when asked, by one aggregate over the residents per member kind."""
    anc_cols = [f"area__{lv}_id" for lv in LEVELS]
    rows = list(Member.objects.filter(designation__in=designations.values("id"), removed_on__isnull=True)
                .values_list("area_id", "area__kind", "area__population", *anc_cols).distinct())
    ids = {r[0] for r in rows}
    by_kind: dict = defaultdict(set)
    n = 0
    for r in rows:
        if r[0] in by_kind[r[1]]:
            continue
        if not any(a in ids for a in r[3:] if a and a != r[0]):
            by_kind[r[1]].add(r[0])
            n += r[2] or 0
    if not special:
        return n, None
    s = 0
    sq = special_q(on)
    for kind, area_ids in by_kind.items():
        s += Resident.objects.filter(**{f"{kind}_id__in": sorted(area_ids)}).filter(sq).count()
    return n, s


# ------------------------------------------------------------------------------------------ people under orders

def category_label(key: str, on: dt.date) -> str:
    try:
        cat = active_pack(on).category(key)
        if cat is not None:
            return cat.title.get(_lang())
    except Exception:  # a pack that cannot load must not break the page
        pass
    return key


def orders(view: SituationScope, on: dt.date, detail: bool = False) -> dict:
    """People under orders by category: active now (of whom centralized / at home), identified and released
    on the day."""
    qs = view.filter(PersonOrder.objects.all())
    cats: dict = defaultdict(lambda: {"active": 0, "centralized": 0, "home": 0, "new": 0, "released": 0})
    for cat, n, cen, home in (qs.filter(status=OrderStatus.ACTIVE).order_by().values_list("category")
                              .annotate(n=Count("id"), c=Count("id", filter=Q(centralized_until__gte=on)),
                                        h=Count("id", filter=(Q(centralized_until__isnull=True)
                                                              | Q(centralized_until__lt=on))
                                                & Q(home_until__gte=on)))):
        cats[cat].update(active=n, centralized=cen, home=home)
    for cat, n in qs.filter(identified_on=on).order_by().values_list("category").annotate(n=Count("id")):
        cats[cat]["new"] = n
    for cat, n in qs.filter(released_on=on).order_by().values_list("category").annotate(n=Count("id")):
        cats[cat]["released"] = n
    rows = [{"category": k, "label": category_label(k, on), **v} for k, v in sorted(cats.items())]
    out = {"categories": rows,
           "active": sum(r["active"] for r in rows), "centralized": sum(r["centralized"] for r in rows),
           "home": sum(r["home"] for r in rows), "new": sum(r["new"] for r in rows),
           "released": sum(r["released"] for r in rows),
           "links": {"orders": _url("cases_contacts")}}
    if detail:
        out["ids"] = {"identified": _ids(qs.filter(identified_on=on)),
                      "released": _ids(qs.filter(released_on=on))}
    return out


# ------------------------------------------------------------------------------------------ facilities

def facilities(view: SituationScope, on: dt.date, detail: bool = False) -> dict:
    """Facilities with occupancy and days of capacity left at the current intake."""
    fs = list(view.filter(Facility.objects.all()).only("id", "name", "kind", "capacity", "occupied")
              .order_by("kind", "name")[:500])
    outs = outlooks(fs, on) if fs else {}
    rows = [{"id": f.pk, "name": f.name, "kind": f.kind, "url": _url("cases_facility", f.pk), **outs[f.pk]}
            for f in fs]
    kinds: dict = defaultdict(lambda: {"capacity": 0, "occupied": 0, "free": 0, "count": 0})
    for r in rows:
        k = kinds[r["kind"]]
        k["capacity"] += r["capacity"]
        k["occupied"] += r["occupied"]
        k["free"] += r["free"]
        k["count"] += 1
    left = [r["days_left"] for r in rows if r["days_left"] is not None]
    return {"facilities": rows, "by_kind": dict(kinds),
            "capacity": sum(r["capacity"] for r in rows), "occupied": sum(r["occupied"] for r in rows),
            "free": sum(r["free"] for r in rows), "min_days_left": min(left) if left else None,
            "links": {"facilities": _url("cases_facilities")}}


# ------------------------------------------------------------------------------------------ response KPIs

KPI_DAYS = 7


def step_title(key: str) -> str:
    """A response step's title from the active pack in the reader's language (the key when the pack has
    no such step)."""
    from django.utils import translation

    t = active_pack().tasks.get(key)
    if t is None:
        return key
    return t.title.get("en" if (translation.get_language() or "zh").startswith("en") else "zh")


def response(view: SituationScope, on: dt.date, detail: bool = False) -> dict:
    """Response tasks against their deadlines (open, overdue, escalated, done on the day) and the response KPIs
    (hours from report to transfer over the last week, designation KPIs)."""
    now = end_of(on)
    qs = view.filter(ResponseTask.objects.all())
    agg = qs.filter(status=TaskStatus.OPEN).aggregate(
        open=Count("id"), overdue=Count("id", filter=Q(deadline__lt=now)),
        escalated=Count("id", filter=Q(escalation__gt=0)))
    agg.update(qs.filter(_on_day("done_at", on)).aggregate(
        done_today=Count("id"), done_late_today=Count("id", filter=Q(done_at__gt=F("deadline")))))
    by_step = {step: {"open": o, "overdue": od} for step, o, od in
               qs.filter(status=TaskStatus.OPEN).order_by().values_list("step")
               .annotate(o=Count("id"), od=Count("id", filter=Q(deadline__lt=now)))}
    since = on - dt.timedelta(days=KPI_DAYS - 1)
    # hours from the report to the transfer, computed by the database (floats: no datetime parsing per row)
    if connection.vendor == "sqlite":
        expr = RawSQL('(julianday("cases_responsetask"."done_at") - julianday("cases_infection"."reported_at")) * 24', ())
    else:
        expr = RawSQL('EXTRACT(EPOCH FROM ("cases_responsetask"."done_at" - "cases_infection"."reported_at")) / 3600', ())
    took = sorted(h for h in qs.filter(step="transfer", done_at__isnull=False, infection__confirmed_on__gte=since,
                                       infection__confirmed_on__lte=on, infection__reported_at__isnull=False)
                  .annotate(h=ExpressionWrapper(expr, output_field=FloatField())).values_list("h", flat=True)
                  if h is not None)
    hours = {"count": len(took), "median": round(statistics.median(took), 1) if took else None,
             "max": round(took[-1], 1) if took else None}
    zsum = kpi.summary(view.filter(Designation.objects.filter(designated_on__gte=since, designated_on__lte=on)))
    out = {**agg, "by_step": by_step,
           "transfer_hours": hours,
           "designation": zsum, "kpi_days": KPI_DAYS,
           "links": {"tasks": _url("cases_infections")}}
    if detail:
        out["ids"] = {
            "done": _ids(qs.filter(_on_day("done_at", on))),
            "overdue": _ids(qs.filter(status=TaskStatus.OPEN, deadline__lt=now)),
        }
        out["overdue_records"] = [
            {"id": t, "infection_id": i, "step": s, "owner": o, "deadline": d.isoformat(),
             "url": _url("cases_infection", i)}
            for t, i, s, o, d in qs.filter(status=TaskStatus.OPEN, deadline__lt=now).order_by("deadline")
            .values_list("id", "infection_id", "step", "owner", "deadline")[:200]]
    return out


# ------------------------------------------------------------------------------------------ guardrail flags

def flags(view: SituationScope, on: dt.date, detail: bool = False) -> dict:
    """Guardrail flags (nine prohibitions) raised on the day, by rule, and over the last week."""
    qs = view.filter(Flag.objects.all())
    by_rule = dict(qs.filter(on=on).order_by().values_list("rule").annotate(n=Count("id")))
    week = qs.filter(on__gt=on - dt.timedelta(days=7), on__lte=on).count()
    en = _lang() == "en"
    day = [{"id": f.pk, "rule": f.rule, "subject": f.subject,
            "message": (f.message_en or f.message) if en else f.message,
            "url": _url("zones_detail", f.designation_id) if f.designation_id else None}
           for f in qs.filter(on=on).only("id", "rule", "subject", "message", "message_en", "designation_id")
           .order_by("rule", "id")[:300]]
    out = {"today": sum(by_rule.values()), "by_rule": by_rule, "week": week, "flags": day,
           "links": {"areas": _url("zones_list")}}
    if detail:
        out["ids"] = {"flags": [f["id"] for f in day]}
    return out


# ------------------------------------------------------------------------------------------ other apps
# Tiny on purpose: the care / hotline / supplies authors refine these. ``None`` when the app is not installed.

def _desk(app: str, qs, counts: dict, listed: tuple[str, ...], links, detail: bool) -> dict | None:
    """A people-services desk's figures: ``counts`` name -> Q of the rows counted (one aggregate); with ``detail``,
    the ids of the ``listed`` ones. ``None`` when the deployment leaves the desk out (tests pin it)."""
    if not apps.is_installed(app):
        return None
    out = {**qs.aggregate(**{k: Count("id", filter=q) for k, q in counts.items()}), "links": links()}
    if detail:
        out["ids"] = {k: _ids(qs.filter(counts[k])) for k in listed}
    return out


def care(view: SituationScope, on: dt.date, detail: bool = False) -> dict | None:
    """Open emergency care requests against their deadlines; received and closed on the day."""
    open_ = Q(status__in=CARE_OPEN)
    return _desk("cordon.care", view.filter(CareRequest.objects.all()), {
        "open": open_, "overdue": open_ & Q(deadline__lt=end_of(on)), "received": _on_day("received_at", on),
        "closed": _on_day("closed_at", on), "refused": _on_day("closed_at", on) & Q(outcome="refused"),
    }, ("received", "overdue"), lambda: {"requests": _url("care_board")}, detail)


def hotline(view: SituationScope, on: dt.date, detail: bool = False) -> dict | None:
    """Hotline tickets: open, past their response / resolution deadlines, created and closed on the day."""
    now = end_of(on)
    return _desk("cordon.hotline", view.filter(Ticket.objects.all()), {
        "open": Q(status__in=TICKET_OPEN), "late_response": Q(status="open", respond_by__lt=now),
        "overdue": Q(status__in=TICKET_OPEN, resolve_by__lt=now), "created": _on_day("created_at", on),
        "closed": _on_day("closed_at", on),
    }, ("created", "overdue"), lambda: {"tickets": _url("hotline_list")}, detail)


def supplies(view: SituationScope, on: dt.date, detail: bool = False) -> dict | None:
    """Supplies: warehouses reconciled on the day (balanced or not), door deliveries due, allocation shortages."""
    if not apps.is_installed("cordon.supplies"):  # a deployment without the desk (tests pin it)
        return None
    warehouses = view.filter(Warehouse.objects.all()).count()
    rec = view.filter(Reconciliation.objects.filter(on=on))
    r = rec.aggregate(n=Count("id"), balanced=Count("id", filter=Q(balanced=True)))
    deliveries = {s: n for s, n in view.filter(DeliveryOrder.objects.filter(due_on=on)).order_by()
                  .values_list("status").annotate(n=Count("id"))}
    shortage = view.filter(Allocation.objects.filter(on=on, shortage__gt=0)).count()
    out = {"warehouses": warehouses, "reconciled": r["n"], "balanced": r["balanced"],
           "unbalanced": r["n"] - r["balanced"], "not_reconciled": max(0, warehouses - r["n"]),
           "deliveries": deliveries, "deliveries_due": sum(deliveries.values()),
           "allocations_short": shortage,
           "links": {"supplies": _url("supplies_dashboard"), "deliveries": _url("supplies_deliveries")}}
    if detail:
        out["ids"] = {"reconciliations": list(rec.order_by("id").values_list("id", flat=True)),
                      "unbalanced": list(rec.filter(balanced=False).order_by("id").values_list("id", flat=True))}
    return out


def keyworkers(view: SituationScope, on: dt.date, detail: bool = False) -> dict | None:
    """Key workers overdue for a test on the day, per employer (home within the view), and how many of them became
    overdue that day (POLICY.md: on their employer's list from that day)."""
    if not apps.is_installed("cordon.keyworkers"):
        return None
    qs = view.filter(KeyWorker.objects.filter(status_q("overdue", on)))
    rows = list(qs.order_by().values("employer_id", "employer__name").annotate(
        n=Count("id"), new=Count("id", filter=Q(overdue_from=on))).order_by("employer__name"))
    url = _url("keyworkers_list", query="status=overdue")
    out = {"registered": view.filter(KeyWorker.objects.filter(registered_on__lte=on)).count(),
           "overdue": sum(r["n"] for r in rows), "new": sum(r["new"] for r in rows),
           "employers": [{"employer": r["employer__name"], "overdue": r["n"], "new": r["new"],
                          "url": _url("keyworkers_list", query=f"status=overdue&employer={r['employer_id']}")}
                         for r in rows],
           "links": {"keyworkers": url, "overdue": _url("keyworkers_overdue")}}
    if detail:
        out["ids"] = {"overdue": _ids(qs)}
    return out
def keyplaces(view: SituationScope, on: dt.date, detail: bool = False) -> dict | None:
    """Key places on the day: how many were open, in closed loop or closed (from their dated history), and the
    day's breaches (exits outside a shift change, people inside past their on-site test)."""
    if not apps.is_installed("cordon.keyplaces"):
        return None
    breaches = view.filter(Breach.objects.all())
    out = {**day_counts(view.filter(KeyPlace.objects.all()), breaches, on), "links": {"places": _url("keyplaces_list")}}
    if detail:
        out["ids"] = {"breaches": _ids(breaches.filter(on=on))}
    return out

def resources(view: SituationScope, on: dt.date, detail: bool = False) -> dict | None:
    """Resource gaps of the day (``resources.queries``): sealed buildings with no volunteer on duty, lab
    catchments over (or near) their capacity for the next screening round."""
    if not apps.is_installed("cordon.resources"):
        return None
    from cordon.resources.queries import Within, gap_counts

    g = gap_counts(Within(view.scope, view.district.pk if view.district is not None else None), on)
    out = {k: g[k] for k in ("sealed_buildings", "uncovered", "labs_over", "labs_near")}
    out["links"] = {"today": _url("resources_today", query=f"on={on.isoformat()}"), "labs": _url("resources_labs")}
    if detail:
        out["ids"] = {"uncovered": g["uncovered_ids"][:ID_CAP], "labs_over": g["labs_over_ids"][:ID_CAP]}
    return out
