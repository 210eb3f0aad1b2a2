"""Actions on risk areas: designate, adjust, record rounds, keep, lift, re-seal, proposals, the day tick.

The pure engine (``cordon.policy.areas``) decides levels and dates from each designation's events; these
actions store the events, ask the engine, cache its answer on the designation, and write audit rows
(with the rule that decided, where one did) and guardrail flags.
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from cordon.core import audit, clock, stamps
from cordon.core.actions import ActionError, Conflict, lock, serialize
from cordon.core.models import AuditEntry
from cordon.core.packs import active_pack
from cordon.places.models import Area
from cordon.policy import areas as engine
from cordon.policy import guardrails
from cordon.policy.pack import Pack
from cordon.zones.models import (Designation, Event, EventKind, Flag, Level, Member, Notice, Proposal,
                                 ProposalStatus, Status)
from cordon.zones.queries import covering, missing_rounds, pack_of, state_of

ONE = dt.timedelta(days=1)


def _lv(level: str) -> str:
    """A level as people read it in messages (its label in the request's language), the key if unknown."""
    try:
        return str(Level(level).label)
    except ValueError:
        return str(level)


def _apply_state(d: Designation, st: engine.AreaState, on: dt.date, actor, *, events=None,
                 out: list | None = None) -> list[str]:
    """Cache the engine's answer on the designation; record automatic changes. Returns changed fields.

    The change event and its audit row are saved at once, or appended to ``out`` for a bulk write.
    """
    pack = pack_of(d)
    changed = []
    if st.level != d.level:
        # The pack moved the area (or a lift did): write the change event and its audit row.
        if events is None:
            manual = d.events.filter(kind=EventKind.LIFT, on=st.since).exists()
        else:
            manual = any(e.kind == EventKind.LIFT and e.on == st.since for e in events)
        rule = "" if manual else f"{pack.name}: levels.{d.level}.exit -> {st.level}"
        ev = Event(designation=d, on=st.since or on, kind=EventKind.CHANGE, level=st.level,
                   actor=audit.actor_name(actor), reason="lifted by hand" if manual else "due under the pack")
        row = audit.entry("designation.change", actor=actor, obj=d, before={"level": d.level},
                          after={"level": st.level, "on": st.since}, rule=rule)
        if out is None:
            ev.save()
            row.save()
        else:
            out += [ev, row]
        d.level = st.level
        changed.append("level")
    new = {
        "since": st.since or d.since,
        "next_level": st.next.level if st.next else "",
        "next_on": st.next.on if st.next else None,
        "waiting": (st.waiting.text("zh") + " / " + st.waiting.text("en"))[:200] if st.waiting else "",
        "status": Status.ACTIVE if st.designated else (Status.OBSERVATION if st.under_observation
                                                        else Status.CLOSED),
        "kept": st.kept is not None,
        "lifted_on": None if st.designated else st.lifted_on,
        "observation_until": None if st.designated else st.observation_until,
    }
    if st.due is not None and st.due.on <= on and st.kept is not None and d.eligible_on is None:
        new["eligible_on"] = st.due.on
    if st.designated and d.eligible_on is not None and st.kept is None and "level" in changed:
        new["eligible_on"] = None
    for k, v in new.items():
        if getattr(d, k) != v:
            setattr(d, k, v)
            changed.append(k)
    return changed


CACHED = ("level", "since", "next_level", "next_on", "waiting", "status", "kept", "lifted_on",
          "observation_until", "eligible_on")


def save_cached(designations: list[Designation]) -> None:
    """Write the cached engine answers of many designations in one executemany (bulk_update's CASE
    expressions cost more than the tick itself)."""
    from django.db import connection

    fields = [Designation._meta.get_field(f) for f in CACHED]
    sql = "UPDATE {} SET {} WHERE id = %s".format(
        connection.ops.quote_name(Designation._meta.db_table),
        ", ".join(f"{connection.ops.quote_name(f.column)} = %s" for f in fields))
    rows = [[f.get_db_prep_save(getattr(d, f.attname), connection) for f in fields] + [d.pk]
            for d in designations]
    with connection.cursor() as cur:
        cur.executemany(sql, rows)
    stamps.bump("risk_areas")  # no signal from a raw write: what is kept of the designations (maps) is stale


@transaction.atomic
def do_refresh(d: Designation, on: dt.date | None = None, *, actor=None) -> engine.AreaState:
    """Re-evaluate one designation on ``on`` and store the result (with flags for that day)."""
    on = on or clock.today()
    st = state_of(d, on)
    changed = _apply_state(d, st, on, actor)
    if changed:
        d.save(update_fields=list(set(changed)))
    for v in st.flags:
        _flag(v, d, on, actor=actor, reason=st.kept.reason if st.kept else "")
    return st


def _flag(v: guardrails.Verdict, d: Designation | None, on: dt.date, *, actor=None, reason: str = "",
          scope=None) -> Flag | None:
    f = Flag(rule=v.rule, check_key=v.check, on=on, designation=d, subject=v.subject or (d.area.path if d else ""),
             message=v.message_zh, message_en=v.message_en, reason=reason, actor=audit.actor_name(actor))
    f.set_scope_from(scope if scope is not None else (d.area if d else None))
    try:
        with transaction.atomic():
            f.save()
    except IntegrityError:
        return None  # already flagged today
    audit.record("guardrail.flag", actor=actor, obj=f, object_type="flag",
                 after={"rule": v.rule, "subject": f.subject, "on": on}, reason=reason, rule=v.rule, scope=f)
    return f


@transaction.atomic
def do_raise_flag(v: guardrails.Verdict, *, on: dt.date, scope, actor=None, reason: str = "") -> Flag | None:
    """Record a guardrail flag an app above raises about its own record (key places: #9; passes: #8), with no
    designation: ``scope`` (an area or a scoped record) places it in a jurisdiction; it shows in the day's flags
    and on the daily report. None when the same flag (rule, check, subject) was already recorded that day."""
    if Flag.objects.filter(rule=v.rule, check_key=v.check, on=on, designation=None, subject=v.subject or "").exists():
        return None
    return _flag(v, None, on, actor=actor, reason=reason, scope=scope)


# ------------------------------------------------------------------------------------------ designations

def _check_level(pack: Pack, level: str) -> None:
    if level not in pack.designated_levels:
        raise ActionError(_("pack %(name)s designates only %(values)s, not %(level)s")
                          % {"name": pack.name, "values": ', '.join(pack.designated_levels), "level": repr(level)},
                          field="level", rule=f"{pack.name}:levels")


def _public_reason(level: str, *, infected: bool, exposure_note: str = "") -> str:
    """What the public list gives as the basis of a designation: where an infected person lives or stayed
    only when an infection is linked to it; otherwise an exposure place or the investigation's assessment
    (never a claim the records do not hold)."""
    if infected:
        return {"high": "感染者居住地 / where an infected person lives",
                "medium": "感染者活动地 / where an infected person stayed"}.get(level, "")
    if exposure_note:
        return "涉疫暴露场所 / an exposure place named by the investigation"
    return "流调研判划定 / designated on the epidemiological investigation's assessment"


@transaction.atomic
def do_designate(area: Area, level: str, *, on: dt.date | None = None, reason: str, infections=(),
                 exposure_note: str = "", actor=None) -> Designation:
    """Designate ``area`` (a unit by default; larger nodes need the reason and are flagged above the pack's
    granularity) as high or medium risk from ``on``."""
    on = on or clock.today()
    pack = active_pack(on)
    _check_level(pack, level)
    reason = (reason or "").strip()
    if not reason:
        raise ActionError(_("a designation needs a reason"), field="reason")
    infections = list(infections)
    # One open designation per area: the area's row is locked, so a concurrent designation of the same area
    # waits here and then finds this one (the partial unique index one_open_designation_per_area backs it).
    lock(area)
    existing = Designation.objects.filter(area=area).exclude(status=Status.CLOSED).first()
    if existing is not None:
        lock(existing)
        if existing.status == Status.OBSERVATION:
            return do_reseal(existing, level=level, on=on, reason=reason, infections=infections, actor=actor)
        ranks = pack if existing.level in pack.levels else pack_of(existing)
        # Rank 0 is the highest level: a smaller rank is a raise.
        if ranks.level_rank(level) < ranks.level_rank(existing.level):
            return _raise_level(existing, level, on=on, reason=reason, infections=infections, actor=actor)
        if level == existing.level:
            raise Conflict(_("%(path)s is already designated %(level)s")
                           % {"path": area.path, "level": _lv(existing.level)}, field="area")
        raise ActionError(_("%(path)s is designated %(level)s; lowering it to %(level2)s is a lift "
                            "(an assessment with its reason), not a new designation")
                          % {"path": area.path, "level": _lv(existing.level), "level2": _lv(level)}, field="level",
                          rule=f"{pack.name}:levels.{existing.level}.exit")
    first = min((i.reported_at or _day_start(i.confirmed_on) for i in infections), default=None)
    d = Designation(area=area, pack=pack.name, level=level, status=Status.ACTIVE, designated_on=on, since=on,
                    reason=reason, public_reason=_public_reason(level, infected=bool(infections),
                                                                exposure_note=exposure_note),
                    exposure_note=exposure_note[:200],
                    first_infection_at=first, designated_at=clock.now(), created_by=audit.actor_name(actor))
    d.set_scope_from(area)
    try:
        with transaction.atomic():
            d.save()
    except IntegrityError:  # one_open_designation_per_area: another path designated it first
        raise Conflict(_("%(path)s was designated by someone else just now") % {"path": area.path},
                       field="area") from None
    Member.objects.create(designation=d, area=area, added_on=on)
    if infections:
        d.infections.set(infections)
    Event.objects.create(designation=d, on=on, kind=EventKind.DESIGNATE, level=level, reason=reason,
                         actor=audit.actor_name(actor))
    audit.record("designation.create", actor=actor, obj=d,
                 after={"area": area.path, "level": level, "on": on, "pack": pack.name,
                        "infections": [i.label for i in infections]}, reason=reason)
    verdicts = guardrails.check_designation(pack, node_kind=area.kind, level=level, area=area.path,
                                            linked_infections=[i.label for i in infections],
                                            linked_places=[exposure_note] if exposure_note else [])
    for v in verdicts:
        _flag(v, d, on, actor=actor, reason=reason)
    _settle_proposals(area, level, d, on, actor)
    do_refresh(d, on, actor=actor)
    return d


def _day_start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(0, 0), tzinfo=clock.tz())


def _raise_level(d: Designation, level: str, *, on, reason, infections, actor) -> Designation:
    Event.objects.create(designation=d, on=on, kind=EventKind.DESIGNATE, level=level, reason=reason,
                         actor=audit.actor_name(actor))
    if infections:
        d.infections.add(*infections)
    audit.record("designation.raise", actor=actor, obj=d, before={"level": d.level}, after={"level": level},
                 reason=reason)
    d.level = level
    d.public_reason = _public_reason(level, infected=d.infections.exists(), exposure_note=d.exposure_note)
    d.save(update_fields=["level", "public_reason"])
    _settle_proposals(d.area, level, d, on, actor)
    do_refresh(d, on, actor=actor)
    return d


@transaction.atomic
def do_reseal(d: Designation, *, level: str = "high", on: dt.date | None = None, reason: str, infections=(),
              actor=None) -> Designation:
    """Re-seal a lifted area (under observation, or closed) at ``level``."""
    on = on or clock.today()
    pack = pack_of(d)
    _check_level(pack, level)
    audit.require_reason(reason, _("a re-seal needs a reason"))
    lock(d.area)
    lock(d)
    if d.status == Status.ACTIVE:
        raise Conflict(_("%(path)s is still designated %(level)s")
                       % {"path": d.area.path, "level": _lv(d.level)}, field="designation")
    Event.objects.create(designation=d, on=on, kind=EventKind.RESEAL, level=level, reason=reason,
                         actor=audit.actor_name(actor))
    if infections:
        d.infections.add(*infections)
    audit.record("designation.reseal", actor=actor, obj=d, before={"level": d.level, "status": d.status},
                 after={"level": level, "on": on}, reason=reason)
    d.level, d.status, d.designated_on, d.since = level, Status.ACTIVE, on, on
    d.lifted_on = d.observation_until = d.eligible_on = None
    d.public_reason = _public_reason(level, infected=d.infections.exists(), exposure_note=d.exposure_note)
    d.designated_at = clock.now()
    # The re-seal's KPI runs from the infections that caused it (not the original spell's first one).
    d.first_infection_at = min((i.reported_at or _day_start(i.confirmed_on) for i in infections), default=None)
    try:
        with transaction.atomic():
            d.save()
    except IntegrityError:  # one_open_designation_per_area: the area was designated anew meanwhile
        raise Conflict(_("%(path)s has another open designation") % {"path": d.area.path},
                       field="designation") from None
    Proposal.objects.filter(designation=d, kind="reseal", status=ProposalStatus.OPEN).update(
        status=ProposalStatus.CONFIRMED, decided_on=on, decided_by=audit.actor_name(actor))
    do_refresh(d, on, actor=actor)
    return d


def _lock_designated(d: Designation, reason: str, no_reason: str, not_designated: str, rule: str = "") -> None:
    """A change to a designated area: its reason is required, then the row is locked and still designated."""
    audit.require_reason(reason, no_reason, rule=rule)
    lock(d)
    if d.status != Status.ACTIVE:
        raise Conflict(not_designated, field="designation")


@transaction.atomic
def do_adjust_extent(d: Designation, *, add=(), remove=(), on: dt.date | None = None, reason: str,
                     actor=None) -> Designation:
    """Add or remove nodes (units by default) from a designation's extent."""
    on = on or clock.today()
    _lock_designated(d, reason, _("adjusting an extent needs a reason"),
                     _("only a designated area's extent can be adjusted"))
    current = {m.area_id: m for m in d.members.filter(removed_on__isnull=True)}
    added, removed = [], []
    for a in add:
        if a.pk not in current:
            Member.objects.create(designation=d, area=a, added_on=on)
            added.append(a.path)
    for a in remove:
        m = current.get(a.pk)
        if m is None:
            raise ActionError(_("%(path)s is not part of this designation") % {"path": a.path}, field="remove")
        if a.pk == d.area_id and len(current) - len(removed) <= 1:
            raise ActionError(_("the last part of an extent cannot be removed; lift the area instead"),
                              field="remove")
        m.removed_on = on
        m.save(update_fields=["removed_on"])
        removed.append(a.path)
    Event.objects.create(designation=d, on=on, kind=EventKind.ADJUST, reason=reason, actor=audit.actor_name(actor))
    audit.record("designation.adjust", actor=actor, obj=d, after={"added": added, "removed": removed, "on": on},
                 reason=reason)
    pack = pack_of(d)
    for a in add:
        for v in guardrails.check_granularity(pack, a.kind, a.path):
            _flag(v, d, on, actor=actor, reason=reason)
    return d


@transaction.atomic
def do_record_round(d: Designation, *, on: dt.date | None = None, result: str = "negative", actor=None,
                    reason: str = "") -> Event:
    """Record a full-area test round (全员核酸) for the designation: negative, positive, or pending ('')."""
    on = on or clock.today()
    if result not in ("negative", "positive", ""):
        raise ActionError(_("result must be negative, positive or empty (pending)"), field="result")
    lock(d)
    ev = Event.objects.create(designation=d, on=on, kind=EventKind.ROUND, result=result, reason=reason,
                              actor=audit.actor_name(actor))
    audit.record("designation.round", actor=actor, obj=d, after={"on": on, "result": result or "pending"},
                 reason=reason)
    do_refresh(d, on, actor=actor)
    return ev


@transaction.atomic
def do_keep(d: Designation, *, on: dt.date | None = None, reason: str, actor=None) -> Designation:
    """Hold the area at its level past its change date. Needs a reason; flagged every day it holds (#3)."""
    on = on or clock.today()
    _lock_designated(d, reason, _("keeping an area past its change date needs a written reason"),
                     _("only a designated area can be kept"), rule="nine-prohibitions-3")
    Event.objects.create(designation=d, on=on, kind=EventKind.KEEP, reason=reason, actor=audit.actor_name(actor))
    audit.record("designation.keep", actor=actor, obj=d, after={"on": on, "level": d.level}, reason=reason,
                 rule="nine-prohibitions-3")
    do_refresh(d, on, actor=actor)
    return d


@transaction.atomic
def do_resume(d: Designation, *, on: dt.date | None = None, reason: str = "", actor=None) -> Designation:
    """End a keep: the pack's clock decides again (an overdue change takes effect at once)."""
    on = on or clock.today()
    lock(d)
    Event.objects.create(designation=d, on=on, kind=EventKind.RESUME, reason=reason, actor=audit.actor_name(actor))
    audit.record("designation.resume", actor=actor, obj=d, after={"on": on}, reason=reason)
    do_refresh(d, on, actor=actor)
    return d


@transaction.atomic
def do_lift(d: Designation, *, on: dt.date | None = None, reason: str, level: str | None = None,
            actor=None) -> Designation:
    """Lift by hand (to low, or step down to ``level``). The area then stays under observation."""
    on = on or clock.today()
    audit.require_reason(reason, _("a lift needs a reason (the assessment)"))
    # The row lock and the re-read status make a second, concurrent lift of the same designation a conflict
    # (it used to apply twice: two lift events, two audit rows).
    lock(d)
    if d.status != Status.ACTIVE:
        raise Conflict(_("%(path)s is not designated") % {"path": d.area.path}, field="designation")
    pack = pack_of(d)
    # Rank 0 is the highest level: a step down goes to a larger rank.
    if level is not None and (level not in pack.levels or pack.level_rank(level) <= pack.level_rank(d.level)):
        raise ActionError(_("a lift goes down from %(level)s; %(level2)s is not below it")
                          % {"level": _lv(d.level), "level2": _lv(level)}, field="level")
    Event.objects.create(designation=d, on=on, kind=EventKind.LIFT, level=level or "", reason=reason,
                         actor=audit.actor_name(actor))
    audit.record("designation.lift", actor=actor, obj=d, before={"level": d.level},
                 after={"level": level or pack.base_level, "on": on}, reason=reason)
    do_refresh(d, on, actor=actor)
    return d


# ------------------------------------------------------------------------------------------ proposals

def _settle_proposals(area: Area, level: str, d: Designation, on: dt.date, actor) -> None:
    """A designation answers the open proposals for the same area at the same or a lower level."""
    pack = pack_of(d)
    for p in Proposal.objects.filter(area=area, status=ProposalStatus.OPEN, kind="new"):
        if p.level in pack.levels and pack.level_rank(p.level) >= pack.level_rank(level):  # rank 0 = highest
            p.status, p.decided_on, p.decided_by, p.designation = (ProposalStatus.CONFIRMED, on,
                                                                   audit.actor_name(actor), d)
            p.save(update_fields=["status", "decided_on", "decided_by", "designation"])


def _propose(area: Area, level: str, infection, on: dt.date, *, kind: str = "new", designation=None,
             actor=None) -> Proposal:
    serialize("zones.proposal", area.pk, level, kind)  # two infections at once propose the area once
    p = Proposal.objects.filter(area=area, level=level, kind=kind, status=ProposalStatus.OPEN).first()
    if p is None:
        p = Proposal(area=area, level=level, kind=kind, designation=designation, proposed_on=on, because=[])
        p.set_scope_from(area)
        p.save()
        audit.record("proposal.create", actor=actor, obj=p, object_type="proposal",
                     after={"area": area.path, "level": level, "kind": kind, "because": [infection.label]},
                     rule="发现一起" if kind == "new" else "observation-reseal")
    if infection.label not in p.because:
        p.because = [*p.because, infection.label]
        p.save(update_fields=["because"])
        p.infections.add(infection)
    return p


@transaction.atomic
def do_apply_infection(inf, *, actor=None) -> None:
    """A new infection counts against the designations that contain its home, and proposes designations:
    its home unit high, the places it visited medium (where the pack has medium), a re-seal where a lifted
    area under observation is hit."""
    on = inf.confirmed_on
    home = inf.home
    hit = sorted(covering(home, statuses=(Status.ACTIVE, Status.OBSERVATION)).select_related("area"),
                 key=lambda d: d.pk)
    for d in hit:
        lock(d)  # in id order, as the tick locks them
        Event.objects.create(designation=d, on=on, kind=EventKind.INFECTION, found=inf.found,
                             home_isolating=inf.home_isolating, infection=inf, reason=inf.label,
                             actor=audit.actor_name(actor))
        d.infections.add(inf)
        reason = _public_reason(d.level, infected=True, exposure_note=d.exposure_note)
        if d.public_reason != reason:
            d.public_reason = reason
            d.save(update_fields=["public_reason"])
        st = do_refresh(d, on, actor=actor)
        if st.proposes_reseal and not st.designated:
            _propose(d.area, "high", inf, on, kind="reseal", designation=d, actor=actor)
    pack = active_pack(on)
    if inf.found == "quarantine_site" or not pack.counts(inf.found, inf.home_isolating):
        return
    if not any(d.status == Status.ACTIVE and d.level == "high" for d in hit) and not any(
            d.status == Status.OBSERVATION for d in hit):
        _propose(home, "high", inf, on, actor=actor)
    if "medium" in pack.designated_levels:
        for place in inf.visited.all():
            if not covering(place).exists():
                _propose(place, "medium", inf, on, actor=actor)


@transaction.atomic
def do_confirm_proposal(p: Proposal, *, actor=None, on: dt.date | None = None, reason: str = "") -> Designation:
    """The commander's one click: designate (or re-seal) as proposed, linked to the infections."""
    on = on or clock.today()
    lock(p.area)  # locks go area first, then designation and proposals (as in do_designate): no deadlock
    lock(p)
    if p.status != ProposalStatus.OPEN:
        raise Conflict(_("this proposal is already decided"), field="proposal")
    infections = list(p.infections.all())
    why = reason or ("发现一起: " + ", ".join(p.because))
    if p.kind == "reseal" and p.designation is not None:
        d = do_reseal(p.designation, level=p.level, on=on, reason=why, infections=infections, actor=actor)
    else:
        d = do_designate(p.area, p.level, on=on, reason=why, infections=infections, actor=actor)
    p.refresh_from_db()
    if p.status == ProposalStatus.OPEN:
        p.status, p.decided_on, p.decided_by, p.designation = (ProposalStatus.CONFIRMED, on,
                                                               audit.actor_name(actor), d)
        p.save(update_fields=["status", "decided_on", "decided_by", "designation"])
    audit.record("proposal.confirm", actor=actor, obj=p, object_type="proposal", after={"designation": d.pk})
    return d


@transaction.atomic
def do_dismiss_proposal(p: Proposal, *, reason: str, actor=None, on: dt.date | None = None) -> Proposal:
    audit.require_reason(reason, _("dismissing a proposal needs a reason"))
    lock(p)
    if p.status != ProposalStatus.OPEN:
        raise Conflict(_("this proposal is already decided"), field="proposal")
    p.status, p.decided_on, p.decided_by = ProposalStatus.DISMISSED, on or clock.today(), audit.actor_name(actor)
    p.save(update_fields=["status", "decided_on", "decided_by"])
    audit.record("proposal.dismiss", actor=actor, obj=p, object_type="proposal", reason=reason)
    return p


# ------------------------------------------------------------------------------------------ the tick

def do_tick(on: dt.date | None = None, *, actor="system") -> dict:
    """Day start: every change that falls due on ``on`` takes effect; kept areas are flagged (#3);
    observation periods end. Only designations that can change today are evaluated, and the writes go
    out in bulk (one statement per table)."""
    from django.db.models import Q

    on = on or clock.today()
    with transaction.atomic():
        # Concurrent ticks run one after the other: the second reads what the first committed (changes
        # applied, next_on moved, flags written) and applies nothing twice. The due rows are locked too,
        # so a lift or keep on one of them waits for the tick (or the tick for it) instead of interleaving.
        serialize("zones.tick")
        due = list(Designation.objects.filter(
            Q(status=Status.ACTIVE, next_on__lte=on) | Q(status=Status.ACTIVE, kept=True)
            | Q(status=Status.OBSERVATION, observation_until__lt=on)).select_related("area")
            .select_for_update(of=("self",)).order_by("pk"))
        by_d: dict[int, list] = defaultdict(list)
        ids = [d.pk for d in due]
        for i in range(0, len(ids), 5000):
            for e in Event.objects.filter(designation_id__in=ids[i:i + 5000]).order_by("on", "id"):
                by_d[e.designation_id].append(e)
        flagged = set(Flag.objects.filter(on=on, designation_id__in=ids).values_list("rule", "check_key",
                                                                                      "designation_id")) \
            if ids else set()
        out: list = []
        flags: list[Flag] = []
        to_save: list[Designation] = []
        changes = 0
        for d in due:
            if by_d[d.pk] and by_d[d.pk][-1].on > on:
                continue  # its history goes past this day: a tick for an earlier day must not rewind it
            st = state_of(d, on, events=by_d[d.pk])
            before = d.level
            changed = _apply_state(d, st, on, actor, events=by_d[d.pk], out=out)
            if changed:
                to_save.append(d)
            changes += d.level != before
            for v in st.flags:
                if (v.rule, v.check, d.pk) not in flagged:
                    f = Flag(rule=v.rule, check_key=v.check, on=on, designation=d, subject=v.subject or d.area.path,
                             message=v.message_zh, message_en=v.message_en,
                             reason=st.kept.reason if st.kept else "", actor=audit.actor_name(actor))
                    f.set_scope_from(d.area)
                    flags.append(f)
        if to_save:
            save_cached(to_save)
        Event.objects.bulk_create([o for o in out if isinstance(o, Event)], batch_size=1000)
        audits = [o for o in out if isinstance(o, AuditEntry)]
        if flags:
            Flag.objects.bulk_create(flags, batch_size=1000)
            audits += [audit.entry("guardrail.flag", actor=actor, obj=f, object_type="flag",
                                   after={"rule": f.rule, "subject": f.subject, "on": on}, reason=f.reason,
                                   rule=f.rule, scope=f) for f in flags]
        AuditEntry.objects.bulk_create(audits, batch_size=1000)
    missing = do_flag_missing_rounds(on, actor=actor)
    return {"date": on.isoformat(), "evaluated": len(due), "changes": changes, "flags": len(flags) + missing}


#: how many days back a missing round is flagged when the tick did not run for a while
MISSING_ROUND_DAYS = 30


@transaction.atomic
def do_flag_missing_rounds(on: dt.date | None = None, *, actor="system") -> int:
    """#3: a full-area round the pack required (day N of the area's clock) that nobody recorded is flagged on its
    day and on every day after, until a round is recorded: the area cannot change level without it. Run by the
    day-start tick for the day before's end and the days after (a day's flag, once written, stays).
    Returns the number of flags written."""
    on = on or clock.today()
    written = 0
    for d, rd, day in missing_rounds(Designation.objects.filter(status=Status.ACTIVE), on):
        pack = pack_of(d)
        first = max(rd, on - dt.timedelta(days=MISSING_ROUND_DAYS))
        for k in range((on - first).days + 1):
            flag_day = first + dt.timedelta(days=k)
            v = guardrails.round_missing(pack, area=d.area.path, due=rd, day=day, on=flag_day)
            written += _flag(v, d, flag_day, actor=actor) is not None
    return written


# ------------------------------------------------------------------------------------------ notices

@transaction.atomic
def do_publish_notice(*, actor=None, effective: dt.date | None = None) -> Notice | None:
    """Publish every designation, level change, lift and re-seal not yet announced as one numbered notice."""
    effective = effective or clock.today()
    serialize("zones.notice")  # one numbered notice per batch of events, however many publish at once
    events = list(Event.objects.filter(notice__isnull=True, kind__in=[
        EventKind.DESIGNATE, EventKind.CHANGE, EventKind.LIFT, EventKind.RESEAL]).select_related(
        "designation__area").order_by("on", "id"))
    if not events:
        return None
    last = Notice.objects.order_by("-number").first()
    items = [{"change": e.kind, "area": e.designation.area.path, "level": e.level or pack_of(e.designation).base_level,
              "on": e.on.isoformat(), "reason": e.designation.public_reason} for e in events]
    n = Notice.objects.create(number=(last.number + 1) if last else 1, effective=effective,
                              published_at=clock.now(), published_by=audit.actor_name(actor), items=items)
    Event.objects.filter(pk__in=[e.pk for e in events]).update(notice=n)
    audit.record("notice.publish", actor=actor, obj=n, object_type="notice", object_id=n.number,
                 after={"number": n.number, "items": len(items)})
    return n
