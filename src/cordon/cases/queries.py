"""Read helpers shared by the cases pages and API, each a fixed number of queries for a page of records.

* ``status_today`` / ``next_test``: a person's status and next test day from the stored order (no query).
* ``kpis_for``: the per-infection KPIs of ``infection_kpis`` for a page of infections in three
  queries (tasks, contacts, designations) instead of three per infection. "Contacts placed" counts the
  contacts whose order has a centralized period (contacts of contacts stay at home); the designation of an
  area designated before the report counts 0 hours.
* ``task_state``: overdue flag and escalation label of a task (no query).
* ``chain``: the transmission chain below an infection (infection -> contacts -> contacts who became
  infections -> their contacts), a few queries per generation.
* ``outlooks``: occupancy and days of capacity left at the current intake, for a list of facilities in one
  grouped query.
* ``daily_kpis``: the per-day KPI table of the infections page.
* ``seen_by`` / ``has_link``: records as an actor may read them; whether a person has a recorded link.
"""
from __future__ import annotations

import datetime as dt
import statistics
from collections import defaultdict

from django.db.models import Count, Max, Min, Q

from cordon.cases.models import Arrival, Infection, PersonOrder, Placement, ResponseTask, TaskStatus
from cordon.core import access, clock, ids
from cordon.core.actions import ActionError
from cordon.core.packs import active_pack
from cordon.places.models import Area, Resident

ESCALATION_LABELS = {1: "street", 2: "district", 3: "city"}


# ------------------------------------------------------------------------------------------ people

def status_today(order, today: dt.date) -> str:
    """centralized | home | free | released | void, from the stored dates (POLICY.md counting)."""
    return status_on(order.status, order.free_on, order.centralized_until, order.home_until, today)


def status_on(status: str, free_on, centralized_until, home_until, today: dt.date) -> str:
    """``status_today`` of an order's stored status and dates."""
    if status == "void":
        return "void"
    if status == "released":
        return "released"
    if free_on and today >= free_on:
        return "free"
    if centralized_until and today <= centralized_until:
        return "centralized"
    if home_until and today <= home_until:
        return "home"
    return "free"


def next_test(order, today: dt.date) -> dt.date | None:
    for d in order.test_days or []:
        day = dt.date.fromisoformat(d) if isinstance(d, str) else d
        if day >= today:
            return day
    return None


def today_q(status: str, today: dt.date) -> Q:
    """Filter for active orders whose status today is ``status`` (index-friendly date comparisons)."""
    if status == "centralized":
        return Q(centralized_until__gte=today)
    if status == "home":
        return (Q(centralized_until__isnull=True) | Q(centralized_until__lt=today)) & Q(home_until__gte=today)
    return Q()


# ------------------------------------------------------------------------------------------ tasks

def task_state(task, now: dt.datetime) -> dict:
    overdue = task.status == "open" and task.deadline < now
    return {"overdue": overdue, "escalation": task.escalation,
            "escalated_to": ESCALATION_LABELS.get(task.escalation, "")}


# ------------------------------------------------------------------------------------------ KPIs

def _hours(start, t):
    return round((t - start).total_seconds() / 3600, 1) if (t and start) else None


def _start(inf):
    return inf.reported_at or dt.datetime.combine(inf.confirmed_on, dt.time(0, 0), tzinfo=clock.tz())


def kpis_for(infections) -> dict:
    """{infection id: {to_transfer_h, to_contacts_identified_h, to_contacts_placed_h, to_designation_h,
    contacts, placed, designated}} for a page of infections: four queries."""
    ids = [i.pk for i in infections]
    if not ids:
        return {}
    transfer = dict(ResponseTask.objects.filter(infection_id__in=ids, step="transfer")
                    .values_list("infection_id", "done_at"))
    central = Q(centralized_until__isnull=False)
    contacts = {r["infection_id"]: r for r in PersonOrder.objects.filter(infection_id__in=ids).order_by()
                .values("infection_id").annotate(n=Count("id"), first=Min("created"), placed=Count("placed_at"),
                                                 central=Count("id", filter=central),
                                                 central_placed=Count("placed_at", filter=central),
                                                 last_placed=Max("placed_at", filter=central))}
    through = Infection.designations.through  # the designations citing each infection (zones' link table)
    designated = defaultdict(list)
    for iid, at in through.objects.filter(infection_id__in=ids).values_list("infection_id",
                                                                            "designation__designated_at"):
        if at:
            designated[iid].append(at)
    out = {}
    for inf in infections:
        s = _start(inf)
        c = contacts.get(inf.pk) or {"n": 0, "first": None, "placed": 0, "central": 0, "central_placed": 0,
                                     "last_placed": None}
        d = min(designated.get(inf.pk) or [], default=None)
        out[inf.pk] = {
            "to_transfer_h": _hours(s, transfer.get(inf.pk)),
            "to_contacts_identified_h": _hours(s, c["first"]),
            "to_contacts_placed_h": _hours(s, c["last_placed"])
            if c["central"] and c["central_placed"] == c["central"] else None,
            "to_designation_h": max(0.0, _hours(s, d)) if d else None,
            "contacts": c["n"], "placed": c["placed"], "to_place": c["central"], "designated": d is not None,
        }
    return out


def daily_kpis(qs, days: int = 14, today: dt.date | None = None) -> list[dict]:
    """Per confirmation day over the last ``days`` days: infections, median hours to transfer, to contacts
    identified, to designation, and overdue tasks (a few queries; the caller scopes ``qs``)."""
    today = today or clock.today()
    since = today - dt.timedelta(days=days - 1)
    infs = list(qs.filter(confirmed_on__gte=since, confirmed_on__lte=today)
                .only("id", "confirmed_on", "reported_at").order_by("confirmed_on")[:5000])
    k = kpis_for(infs)
    by_day = defaultdict(list)
    for i in infs:
        by_day[i.confirmed_on].append(k[i.pk])

    def med(values):
        values = [v for v in values if v is not None]
        return round(statistics.median(values), 1) if values else None

    return [{"on": d, "infections": len(rows),
             "to_transfer_h": med(r["to_transfer_h"] for r in rows),
             "to_contacts_identified_h": med(r["to_contacts_identified_h"] for r in rows),
             "to_contacts_placed_h": med(r["to_contacts_placed_h"] for r in rows),
             "to_designation_h": med(r["to_designation_h"] for r in rows),
             "contacts": sum(r["contacts"] for r in rows)}
            for d, rows in sorted(by_day.items(), reverse=True)]


# ------------------------------------------------------------------------------------------ chain

def chain(inf, user=None, *, max_depth: int = 6, max_nodes: int = 500) -> dict:
    """The transmission chain below ``inf`` as a tree of plain dicts:

    {"kind": "infection", "label", "id", "children": [contact nodes]}; a contact node is
    {"kind": "contact", "label", "id", "category", "status", "infection": <infection node or None>,
    "children": [contacts of this contact]}. Contacts who later became infections carry that infection
    (whose contacts follow, one generation further). With ``user``, only contacts in the user's jurisdiction
    are shown; an in-scope contact's infection out of scope is shown by label only (``id`` None) and not
    expanded. A few queries per generation; ``max_nodes`` bounds the tree.
    """
    # Contacts are read in the viewer's jurisdiction only (a contact living elsewhere is not shown at all).
    orders_qs = PersonOrder.objects.for_user(user, access.READ_HEALTH) if user is not None else PersonOrder.objects.all()
    seen_inf = {inf.pk}
    root = {"kind": "infection", "label": inf.label, "id": inf.pk, "kind_of": inf.kind,
            "confirmed_on": inf.confirmed_on, "children": []}
    frontier = [(inf.pk, root)]
    count = 1
    for _ in range(max_depth):
        if not frontier or count >= max_nodes:
            break
        by_inf = {iid: node for iid, node in frontier}
        orders = list(orders_qs.filter(infection_id__in=list(by_inf), via__isnull=True)
                      .only("id", "label", "category", "status", "infection_id").order_by("id"))
        onward = defaultdict(list)
        if orders:
            for o in (orders_qs.filter(via_id__in=[o.pk for o in orders])
                      .only("id", "label", "category", "status", "via_id").order_by("id")):
                onward[o.via_id].append(o)
        labels = {o.label for o in orders} | {o.label for os in onward.values() for o in os}
        became = {i.label: i for i in Infection.objects.filter(label__in=labels)
                  .only("id", "label", "kind", "confirmed_on")} if labels else {}
        visible = None
        if user is not None:

            visible = set(Infection.objects.for_user(user, access.READ_HEALTH).filter(pk__in=[i.pk for i in became.values()])
                          .values_list("id", flat=True)) if became else set()
        frontier = []
        for o in orders:
            if count >= max_nodes:
                break
            node = _contact_node(o, became, visible, seen_inf, frontier)
            count += 1
            for c in onward.get(o.pk, []):
                node["children"].append(_contact_node(c, became, visible, seen_inf, frontier))
                count += 1
            by_inf[o.infection_id]["children"].append(node)
    return root


def _contact_node(o, became, visible, seen_inf, frontier) -> dict:
    node = {"kind": "contact", "label": o.label, "id": o.pk, "category": o.category, "status": o.status,
            "infection": None, "children": []}
    i = became.get(o.label)
    if i is not None:
        shown = visible is None or i.pk in visible
        inode = {"kind": "infection", "label": i.label, "id": i.pk if shown else None, "kind_of": i.kind,
                 "confirmed_on": i.confirmed_on, "children": []}
        node["infection"] = inode
        if shown and i.pk not in seen_inf:
            seen_inf.add(i.pk)
            frontier.append((i.pk, inode))
    return node


def chain_size(node) -> int:
    n = 1
    for c in node.get("children", []):
        n += chain_size(c)
    if node.get("infection"):
        n += chain_size(node["infection"])
    return n


# ------------------------------------------------------------------------------------------ facilities

def outlooks(facilities, on: dt.date | None = None, days: int = 3) -> dict:
    """{facility id: capacity, occupied, free, intake per day, days left} in one grouped query."""
    on = on or clock.today()
    since = on - dt.timedelta(days=days - 1)
    ids = [f.pk for f in facilities]
    intake = dict(Placement.objects.filter(facility_id__in=ids, admitted_on__gte=since, admitted_on__lte=on)
                  .order_by().values("facility_id").annotate(n=Count("id")).values_list("facility_id", "n"))
    out = {}
    for f in facilities:
        per_day = intake.get(f.pk, 0) / days
        free = f.capacity - f.occupied
        out[f.pk] = {"capacity": f.capacity, "occupied": f.occupied, "free": free,
                     "intake_per_day": round(per_day, 1),
                     "days_left": round(free / per_day, 1) if per_day > 0 else None}
    return out


# ------------------------------------------------------------------------------------------ arrivals

def arrival_measures(arrival, order, pack) -> dict:
    """Required measures of an arrival and their completion: the order (if any) and the pack's tests."""
    cat = pack.category(arrival.category) if pack is not None else None
    window = cat.test_window if cat is not None else None
    done = len(arrival.tests_done or [])
    if order is not None:
        required_tests = len(order.test_days or []) + len(order.missed_test_days or [])
        complete = order.status in ("released", "void")
    elif window is not None:
        required_tests = window.count
        complete = done >= window.count
    else:
        required_tests = 0
        complete = True
    return {"order": order, "window": window, "tests_required": required_tests, "tests_done": done,
            "complete": complete, "restricts": bool(cat and cat.restricts)}


# ------------------------------------------------------------------------------------------ rows of the lists
# (shared by the API and the pages)

def order_out(o: PersonOrder, today: dt.date, infection_label: str | None = None, placed: bool | None = None) -> dict:
    return {"id": o.pk, "person": o.label, "category": o.category, "status": o.status,
            "today": status_today(o, today), "anchor": o.anchor, "identified_on": o.identified_on,
            "centralized_until": o.centralized_until, "home_until": o.home_until, "free_on": o.free_on,
            "released_on": o.released_on, "next_test": next_test(o, today),
            "test_days": o.test_days or [], "missed_test_days": o.missed_test_days or [],
            "extended_by": o.extended_by, "manual": o.manual, "home_id": o.home_id,
            "community_id": o.community_id, "infection": infection_label, "via_id": o.via_id,
            "arrival_id": o.arrival_id, "resident_id": o.resident_id,
            "placed": bool(o.placed_at) if placed is None else placed}


def infection_rows(infs, now) -> list[dict]:
    """List rows of infections with their open / overdue task counts and KPIs (a few queries a page)."""
    ids = [i.pk for i in infs]
    counts = {r["infection_id"]: r for r in ResponseTask.objects.filter(infection_id__in=ids).order_by()
              .values("infection_id").annotate(open=Count("id", filter=Q(status=TaskStatus.OPEN)),
                                               overdue=Count("id", filter=Q(status=TaskStatus.OPEN,
                                                                            deadline__lt=now)))}
    k = kpis_for(infs)
    return [{"id": i.pk, "label": i.label, "kind": i.kind, "found": i.found, "home_id": i.home_id,
             "home": i.home.path, "confirmed_on": i.confirmed_on, "reported_at": i.reported_at,
             "home_isolating": i.home_isolating, "open_tasks": counts.get(i.pk, {}).get("open", 0),
             "overdue_tasks": counts.get(i.pk, {}).get("overdue", 0), "kpi": k[i.pk]} for i in infs]


def order_list_qs(user, *, community=None, status="active", category=None, today_status=None, q=None,
                  today=None):
    """The scoped, filtered list of orders (shared with the contact-list page). Ordered by the free day so
    a community's page reads in order from the (district, street, community, free_on, id) index."""
    today = today or clock.today()
    qs = PersonOrder.objects.for_user(user, access.READ_HEALTH)
    if community is not None:
        area = access.access(Area, user, community)
        qs = qs.filter(**access.within(area))
    if status and status != "all":
        qs = qs.filter(status=status)
    if category:
        qs = qs.filter(category=category)
    if today_status in ("centralized", "home"):
        qs = qs.filter(today_q(today_status, today))
    if q:
        qs = qs.filter(label__startswith=q.strip())
    return qs.order_by("free_on", "id")


def arrival_list_qs(user):
    """The arrivals the user may read, newest first (the arrivals page and its export)."""
    return Arrival.objects.for_user(user, access.READ_HEALTH).order_by("-arrived_on", "-id")


def arrival_rows(arrivals, today, user=None) -> list[dict]:
    """List rows of arrivals with their latest order; with ``user``, only an order in the user's
    jurisdiction (an order may have been made elsewhere for the same arrival)."""
    orders = {}
    qs = PersonOrder.objects.for_user(user, access.READ_HEALTH) if user is not None else PersonOrder.objects.all()
    for o in qs.filter(arrival_id__in=[a.pk for a in arrivals]).order_by("id"):
        orders[o.arrival_id] = o  # the latest order of each arrival
    pack = active_pack(today)
    out = []
    for a in arrivals:
        o = orders.get(a.pk)
        m = arrival_measures(a, o, pack)
        out.append({"id": a.pk, "person": a.label, "destination_id": a.destination_id,
                    "destination": a.destination.path, "region": a.region.name if a.region_id else None,
                    "from_level": a.from_level, "kind": a.kind, "arrived_on": a.arrived_on, "category": a.category,
                    "order": order_out(o, today) if o is not None else None,
                    "tests_required": m["tests_required"], "tests_done": m["tests_done"],
                    "tests": a.tests_done or [], "complete": m["complete"], "arrival_obj": a, "measures": m})
    return out
def infection_kpis(inf: Infection) -> dict:
    """Hours from the report to transfer, contacts identified, contacts placed, designation."""
    start = inf.reported_at or dt.datetime.combine(inf.confirmed_on, dt.time(0, 0), tzinfo=clock.tz())
    hours = lambda t: round((t - start).total_seconds() / 3600, 1) if t else None  # noqa: E731
    tasks = {t.step: t for t in inf.tasks.all()}
    contacts = list(inf.contacts.all())
    central = [c for c in contacts if c.centralized_until is not None]  # contacts of contacts stay home
    placed = [c.placed_at for c in central if c.placed_at]
    designated = min((d.designated_at for d in inf.designations.all() if d.designated_at), default=None)
    return {
        "to_transfer_h": hours(tasks["transfer"].done_at) if "transfer" in tasks else None,
        "to_contacts_identified_h": hours(min((c.created for c in contacts), default=None)),
        "to_contacts_placed_h": hours(max(placed)) if central and len(placed) == len(central) else None,
        "to_designation_h": max(0.0, hours(designated)) if designated else None,  # already designated: 0
    }


def seen_by(qs, actor):
    """``qs`` as ``actor`` may read it: a user's jurisdiction (``for_user``); the system (None or a name:
    scenarios, the demo, jobs) reads the whole city. Look-ups by a person's reference go through this, so an
    action answers a user the same whether a record is absent or outside the user's jurisdiction."""
    if actor is None or isinstance(actor, str):
        return qs
    return qs.for_user(actor, access.READ_HEALTH)


def has_link(label: str, actor=None) -> bool:
    """A person has a recorded link the actor can see: an infection, an order from tracing/arrival/spill-over,
    or an arrival."""
    return (seen_by(Infection.objects.filter(label=label), actor).exists()
            or seen_by(PersonOrder.objects.filter(label=label, manual=False), actor).exists()
            or seen_by(Arrival.objects.filter(label=label), actor).exists())


def residents_not_yet_infections(unit_id: int, *, nor_under_orders: bool = False):
    """The residents of a unit who are not yet an infection (and, with ``nor_under_orders``, not under an order
    either): whom the demos name as a new infection or contact (one person, one bed)."""
    qs = Resident.objects.filter(unit_id=unit_id).exclude(
        pk__in=Infection.objects.filter(resident__isnull=False).values("resident_id"))
    if nor_under_orders:
        qs = qs.exclude(pk__in=PersonOrder.objects.filter(resident__isnull=False).values("resident_id"))
    return qs


def resident_with(id_number: str):
    """The resident whose ID number this is (an order of a contact who is a resident links to the record), None
    for an empty number or a person who is not a resident here; ActionError for a number that is not valid."""
    v = (id_number or "").strip().upper()
    if not v:
        return None
    err = ids.id_number_error(v)
    if err:
        raise ActionError(err, field="id_number")
    return Resident.objects.select_related("household__unit").filter(id_number=v).first()
