"""Read helpers shared by the zones pages and API: people inside designations, counted without N+1.

Residents carry their ancestor ids (``unit_id``, ``building_id`` ...), so the residents inside a member node
of kind K are ``Resident.objects.filter(K_id=node)``. For a page of designations the counts take one
query for the members and one grouped query per member kind present (usually one: units).
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.db.models import Count, Q

from cordon.core import clock
from cordon.core.packs import load as _load
from cordon.core.models import LEVELS
from cordon.places.models import Resident
from cordon.zones.models import Member
from cordon.places.models import Area
from cordon.zones.models import Designation, Event, EventKind, Status
from cordon.policy import areas as engine
from cordon.policy.pack import Pack


def special_q(today: dt.date) -> Q:
    """Residents in a special group on ``today`` (as ``places.models.special_groups`` decides)."""
    try:
        cutoff80 = today.replace(year=today.year - 80)
    except ValueError:  # 29 Feb
        cutoff80 = today.replace(year=today.year - 80, day=28)
    try:
        cutoff1 = today.replace(year=today.year - 1)
    except ValueError:
        cutoff1 = today.replace(year=today.year - 1, day=28)
    return (Q(birth_date__lte=cutoff80) | Q(birth_date__gt=cutoff1) | Q(lives_alone=True)
            | Q(pregnant_due__gte=today) | ~Q(treatment="") | Q(disability=True) | Q(chronic_illness=True))


def _outermost(members) -> list:
    """Drop members lying under another member of the same designation (no double counting)."""
    ids = {m.area_id for m in members}
    out = []
    for m in members:
        a = m.area
        anc = [getattr(a, f"{lv}_id") for lv in LEVELS if getattr(a, f"{lv}_id") and getattr(a, f"{lv}_id") != a.pk]
        if not any(x in ids for x in anc):
            out.append(m)
    return out


def people_inside(designations, members_by_d: dict | None = None, today: dt.date | None = None) -> dict:
    """{designation id: (residents, special-group residents)} inside each designation's current extent.

    ``members_by_d`` (designation id -> current members with ``area`` loaded) saves the members query
    when the caller already has them."""
    today = today or clock.today()
    ids = [d.pk for d in designations]
    if members_by_d is None:
        members_by_d = defaultdict(list)
        for m in Member.objects.filter(designation_id__in=ids, removed_on__isnull=True).select_related("area"):
            members_by_d[m.designation_id].append(m)
    by_kind: dict[str, set[int]] = defaultdict(set)
    outer = {}
    for did in ids:
        outer[did] = _outermost(members_by_d.get(did, []))
        for m in outer[did]:
            by_kind[m.area.kind].add(m.area_id)
    counts: dict[int, tuple[int, int]] = {}
    sq = special_q(today)
    for kind, area_ids in by_kind.items():
        col = f"{kind}_id"
        rows = (Resident.objects.filter(**{f"{col}__in": sorted(area_ids)}).order_by().values(col)
                .annotate(n=Count("id"), s=Count("id", filter=sq)))
        for r in rows:
            counts[r[col]] = (r["n"], r["s"])
    out = {}
    for did in ids:
        n = s = 0
        for m in outer[did]:
            a, b = counts.get(m.area_id, (0, 0))
            n, s = n + a, s + b
        out[did] = (n, s)
    return out


def members_of(designations) -> dict:
    """designation id -> current members (area loaded), in one query."""
    out = defaultdict(list)
    for m in (Member.objects.filter(designation_id__in=[d.pk for d in designations], removed_on__isnull=True)
              .select_related("area").order_by("area__path")):
        out[m.designation_id].append(m)
    return out


def designation_list(scoped_qs, tab: str, level: str = "", q: str = ""):
    """The command view's list: designations of one status tab, of one level, whose area path holds ``q``,
    in path order (shared by the page and its export)."""
    qs = scoped_qs.filter(status=tab)
    if level:
        qs = qs.filter(level=level)
    if q:
        qs = qs.filter(area__path__icontains=q)
    return qs.order_by("area__path", "id")


def covering(area: Area, statuses=(Status.ACTIVE,)):
    """Designations whose current extent contains ``area`` (a member that is ``area`` or an ancestor)."""
    anc = [getattr(area, f"{lv}_id") for lv in LEVELS if getattr(area, f"{lv}_id")]
    return Designation.objects.filter(
        status__in=statuses, members__area_id__in=anc, members__removed_on__isnull=True).distinct()


# ------------------------------------------------------------------------------------------ the pack

def pack_of(designation: Designation) -> Pack:
    return _load(designation.pack)


# ------------------------------------------------------------------------------------------ engine glue

def engine_events(rows) -> list:
    """Convert stored events (ordered by date, then id) to the engine's event values."""
    out = []
    for e in rows:
        k = e.kind
        if k == EventKind.DESIGNATE:
            out.append(engine.Designate(e.on, e.level, e.reason))
        elif k == EventKind.RESEAL:
            out.append(engine.Reseal(e.on, e.level, e.reason))
        elif k == EventKind.INFECTION:
            out.append(engine.Infection(e.on, e.found or "community", e.home_isolating,
                                        ref=e.reason or None))
        elif k == EventKind.ROUND:
            out.append(engine.Round(e.on, e.result or None))
        elif k == EventKind.KEEP:
            out.append(engine.Keep(e.on, e.reason))
        elif k == EventKind.RESUME:
            out.append(engine.Resume(e.on, e.reason))
        elif k == EventKind.LIFT:
            out.append(engine.Lift(e.on, e.reason, e.level or None))
    return out


def state_of(designation: Designation, on: dt.date | None = None, events=None) -> engine.AreaState:
    on = on or clock.today()
    rows = events if events is not None else list(designation.events.all())
    return engine.area_state(pack_of(designation), engine_events(rows), on, subject=designation.area.path)


def spillover_level(area: Area, on: dt.date) -> str | None:
    """The highest risk level (high over medium) a designation covering ``area`` had on ``on``: what
    someone who left it that day is ordered by (cases asks through ``cases.hooks.RISK_LEVEL``)."""
    level = None
    for d in covering(area, statuses=(Status.ACTIVE, Status.OBSERVATION, Status.CLOSED)).select_related("area"):
        lv = state_of(d, on).level
        if lv in ("high", "medium") and (level is None or lv == "high"):
            level = lv
    return level


def rounds_due(on: dt.date) -> list[Designation]:
    """Designated areas whose pack asks for a full-area round on ``on`` (day N after L) not yet recorded."""
    out = []
    for d in Designation.objects.filter(status=Status.ACTIVE).select_related("area"):
        st = state_of(d, on)
        if st.clock_start is None:
            continue
        ex = pack_of(d).exit_for(st.level, st.entered_from)
        if ex is not None and ex.round_on_day is not None and \
                st.clock_start + dt.timedelta(days=ex.round_on_day) == on and \
                not d.events.filter(kind=EventKind.ROUND, on=on).exists():
            out.append(d)
    return out


def missing_rounds(designations, on: dt.date) -> list[tuple[Designation, dt.date, int]]:
    """(designation, day the round was due, its day N) for each designation whose pack asked for a full-area
    round on a day before ``on`` (L+N) and has none recorded on or after that day: the engine waits on it
    (``round_missing``). Only designations that can be waiting are evaluated (a change due by ``on``, or no
    change projected), their events read in one query per 5 000."""
    cands = list(designations.filter(Q(next_on__lte=on) | Q(next_on__isnull=True)).select_related("area")
                 .order_by("pk"))
    by_d = _events_of(cands)
    out = []
    for d in cands:
        st = state_of(d, on, events=by_d[d.pk])
        if st.designated and st.waiting is not None and st.waiting.kind == "round_missing" and st.clock_start:
            out.append((d, st.waiting.on, (st.waiting.on - st.clock_start).days))
    return out


def _events_of(designations) -> dict[int, list]:
    by_d: dict[int, list] = defaultdict(list)
    ids = [d.pk for d in designations]
    for i in range(0, len(ids), 5000):
        for e in Event.objects.filter(designation_id__in=ids[i:i + 5000]).order_by("on", "id"):
            by_d[e.designation_id].append(e)
    return by_d


def release_board(designations, on: dt.date, days: int = 3, lang: str = "zh") -> list[dict]:
    """The release board: designated areas due to step down or lift from ``on`` to ``on + days``, and those
    waiting on a round, each with its evidence: days without a counted infection against the days the pack
    asks, the full-area rounds since the clock started (which one counts), and what is missing."""
    ds = list(designations.filter(status=Status.ACTIVE).select_related("area").order_by("pk"))
    by_d = _events_of(ds)
    rows = []
    for d in ds:
        st = state_of(d, on, events=by_d[d.pk])
        if not st.designated or st.clock_start is None:
            continue
        waiting = st.waiting.text(lang) if st.waiting else ""
        if st.next is None and not waiting:
            continue
        if st.next is not None and (st.next.on - on).days > days:
            continue
        ex = pack_of(d).exit_for(st.level, st.entered_from)
        round_on = st.clock_start + dt.timedelta(days=ex.round_on_day) if ex and ex.round_on_day is not None else None
        rounds, counted = [], False
        for e in by_d[d.pk]:
            if e.kind != EventKind.ROUND or e.on < st.clock_start:
                continue
            counts = (not counted and round_on is not None and e.on >= round_on and e.result == "negative")
            counted = counted or counts
            rounds.append({"on": e.on, "result": e.result or "pending", "source": e.reason, "counts": counts})
        rows.append({"d": d, "level": st.level, "to": st.next.level if st.next else (ex.to if ex else ""),
                     "on": st.next.on if st.next else None, "in_days": (st.next.on - on).days if st.next else None,
                     "last_counted": st.clock_start, "clean_days": st.clean_days,
                     "needs_days": ex.clean_days if ex else None, "round_on": round_on, "rounds": rounds,
                     "waiting": waiting, "waiting_kind": st.waiting.kind if st.waiting else "",
                     "kept": st.kept is not None})
    rows.sort(key=lambda r: (r["on"] is None, r["on"] or on, r["d"].area.path))
    return rows


#: The levels the public list shows.
PUBLIC_LEVELS = ("high", "medium")


def public_current():
    """The risk areas the public list shows (``/public/risk-areas``, its JSON, the public map and its GeoJSON):
    active high and medium designations with their area's path, ordered by path. No personal data."""
    return (Designation.objects.filter(status=Status.ACTIVE, level__in=PUBLIC_LEVELS)
            .select_related("area").only("id", "level", "since", "next_level", "next_on", "public_reason",
                                         "area__path", "area__kind", "area__building_id").order_by("area__path"))
