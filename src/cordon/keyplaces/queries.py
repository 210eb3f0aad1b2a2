"""Reads of the key places: the on-site test each person inside is due for, overdue items and breaches per
place, the command list with its filters, a place's history.

On-site tests (the closed loop's cadence N = the place's ``test_every_days``): a person inside whose latest
negative on-site test was on day T is **due** on T+N and **overdue** from T+N+1 while no newer negative test
exists. Someone inside with no negative test yet is due on the day their stay in the loop began (the later of
the day they came in and the day the place entered its closed loop) and overdue from the day after.
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Count, Max, Q

from cordon.keyplaces.models import Breach, KeyPlace, Person, PlaceStatus, Role, StatusChange, SiteTest
from cordon.core.models import TestResult


def last_negative(people, on: dt.date) -> dict[int, dt.date]:
    """person id -> the day of their latest negative on-site test on or before ``on``."""
    ids = [p.pk for p in people]
    out: dict[int, dt.date] = {}
    for i in range(0, len(ids), 5000):
        out.update(SiteTest.objects.filter(person_id__in=ids[i:i + 5000], result=TestResult.NEGATIVE, on__lte=on)
                   .order_by().values("person_id").annotate(last=Max("on")).values_list("person_id", "last"))
    return out


def test_due(place: KeyPlace, person: Person, last: dt.date | None) -> dt.date:
    """The day ``person`` (inside ``place``) is due for an on-site test, given their latest negative test."""
    if last is not None:
        return last + dt.timedelta(days=place.test_every_days)
    start = person.since or place.status_since
    if place.status == PlaceStatus.CLOSED_LOOP and place.status_since > start:
        start = place.status_since
    return start


@dataclass
class Due:
    person: Person
    due: dt.date
    last: dt.date | None

    def overdue_on(self, on: dt.date) -> bool:
        return on > self.due


def dues(place: KeyPlace, on: dt.date, people=None) -> list[Due]:
    """Every person inside ``place`` with their test due day on ``on``, earliest due first."""
    people = list(people if people is not None else place.people.filter(inside=True).order_by("name", "id"))
    last = last_negative(people, on)
    rows = [Due(p, test_due(place, p, last.get(p.pk)), last.get(p.pk)) for p in people]
    rows.sort(key=lambda d: (d.due, d.person.name, d.person.pk))
    return rows


def overdue_tests(place: KeyPlace, on: dt.date) -> list[Due]:
    """The people inside ``place`` past their on-site test on ``on`` (only a closed loop tests on site)."""
    if place.status != PlaceStatus.CLOSED_LOOP:
        return []
    return [d for d in dues(place, on) if d.overdue_on(on)]


def due_today(place: KeyPlace, on: dt.date) -> list[Due]:
    """Tests to take on ``on``: due that day or overdue (closed loops only)."""
    if place.status != PlaceStatus.CLOSED_LOOP:
        return []
    return [d for d in dues(place, on) if d.due <= on]


def past_rotation(place: KeyPlace, on: dt.date) -> list[Person]:
    """Staff still inside after their shift's rotation date."""
    return list(place.people.filter(inside=True, role=Role.STAFF, rotate_on__lt=on).order_by("rotate_on", "id"))


def status_from(changes: list[StatusChange], on: dt.date, current: str) -> str:
    """A place's status on ``on`` from its dated changes (oldest first): the last change on or before ``on``;
    before the first change, what that change left; ``current`` when the place never changed."""
    done = [c for c in changes if c.on <= on]
    if done:
        return done[-1].after
    return (changes[0].before or PlaceStatus.OPEN) if changes else current


def summaries(places, on: dt.date) -> list[dict]:
    """One row per place for the command view: status, people inside, overdue tests, staff past rotation,
    breaches on ``on`` and in the last 7 days."""
    places = list(places)
    ids = [p.pk for p in places]
    week = on - dt.timedelta(days=6)
    breaches = {r["place_id"]: r for r in Breach.objects.filter(place_id__in=ids, on__gte=week, on__lte=on)
                .order_by().values("place_id").annotate(today=Count("id", filter=Q(on=on)), week=Count("id"))}
    people: dict[int, list[Person]] = defaultdict(list)
    for p in Person.objects.filter(place_id__in=ids, inside=True).order_by("name", "id"):
        people[p.place_id].append(p)
    last = last_negative([p for ps in people.values() for p in ps], on)
    rows = []
    for place in places:
        inside = people.get(place.pk, [])
        loop = place.status == PlaceStatus.CLOSED_LOOP
        overdue = [p for p in inside if loop and on > test_due(place, p, last.get(p.pk))]
        due = [p for p in inside if loop and test_due(place, p, last.get(p.pk)) == on]
        rotation = [p for p in inside if p.role == Role.STAFF and p.rotate_on is not None and p.rotate_on < on]
        b = breaches.get(place.pk, {})
        rows.append({"place": place, "inside_named": len(inside), "staff_in": sum(p.role == Role.STAFF for p in inside),
                     "overdue_tests": len(overdue), "due_today": len(due), "past_rotation": len(rotation),
                     "breaches_today": b.get("today", 0), "breaches_week": b.get("week", 0),
                     "overdue": len(overdue) + len(rotation)})
    return rows


def place_list(qs, *, kind: str = "", status: str = "", q: str = "", problems: bool = False, on: dt.date):
    """The command view's filtered list (the page and its export call this): rows of ``summaries``."""
    if kind:
        qs = qs.filter(kind=kind)
    if status:
        qs = qs.filter(status=status)
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(ref__iexact=q) | Q(area__path__icontains=q))
    rows = summaries(qs.select_related("area").order_by("name", "id")[:2000], on)
    if problems:
        rows = [r for r in rows if r["overdue"] or r["breaches_today"]]
    return rows


def history(place: KeyPlace, limit: int = 200) -> list[dict]:
    """The place's dated history, newest first: status changes, entries and exits, tests, breaches."""
    items = []
    for c in place.changes.order_by("-on", "-id")[:limit]:
        items.append({"on": c.on, "kind": "status", "what": f"{c.before or '-'} → {c.after}", "reason": c.reason, "note": "",
                      "actor": c.actor, "flag": c.flagged, "key": (c.on, 3, c.pk)})
    for m in place.movements.select_related("person").order_by("-on", "-id")[:limit]:
        items.append({"on": m.on, "kind": m.direction, "what": m.person.name, "reason": m.get_reason_display(),
                      "note": m.note, "actor": m.actor, "flag": m.breach, "key": (m.on, 2, m.pk)})
    for t in place.tests.select_related("person").order_by("-on", "-id")[:limit]:
        items.append({"on": t.on, "kind": "test", "what": t.person.name, "reason": t.get_result_display(), "note": "",
                      "actor": t.actor, "flag": t.result == TestResult.POSITIVE, "key": (t.on, 1, t.pk)})
    for b in place.breaches.select_related("person").order_by("-on", "-id")[:limit]:
        items.append({"on": b.on, "kind": "breach", "what": b.person.name, "reason": b.get_kind_display(),
                      "note": b.detail, "actor": "", "flag": True, "key": (b.on, 0, b.pk)})
    items.sort(key=lambda i: i["key"], reverse=True)
    return items[:limit]


def day_counts(qs_places, qs_breaches, on: dt.date) -> dict:
    """The daily close's figures: places by status on ``on`` (from their dated history), breaches of the day."""
    by_status = {s: 0 for s in PlaceStatus.values}
    places = list(qs_places)
    changes: dict[int, list[StatusChange]] = defaultdict(list)
    for c in StatusChange.objects.filter(place_id__in=[p.pk for p in places]).order_by("on", "id"):
        changes[c.place_id].append(c)
    for p in places:
        if p.created_on <= on:
            by_status[status_from(changes.get(p.pk, []), on, p.status)] += 1
    breaches = {k: n for k, n in qs_breaches.filter(on=on).order_by().values_list("kind").annotate(n=Count("id"))}
    return {"places": sum(by_status.values()), "closed_loop": by_status[PlaceStatus.CLOSED_LOOP],
            "closed": by_status[PlaceStatus.CLOSED], "open": by_status[PlaceStatus.OPEN],
            "breaches": sum(breaches.values()), "breaches_exit": breaches.get("exit", 0),
            "breaches_untested": breaches.get("untested", 0)}
