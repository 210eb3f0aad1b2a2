"""Reads of the daily close (日清日结) per district: the items still open at the end of a day, with their owners
(overdue response tasks, hotline tickets and care requests not closed, full-area rounds required and not
recorded), each district's sign-off, and what the day before carried over. Writes are in ``actions``."""
from __future__ import annotations

import datetime as dt

from django.apps import apps
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext as _, gettext_lazy

from cordon.cases.models import ResponseTask, TaskStatus
from cordon.core import access
from cordon.places.models import Area
from cordon.situation.models import DayClose
from cordon.situation.registry import end_of
from cordon.situation.sections import step_title
from cordon.web.pages import half_in_language
from cordon.zones.models import Designation, Status
from cordon.zones.queries import missing_rounds

ITEMS_CAP = 200  # items listed per kind and district


def _community(path: str) -> str:
    return "/".join(path.split("/")[:3])


def open_items(district: Area, day: dt.date) -> list[dict]:
    """What is still open in ``district`` at the end of ``day`` (now, for today), each ``{kind, id, label,
    owner, since, url}``: the daily close's list, carried over to the next day when the district signs off."""
    end = end_of(day)
    inside = Q(district_id=district.pk)
    items = [{"kind": "task", "id": t.pk, "step": t.step, "case": t.infection.label, "owner": t.owner,
              "since": t.deadline.isoformat(), "url": reverse("cases_infection", args=[t.infection_id])}
             for t in ResponseTask.objects.filter(inside, status=TaskStatus.OPEN, deadline__lt=end)
             .select_related("infection").order_by("deadline")[:ITEMS_CAP]]
    if apps.is_installed("cordon.hotline"):
        from cordon.hotline.models import OPEN_STATUSES, Ticket

        items += [{"kind": "ticket", "id": t.pk, "label": t.number, "owner": t.unit_name,
                   "since": t.created_at.isoformat(), "url": reverse("hotline_ticket", args=[t.pk])}
                  for t in Ticket.objects.filter(inside, status__in=OPEN_STATUSES, created_at__lt=end)
                  .order_by("created_at")[:ITEMS_CAP]]
    if apps.is_installed("cordon.care"):
        from cordon.care.models import OPEN_STATUSES, CareRequest

        items += [{"kind": "care", "id": r.pk, "label": r.ref, "owner": "",
                   "since": r.received_at.isoformat(), "url": reverse("care_request", args=[r.pk])}
                  for r in CareRequest.objects.filter(inside, status__in=OPEN_STATUSES, received_at__lt=end)
                  .order_by("received_at")[:ITEMS_CAP]]
    designations = Designation.objects.filter(inside, status=Status.ACTIVE)
    items += [{"kind": "round", "id": d.pk, "day_n": n, "path": d.area.path, "owner": _community(d.area.path),
               "since": rd.isoformat(), "url": reverse("zones_detail", args=[d.pk])}
        for d, rd, n in missing_rounds(designations, day + dt.timedelta(days=1))][:ITEMS_CAP]
    return items


def shown(item: dict) -> dict:
    """An item as the reader sees it: its kind, label and owner in the page's language (items are kept with
    their facts, not their words, so a list carried over reads in the language of whoever opens it)."""
    # a team's owner (a task's, a ticket's desk) is kept "中文 / English" as written; a community's is its path
    out = {**item, "kind_label": KIND_LABELS.get(item["kind"], item["kind"]),
           "owner": half_in_language(item.get("owner") or "")}
    if item["kind"] == "task" and "step" in item:
        out["label"] = f"{step_title(item['step'])} · {item['case']}"
    elif item["kind"] == "round" and "day_n" in item:
        out["label"] = _("full-area round of day %(n)s (%(on)s)") % {"n": item["day_n"], "on": item["since"]} + \
            f" · {item['path']}"
    elif item["kind"] == "care":
        out["owner"] = _("medical dispatch")
    return out


KIND_LABELS = {"task": gettext_lazy("Overdue response task"), "ticket": gettext_lazy("Hotline ticket not closed"),
               "care": gettext_lazy("Care request not closed"), "round": gettext_lazy("Required round not recorded")}


def districts_for(user) -> list[Area]:
    """The districts whose daily close the user sees (those meeting the user's jurisdiction)."""
    scope = access.scope_for(user, access.VIEW)
    qs = Area.objects.filter(kind="district").order_by("name")
    if scope.everything:
        return list(qs)
    ids = set(scope.by_level.get("district", ()))
    for lv, granted in scope.by_level.items():
        if lv != "district" and granted:
            ids |= set(Area.objects.filter(pk__in=sorted(granted)).values_list("district_id", flat=True))
    return list(qs.filter(pk__in=sorted(ids)))


def can_close(user, district: Area) -> bool:
    return access.scope_for(user, access.CLOSE_DAY).contains(district)


def board(user, day: dt.date) -> list[dict]:
    """One row per district in the user's view: its close for ``day`` (or None), the items open now (as of the
    day's end), and what the day before's sign-off carried over (each marked still open or done since)."""
    districts = districts_for(user)
    closes = {c.district_id: c for c in DayClose.objects.filter(day=day, district__in=districts)}
    before = {c.district_id: c for c in DayClose.objects.filter(day=day - dt.timedelta(days=1),
                                                                 district__in=districts)}
    rows = []
    for dist in districts:
        now = open_items(dist, day)
        live = {(x["kind"], x["id"]) for x in now}
        prev = before.get(dist.pk)
        carried = [{**shown(x), "still_open": (x["kind"], x["id"]) in live} for x in (prev.open_items if prev else [])]
        c = closes.get(dist.pk)
        frozen = [shown(x) for x in c.open_items] if c is not None and c.status == "signed" else None
        rows.append({"district": dist, "close": c, "items": [shown(x) for x in now], "carried": carried,
                     "frozen": frozen,
                     "can_close": can_close(user, dist)})
    return rows
