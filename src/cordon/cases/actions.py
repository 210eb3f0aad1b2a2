"""Actions on infections. Each new infection feeds the area clocks and the designation proposals."""
from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext, gettext_lazy

from cordon.cases import daystart, hooks
from cordon.cases.daystart import AUDIT_COLUMNS as _AUDIT_COLUMNS, STEP_DOWN_REASON, STEP_DOWN_RULE
from cordon.core import access, audit, clock, notify
from cordon.core.actions import ActionError, Conflict, do_escalate, lock, serialize
from cordon.core.models import AuditEntry
from cordon.core.packs import active_pack
from cordon.cases.models import (Arrival, ArrivalKind, CheckIn, Facility, FacilityKind, Found, Infection,
                                 InfectionKind, OrderStatus, OutsideRegion, PersonOrder, Placement, ResponseTask,
                                 TaskNote, TaskStatus)
from cordon.playbooks import actions as playbook_actions, queries as playbook_queries
from cordon.playbooks.models import Subject
from cordon.policy import guardrails, persons
from cordon.policy.pack import task_playbook_key
from cordon.cases.queries import has_link, resident_with, seen_by
from cordon.web.pages import lazy_half


@transaction.atomic
def do_record_infection(*, label: str, home, found: str, confirmed_on: dt.date, kind: str = "confirmed",
                        visited=(), resident=None, home_isolating: bool = False, sampled_at=None,
                        reported_at=None, actor=None, reason: str = "") -> Infection:
    """Record a new infection (confirmed or asymptomatic) and hand it to the area clocks (zones)."""
    label = (label or "").strip()
    if not label or len(label) > 40:
        raise ActionError(gettext("a case reference of 1 to 40 characters is required"), field="label")
    serialize("cases.infection", label)  # two desks recording the same case at once store it once
    if Infection.objects.filter(label=label).exists():
        raise Conflict(gettext("infection %(label)s is already recorded (a reclassification is not a new infection)")
                       % {"label": label},
                          field="label")
    if found not in Found.values:
        raise ActionError(gettext("found must be one of %(values)s")
                          % {"values": ', '.join(Found.values)}, field="found")
    if kind not in InfectionKind.values:
        raise ActionError(gettext("kind must be one of %(values)s")
                          % {"values": ', '.join(InfectionKind.values)}, field="kind")
    if home is None:
        raise ActionError(gettext("the home address (a building unit) is required"), field="home")
    inf = Infection(label=label, home=home, found=found, kind=kind, confirmed_on=confirmed_on,
                    resident=resident, home_isolating=home_isolating, sampled_at=sampled_at,
                    reported_at=reported_at or clock.now())
    inf.set_scope_from(home)
    inf.save()
    visited = [v for v in visited if v is not None]
    if visited:
        inf.visited.set(visited)
    if actor is not None and not isinstance(actor, str):
        access.require_in_scope(actor, inf, access.WRITE)
    audit.record("infection.create", actor=actor, obj=inf,
                 after={"label": label, "home": home.path, "found": found, "kind": kind,
                        "confirmed_on": confirmed_on, "visited": [v.path for v in visited]}, reason=reason)
    _open_response(inf, actor=actor)
    hooks.new_infection(inf, actor=actor)  # the area clocks (zones registers them)
    return inf


# ============================================================================ response to each infection

TEAM_OWNERS = {"transfer": "120 转运组 / transfer team", "investigation": "区疾控流调组 / district CDC team",
               "designation": "指挥部 / command centre"}


def _pack(on):
    return active_pack(on)


def _open_response(inf: Infection, *, actor=None) -> list:
    """Open the infection's response tasks from the pack (deadline from the report time, checklist)."""
    pack = _pack(inf.confirmed_on)
    start = inf.reported_at or clock.now()
    community = inf.home.path.split("/")[:3]
    tasks = []
    for key, t in pack.tasks.items():
        owner = TEAM_OWNERS.get(key) or "/".join(community)
        task = ResponseTask(infection=inf, step=key, title=f"{t.title.zh} / {t.title.en}", owner=owner,
                            deadline=start + dt.timedelta(hours=t.deadline_hours),
                            checklist=[{"zh": p.zh, "en": p.en, "done": False} for p in t.playbook],
                            rule=f"{pack.name}: tasks.{key} ({t.deadline_hours} h)", playbook=t.playbook_key)
        task.set_scope_from(inf)
        tasks.append(task)
    ResponseTask.objects.bulk_create(tasks)
    audit.record("response.open", actor=actor, obj=inf, object_type="infection",
                 after={"tasks": [t.step for t in tasks]}, rule=f"{pack.name}: tasks")
    return tasks


@transaction.atomic
def do_reclassify_infection(inf: Infection, kind: str, *, actor=None, reason: str = "") -> Infection:
    """Asymptomatic -> confirmed (or back): the same infection, not a new one; clocks are not touched."""
    if kind not in InfectionKind.values:
        raise ActionError(gettext("kind must be one of %(values)s")
                          % {"values": ', '.join(InfectionKind.values)}, field="kind")
    if kind == inf.kind:
        return inf
    before = inf.kind
    inf.kind = kind
    inf.save(update_fields=["kind"])
    audit.record("infection.reclassify", actor=actor, obj=inf, before={"kind": before}, after={"kind": kind},
                 reason=reason)
    return inf


@transaction.atomic
def do_complete_task(task, *, actor=None, note: str = ""):
    audit.check_text(note, "note")
    lock(task)
    if task.status == TaskStatus.DONE:
        raise Conflict(gettext("this task is already done"), field="task")
    task.status, task.done_at = TaskStatus.DONE, clock.now()
    task.checklist = [{**c, "done": True} for c in task.checklist]
    task.save(update_fields=["status", "done_at", "checklist"])
    TaskNote.objects.create(task=task, at=task.done_at, actor=audit.actor_name(actor), text=note or "done")
    audit.record("task.done", actor=actor, obj=task, object_type="task",
                 after={"step": task.step, "late": task.done_at > task.deadline}, reason=note)
    return task


@transaction.atomic
def do_note_task(task, text: str, *, actor=None, check: int | None = None):
    audit.check_text(text, "text")
    lock(task)  # two ticks of the checklist at once keep both
    if check is not None:
        if not 0 <= check < len(task.checklist):
            raise ActionError(gettext("no such checklist item"), field="check")
        was_done = task.checklist[check].get("done")
        task.checklist = [{**c, "done": True} if i == check else c for i, c in enumerate(task.checklist)]
        task.save(update_fields=["checklist"])
        if not was_done and task.playbook == task_playbook_key(task.step):  # the same step of its playbook
            step = f"s{check + 1}"
            run = playbook_queries.run_of(Subject.TASK, task.pk, task.playbook)
            if step not in playbook_queries.checks_of(run):
                playbook_actions.do_check_step(Subject.TASK, task, task.playbook, step, actor=actor, note=text)
    TaskNote.objects.create(task=task, at=clock.now(), actor=audit.actor_name(actor), text=text or "")
    audit.record("task.note", actor=actor, obj=task, object_type="task", after={"check": check}, reason=text)
    return task


@transaction.atomic
def do_check_task_step(task, step: str, *, actor=None, note: str = "", reason: str = ""):
    """Check off one step of the task's playbook (who and when: ``playbooks``' audited check); on the task's
    default playbook the matching item of its checklist is ticked too, and the timeline says which step."""
    audit.check_text(note, "note")
    lock(task)
    if task.status == TaskStatus.DONE:
        raise Conflict(gettext("this task is already done"), field="task")
    if not task.playbook:
        raise ActionError(gettext("this task follows no playbook"), field="step")
    playbook_actions.do_check_step(Subject.TASK, task, task.playbook, step, actor=actor, note=note, reason=reason)
    pb = playbook_queries.get(task.playbook)
    i = [s.key for s in pb.steps].index(step)
    if task.playbook == task_playbook_key(task.step) and i < len(task.checklist):
        task.checklist = [{**c, "done": True} if j == i else c for j, c in enumerate(task.checklist)]
        task.save(update_fields=["checklist"])
    TaskNote.objects.create(task=task, at=clock.now(), actor=audit.actor_name(actor),
                            text=f"✓ {pb.steps[i].text.zh} / {pb.steps[i].text.en}" + (f": {note}" if note else ""))
    return task


@transaction.atomic
def do_set_task_playbook(task, playbook: str, *, actor=None, reason: str = ""):
    """Make the task follow another playbook of the pack (or none: ""); the checks made on the previous one
    stay on its run."""
    playbook = (playbook or "").strip()
    if playbook and playbook_queries.get(playbook) is None:
        raise ActionError(gettext("no playbook %(key)s in the pack in force") % {"key": playbook}, field="playbook")
    lock(task)
    if playbook == task.playbook:
        return task
    before, task.playbook = task.playbook, playbook
    task.save(update_fields=["playbook"])
    audit.record("task.playbook", actor=actor, obj=task, object_type="task", before={"playbook": before},
                 after={"playbook": playbook}, reason=reason)
    return task


def do_escalate_overdue(now=None, *, actor="system") -> int:
    """Overdue open tasks climb a level (1 street, 2 district, 3 city) for each deadline-length overdue; the
    local staff are told."""
    now = now or clock.now()

    def level_of(t) -> int:
        span = max((t.deadline - t.infection.reported_at).total_seconds() if t.infection.reported_at else 0, 3600)
        return min(3, 1 + int((now - t.deadline).total_seconds() // span))

    with transaction.atomic():
        raised = do_escalate(ResponseTask.objects.filter(status=TaskStatus.OPEN, deadline__lt=now, escalation__lt=3),
                          now, level_of, actor=actor, object_type="task", rule=lambda t: t.rule)
        TaskNote.objects.bulk_create([TaskNote(task=t, at=now, actor=audit.actor_name(actor),
                                               text=f"overdue: escalated to level {t.escalation}") for t in raised])
        notify.tell_local_staff(raised, access.CASES_WRITE, "overdue_task",
                                gettext_lazy("Response task overdue: %(task)s (escalation %(level)s)"),
                                lambda t: {"task": lazy_half(t.title, 120), "level": t.escalation}, object_type="task")
    return len(raised)


# ============================================================================ people under orders

def _order_fields(order) -> dict:
    return {"centralized_until": order.centralized_until, "home_until": order.home_until, "free_on": order.free_on,
            "test_days": [d.isoformat() for d in order.test_days],
            "missed_test_days": [d.isoformat() for d in order.missed_test_days]}


def _refuse(verdicts) -> None:
    v = guardrails.blocking(verdicts)
    if v is not None:
        raise ActionError(f"{v.message_zh} / {v.message_en}", field="category", rule=v.rule)


@transaction.atomic
def _make_order(*, label: str, category: str, anchor: dt.date, identified_on: dt.date, home=None, resident=None,
                infection=None, via=None, arrival=None, from_area=None, manual=False, reason="", actor=None,
                arrival_from_level=None, arrival_kind=None, id_number: str = ""):
    pack = _pack(identified_on)
    label = (label or "").strip()
    if not label or len(label) > 40:
        raise ActionError(gettext("a person reference of 1 to 40 characters is required"), field="person")
    linked = not manual or has_link(label, actor)
    _refuse(guardrails.check_order(pack, category, person=label, has_link=linked,
                                   arrival_from_level=arrival_from_level, arrival_kind=arrival_kind))
    if anchor > identified_on:
        raise ActionError(gettext("the anchor day (last exposure, arrival or leaving) cannot be after today"),
                          field="anchor")
    order = persons.compute_order(pack, category, anchor, identified_on)
    if not order.restricts:
        # No quarantine under this category (e.g. from a low-risk area): nobody is put under an order;
        # the arrival record carries the pack's tests. A contact found after the order would have ended is
        # free at once (the clock never restarts).
        audit.record("order.none", actor=actor, object_type="order", object_id=label, object_repr=label,
                     after={"person": label, "category": category, "anchor": anchor, "identified_on": identified_on,
                            "void": order.void}, reason=reason, rule=f"{pack.name}: persons.{category}",
                     scope=home)
        return None
    serialize("cases.order", label)  # one active order per person, however many desks identify them at once
    existing = seen_by(PersonOrder.objects.filter(label=label, status=OrderStatus.ACTIVE), actor).first()
    if existing is not None and not manual:
        # Already under an order: keep the stricter one (never lengthen by re-identification, #5).
        if existing.free_on and order.free_on and order.free_on <= existing.free_on:
            return existing
    if existing is not None:
        if actor is not None and not isinstance(actor, str):
            access.require_in_scope(actor, existing, access.WRITE)  # replacing releases it: a write
        existing.status, existing.released_on = OrderStatus.RELEASED, identified_on
        existing.save(update_fields=["status", "released_on"])
        audit.record("order.replace", actor=actor, obj=existing, object_type="order",
                     after={"by_category": category}, reason=reason)
    resident = resident or resident_with(id_number)
    home = home or (resident.household.unit if resident is not None else None) \
        or (existing.home if existing is not None else None)
    po = PersonOrder(label=label, resident=resident, home=home, category=category, pack=pack.name,
                     infection=infection, via=via, arrival=arrival, from_area=from_area, manual=manual,
                     anchor=anchor, identified_on=identified_on, reason=reason,
                     status=OrderStatus.VOID if order.void else OrderStatus.ACTIVE, **_order_fields(order))
    if home is not None:
        po.set_scope_from(home)
    po.save()
    if actor is not None and not isinstance(actor, str) and home is not None:
        access.require_in_scope(actor, po, access.WRITE)
    audit.record("order.create", actor=actor, obj=po, object_type="order",
                 after={"person": label, "category": category, "anchor": anchor, "identified_on": identified_on,
                        "free_on": order.free_on, "void": order.void},
                 reason=reason, rule=f"{pack.name}: persons.{category}")
    return po


@transaction.atomic
def do_register_contact(infection: Infection, *, label: str, category: str = "close_contact",
                        last_exposure: dt.date, identified_on: dt.date | None = None, home=None, resident=None,
                        via=None, actor=None, reason: str = "", id_number: str = ""):
    """A close contact (or contact of a contact) of an infection; the clock runs from the last exposure. With
    the ID number of a resident, the order is linked to the resident's record (``resident_with``)."""
    audit.check_text(reason)
    if category not in ("close_contact", "contact_of_contact"):
        raise ActionError(gettext("contacts are close_contact or contact_of_contact"), field="category")
    return _make_order(label=label, category=category, anchor=last_exposure,
                       identified_on=identified_on or clock.today(), home=home, resident=resident,
                       infection=infection, via=via, actor=actor, reason=reason or f"contact of {infection.label}",
                       id_number=id_number)


@transaction.atomic
def do_register_arrival(*, label: str, from_level: str, kind: str, arrived_on: dt.date, destination,
                        region=None, identified_on: dt.date | None = None, resident=None, actor=None,
                        reason: str = ""):
    """An arrival (来兰返兰): its category follows from the origin's level; measures come from the pack.
    Arrivals from low-risk areas get no quarantine (#2, #7), only the pack's tests."""
    if from_level not in ("high", "medium", "low"):
        raise ActionError(gettext("from_level must be high, medium or low"), field="from_level")
    if kind not in ArrivalKind.values:
        raise ActionError(gettext("kind must be one of %(values)s")
                          % {"values": ', '.join(ArrivalKind.values)}, field="kind")
    identified_on = identified_on or clock.today()
    category = persons.arrival_category(from_level)
    a = Arrival(label=label, resident=resident, destination=destination, region=region, from_level=from_level,
                kind=kind, arrived_on=arrived_on, category=category)
    a.set_scope_from(destination)
    a.save()
    audit.record("arrival.create", actor=actor, obj=a, object_type="arrival",
                 after={"person": label, "from_level": from_level, "kind": kind, "arrived_on": arrived_on,
                        "category": category}, reason=reason)
    order = _make_order(label=label, category=category, anchor=arrived_on, identified_on=identified_on,
                        home=destination, resident=resident, arrival=a, actor=actor, reason=reason or "arrival",
                        arrival_from_level=from_level, arrival_kind=kind)
    return a, order


@transaction.atomic
def do_register_spillover(*, label: str, from_area, left_on: dt.date, home=None, identified_on=None,
                          actor=None, reason: str = ""):
    """Someone who left a high- or medium-risk area (spill-over): category by the area's level when they left."""
    level = hooks.risk_level(from_area, left_on)  # zones registers the designations' levels
    if level is None:
        raise ActionError(gettext("%(path)s was not a high- or medium-risk area on %(left_on)s")
                          % {"path": from_area.path, "left_on": left_on}, field="from_area",
                          rule="nine-prohibitions-4")
    return _make_order(label=label, category=f"from_{level}_area", anchor=left_on,
                       identified_on=identified_on or clock.today(), home=home, from_area=from_area,
                       actor=actor, reason=reason or f"left {from_area.path}")


def check_manual_order_home(user, label: str, home, *, field: str = "home") -> None:
    """Who may put ``label`` under a manual order without naming a home: the writer of the person's latest
    order or arrival (looked up in the user's jurisdiction only: a record elsewhere answers exactly as no
    record at all, no existence oracle); with neither, a home must be given unless the user writes citywide.
    A named home was checked writable by the caller."""
    if home is not None:
        return
    label = (label or "").strip()
    prev = PersonOrder.objects.for_user(user, access.READ_HEALTH).filter(label=label).order_by("-id").first()
    if prev is not None:
        access.access(PersonOrder, user, prev.pk, perm=access.CASES_WRITE, read=access.READ_HEALTH)
        return
    arrival = Arrival.objects.for_user(user, access.READ_HEALTH).filter(label=label).order_by("-id").first()
    if arrival is not None:
        access.access(Arrival, user, arrival.pk, perm=access.CASES_WRITE)
    elif not access.scope_for(user, access.CASES_WRITE).everything:
        raise ActionError(gettext("give the person's home"), field=field)


@transaction.atomic
def do_manual_order(*, label: str, category: str, reason: str, on: dt.date | None = None, home=None,
                    actor=None, id_number: str = ""):
    """Put a person under a category's measures by hand. Blocked for a category the pack lacks or a person
    with no recorded link (#4), and for arrivals from low-risk areas (#2, #7)."""
    if not audit.check_text(reason).strip():
        raise ActionError(gettext("a manual order needs a reason"), field="reason")
    on = on or clock.today()
    prev = seen_by(PersonOrder.objects.filter(label=label, manual=False), actor).order_by("-id").first()
    arrival = seen_by(Arrival.objects.filter(label=label), actor).order_by("-id").first()
    anchor = prev.anchor if prev else (arrival.arrived_on if arrival else on)
    return _make_order(label=label, category=category, anchor=anchor, identified_on=on, manual=True,
                       home=home or (prev.home if prev else (arrival.destination if arrival else None)),
                       infection=prev.infection if prev else None, arrival=arrival, reason=reason, actor=actor,
                       arrival_from_level=arrival.from_level if arrival else None,
                       arrival_kind=arrival.kind if arrival else None, id_number=id_number)


@transaction.atomic
def do_record_checkin(order, *, on: dt.date | None = None, temperature=None, symptoms: str = "",
                      test_result: str = "", actor=None):
    return do_record_checkins([{"order": order, "on": on, "temperature": temperature, "symptoms": symptoms,
                                "test_result": test_result}], actor=actor)[0]


def do_record_checkins(items: list[dict], *, actor=None, writes=None) -> list:
    """Check-ins (dicts: ``order``, ``on`` (today), ``temperature``, ``symptoms``, ``test_result``, ``occurred``:
    when its audit row says it happened) recorded in the order given: an order's day has one check-in, a later
    one replaces its values. One insert-or-update of the rows, each audited ``order.checkin``. Returns each
    item's ``CheckIn``. Items are checked before anything is written: the writes need no savepoint in a caller's
    transaction (a failed write undoes it all, as it must: rows and audit rows go together). With ``writes``
    (``core.rows.Writes``, PostgreSQL) they join the caller's one statement (CTE ``checkins``; ids set when run)."""
    rows, keys = {}, []
    for it in items:
        on, result = it.get("on") or clock.today(), it.get("test_result", "")
        if result not in ("", "negative", "positive"):
            raise ActionError(gettext("test_result must be negative, positive or empty"), field="test_result")
        keys.append((it["order"].pk, on))
        rows[keys[-1]] = CheckIn(order=it["order"], on=on, temperature=it.get("temperature"), test_result=result,
                                 symptoms=it.get("symptoms", ""), actor=audit.actor_name(actor))
    entries = []
    for it, (_o, on) in zip(items, keys):
        with audit.occurred(it.get("occurred", audit.occurred_now())):
            entries.append(audit.entry("order.checkin", actor=actor, obj=it["order"], object_type="order", after={
                "on": on, "temperature": it.get("temperature"), "test_result": it.get("test_result", "")}))
    update = ["temperature", "symptoms", "test_result", "actor"]
    if writes is not None:
        writes.insert("checkins", CheckIn, rows.values(), upsert=(["order", "on"], update),
                      returning=["id", "order", "on"], then=lambda got: [setattr(rows[o, d], "pk", i) for i, o, d in got])
        writes.insert("checkin_audit", AuditEntry, entries)
        return [rows[k] for k in keys]
    with transaction.atomic(savepoint=False):
        CheckIn.objects.bulk_create(list(rows.values()), update_conflicts=True, unique_fields=["order", "on"],
                                    update_fields=update)
        AuditEntry.objects.bulk_create(entries)
    return [rows[k] for k in keys]


#: the longest one extension of an order may be (a longer one is a new decision, not an extension)
MAX_EXTENSION_DAYS = 90


@transaction.atomic
def do_extend_order(order, *, days: int, reason: str, on: dt.date | None = None, actor=None):
    """Extend an order. Only a positive result of the person is a reason (nine prohibitions #5)."""
    on = on or clock.today()
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_EXTENSION_DAYS:
        raise ActionError(gettext("days must be a whole number from 1 to %(max)s") % {"max": MAX_EXTENSION_DAYS},
                          field="days")
    lock(order)
    if order.status != OrderStatus.ACTIVE:
        raise Conflict(gettext("only an active order can be extended"), field="order")
    positive = order.checkins.filter(test_result="positive").exists() or \
        Infection.objects.filter(label=order.label).exists()
    pack = _pack(order.identified_on)
    current = _as_engine_order(order, pack)
    try:
        new = persons.extend_order(current, days, "positive_result" if positive else "other", on=on, pack=pack,
                                   person=order.label, reason=reason)
    except persons.OrderRefused as exc:
        raise ActionError(f"{exc.verdict.message_zh} / {exc.verdict.message_en}", field="days",
                          rule=exc.verdict.rule) from None
    before = {"free_on": order.free_on}
    for k, v in _order_fields(new).items():
        setattr(order, k, v)
    order.extended_by += days
    order.save()
    audit.record("order.extend", actor=actor, obj=order, object_type="order", before=before,
                 after={"free_on": order.free_on, "days": days}, reason=reason, rule="nine-prohibitions-5")
    return order


def _as_engine_order(order, pack):
    """Rebuild the engine's Order from the stored one (compute again, then re-apply stored extensions)."""
    o = persons.compute_order(pack, order.category, order.anchor, order.identified_on)
    if order.extended_by:
        o = persons.extend_order(o, order.extended_by, "positive_result", on=order.identified_on, pack=pack,
                                 person=order.label, reason="stored extension")
    return o


def do_release_due(on: dt.date | None = None, *, actor="system", parts: int | None = None) -> int:
    """Day start: every order whose free day has come is released, with one audit row each, and the
    person's open facility placement is discharged (its bed given back). First, the beds of people whose
    centralized days are over and whose home days follow are given back (``do_discharge_after_centralized``).

    A bulk path, measured by ``cordon bench contacts`` (500 k orders, a day on which a quarter end). PostgreSQL:
    ``cases.daystart`` (one statement each, in ``parts`` block ranges at once on a large day). SQLite: one
    ``UPDATE ... RETURNING`` releases the due orders and reports exactly which (no race between a read and the
    write), placements are discharged by id in chunks (``RETURNING`` their facility, so the beds are counted
    without another read), and the ``order.release`` audit rows are written by the database from the released
    rows (``INSERT ... SELECT``), with the columns ``audit.entry`` would fill."""
    from django.db import connection
    from django.db.models import F

    on = on or clock.today()
    if connection.vendor == "postgresql":
        return daystart.release_due(on, actor, parts=parts)
    do_discharge_after_centralized(on, actor=actor)
    qn = connection.ops.quote_name
    po = PersonOrder._meta
    pl = Placement._meta
    col = lambda meta, name: qn(meta.get_field(name).column)  # noqa: E731
    scope = ", ".join(col(po, lv) for lv in access.LEVELS)
    chunk = 20000
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(f"UPDATE {qn(po.db_table)} SET {col(po, 'status')} = %s, {col(po, 'released_on')} = %s "
                    f"WHERE {col(po, 'status')} = %s AND {col(po, 'free_on')} <= %s RETURNING {col(po, 'id')}",
                    ["released", on, "active", on])
        ids = sorted(r[0] for r in cur.fetchall())
        if not ids:
            return 0
        freed: dict[int, int] = {}
        for i in range(0, len(ids), chunk):
            part = ids[i:i + chunk]
            cur.execute(f"UPDATE {qn(pl.db_table)} SET {col(pl, 'discharged_on')} = %s "
                        f"WHERE {col(pl, 'discharged_on')} IS NULL AND {col(pl, 'order')} IN "
                        f"({', '.join(['%s'] * len(part))}) RETURNING {col(pl, 'facility')}", [on, *part])
            for (fid,) in cur.fetchall():
                freed[fid] = freed.get(fid, 0) + 1
        for fid, n in freed.items():
            Facility.objects.filter(pk=fid).update(occupied=F("occupied") - n)
        # One audit row per released order (what audit.entry("order.release", obj=order, ...) holds).
        au = AuditEntry._meta
        after = "json_object('released_on', %s, 'free_on', {f})".format(f=col(po, "free_on"))  # PostgreSQL returned
        oid = f"CAST({col(po, 'id')} AS TEXT)"
        at = connection.ops.adapt_datetimefield_value(clock.now())
        actor_id = None if (actor is None or isinstance(actor, str)) else actor.pk
        for i in range(0, len(ids), chunk):
            part = ids[i:i + chunk]
            cur.execute(
                f"INSERT INTO {qn(au.db_table)} ({', '.join(col(au, f) for f in _AUDIT_COLUMNS)}) "
                f"SELECT %s, %s, %s, 'order.release', 'order', {oid}, SUBSTR({col(po, 'label')}, 1, 400), NULL, "
                f"{after}, '', 'order end (pack)', {scope} FROM {qn(po.db_table)} "
                f"WHERE {col(po, 'id')} IN ({', '.join(['%s'] * len(part))})",
                [at, actor_id, audit.actor_name(actor), on.isoformat(), *part])
    return len(ids)


@transaction.atomic
def do_discharge_after_centralized(on: dt.date | None = None, *, actor="system") -> int:
    """Day start: a person whose centralized quarantine is over (the pack's centralized days, then home days)
    gives their bed back. Their open placement, taken during the centralized days, is discharged on the day after
    the order's ``centralized_until`` (the home days are spent at home, not in the facility), with one
    ``facility.discharge`` audit row each, as a discharge by hand; the facility's ``occupied`` drops by as many.
    Orders kept at home by the pack (no centralized period) and placed because the home is unsuitable keep their
    bed until their free day. Returns the number of placements discharged."""
    from collections import Counter

    from django.db import connection
    from django.db.models import F

    on = on or clock.today()
    if connection.vendor == "postgresql":
        return daystart.discharge_after_centralized(on, actor)
    due = list(Placement.objects.filter(discharged_on__isnull=True, order__status=OrderStatus.ACTIVE,
                                        order__centralized_until__lt=on,
                                        admitted_on__lte=F("order__centralized_until"))
               .select_related("facility", "order").order_by("id"))
    by_day: dict[dt.date, list] = {}
    for p in due:
        by_day.setdefault(p.order.centralized_until + dt.timedelta(days=1), []).append(p)
    rows, chunk = [], 20000
    for day, group in sorted(by_day.items()):
        for i in range(0, len(group), chunk):
            part = {p.pk: p for p in group[i:i + chunk]}
            # compare-and-set, as do_discharge: a bed freed meanwhile by hand is not freed twice
            qs = Placement.objects.filter(pk__in=list(part), discharged_on__isnull=True)
            done = set(qs.select_for_update().values_list("pk", flat=True))
            qs.filter(pk__in=list(done)).update(discharged_on=day)
            for pk in sorted(done):
                part[pk].discharged_on = day
                rows.append(part[pk])
    for fid, n in Counter(p.facility_id for p in rows).items():
        Facility.objects.filter(pk=fid).update(occupied=F("occupied") - n)
    AuditEntry.objects.bulk_create(
        [audit.entry("facility.discharge", actor=actor, obj=p.facility, object_type="facility",
                     after={"placement": p.pk, "person": p.order.label, "on": p.discharged_on},
                     reason=STEP_DOWN_REASON, rule=STEP_DOWN_RULE, scope=p.facility)
         for p in rows], batch_size=2000)
    return len(rows)


# ============================================================================ arrivals and outside regions

@transaction.atomic
def do_record_arrival_test(arrival, *, on: dt.date | None = None, result: str = "negative", actor=None):
    """A test of an arrival (the pack's test window for arrivals from low-risk areas, or any test day)."""
    if result not in ("negative", "positive"):
        raise ActionError(gettext("result must be negative or positive"), field="result")
    on = on or clock.today()
    if on < arrival.arrived_on:
        raise ActionError(gettext("a test cannot be before the arrival"), field="on")
    done = [t for t in (arrival.tests_done or []) if t.get("on") != on.isoformat()]
    done.append({"on": on.isoformat(), "result": result})
    arrival.tests_done = sorted(done, key=lambda t: t["on"])
    arrival.save(update_fields=["tests_done"])
    audit.record("arrival.test", actor=actor, obj=arrival, object_type="arrival",
                 after={"on": on, "result": result})
    return arrival


@transaction.atomic
def do_upsert_outside_region(*, name: str, level: str, source: str = "", on: dt.date | None = None, actor=None):
    """Add a region outside the city to the maintained list, or change its level (commanders)."""
    name = (name or "").strip()
    if not name or len(name) > 120:
        raise ActionError(gettext("a region name of 1 to 120 characters is required"), field="name")
    if level not in ("high", "medium", "low"):
        raise ActionError(gettext("level must be high, medium or low"), field="level")
    on = on or clock.today()
    r = OutsideRegion.objects.filter(name=name).first()
    before = {"level": r.level} if r else None
    if r is None:
        r = OutsideRegion(name=name)
    r.level, r.updated_on, r.source = level, on, (source or "")[:200]
    r.save()
    audit.record("region.upsert", actor=actor, obj=r, object_type="region", before=before,
                 after={"name": name, "level": level, "source": r.source})
    return r


# ============================================================================ facilities

@transaction.atomic
def do_create_facility(*, name: str, kind: str, area, capacity: int, actor=None):
    if kind not in FacilityKind.values:
        raise ActionError(gettext("kind must be one of %(values)s")
                          % {"values": ', '.join(FacilityKind.values)}, field="kind")
    if capacity < 1:
        raise ActionError(gettext("capacity must be at least 1"), field="capacity")
    f = Facility(name=name, kind=kind, area=area, capacity=capacity)
    f.set_scope_from(area)
    f.save()
    audit.record("facility.create", actor=actor, obj=f, object_type="facility",
                 after={"name": name, "kind": kind, "capacity": capacity})
    return f


#: Facilities an infection is transferred to (admission there completes its transfer task).
HOSPITALS = (FacilityKind.DESIGNATED_HOSPITAL, FacilityKind.SHELTER_HOSPITAL)
#: the facilities each kind of person may be admitted to (POLICY.md: infections are treated in designated or
#: shelter hospitals, people under orders are quarantined in centralized quarantine sites)
PLACES_FOR = {"infection": (FacilityKind.DESIGNATED_HOSPITAL, FacilityKind.SHELTER_HOSPITAL),
              "order": (FacilityKind.QUARANTINE_SITE,)}


def check_placement(facility, *, order=None, infection=None, note: str = "") -> None:
    """The checks of an admission, before a bed is taken (the API and the pages get the same refusal):

    - one bed per person at a time: a person with an open placement (this record, or another record of the
      same resident) is discharged or transferred first;
    - the facility's kind fits the person (``PLACES_FOR``);
    - an order the pack keeps at home (no centralized period: a contact of a contact, a medium-risk
      spill-over) goes to a quarantine site only with the reason the home is unsuitable (``note``)."""
    kind = "order" if order is not None else "infection"
    person = order if order is not None else infection
    open_ = Placement.objects.filter(discharged_on__isnull=True)
    held = open_.filter(**{kind: person}).select_related("facility").first()
    if held is None and person.resident_id is not None:
        held = (open_.filter(Q(order__resident_id=person.resident_id) | Q(infection__resident_id=person.resident_id))
                .select_related("facility").first())
    if held is not None:
        raise Conflict(gettext("%(label)s is already placed at %(facility)s since %(day)s: discharge or transfer "
                               "them first (one bed per person)")
                       % {"label": person.label, "facility": held.facility.name, "day": held.admitted_on},
                       field=kind)
    if facility.kind not in PLACES_FOR[kind]:
        allowed = ", ".join(str(FacilityKind(k).label) for k in PLACES_FOR[kind])
        raise ActionError(gettext("%(name)s is a %(kind)s: %(who)s go to %(allowed)s")
                          % {"name": facility.name, "kind": FacilityKind(facility.kind).label,
                             "who": gettext("infections") if kind == "infection" else gettext("people under orders"),
                             "allowed": allowed}, field="facility")
    if order is not None and order.centralized_until is None and not (note or "").strip():
        raise ActionError(gettext("the pack puts %(label)s under home quarantine, not in a quarantine site: give "
                                  "the reason the home is unsuitable") % {"label": order.label}, field="note")


@transaction.atomic
def do_place(facility, *, order=None, infection=None, on: dt.date | None = None, actor=None, note: str = ""):
    """Admit a person under an order (or an infection) to a facility. Never beyond its capacity."""
    from django.db.models import F

    on = on or clock.today()
    if (order is None) == (infection is None):
        raise ActionError(gettext("place either a person under an order or an infection"), field="order")
    person = order if order is not None else infection
    lock(person)  # a second admission of the same person waits, then finds the first
    check_placement(facility, order=order, infection=infection, note=note)
    took = Facility.objects.filter(pk=facility.pk, occupied__lt=F("capacity")).update(occupied=F("occupied") + 1)
    if not took:
        facility.refresh_from_db()
        raise ActionError(gettext("%(name)s is full (%(occupied)s of %(capacity)s places taken)")
                          % {"name": facility.name, "occupied": facility.occupied, "capacity": facility.capacity},
                          field="facility")
    p = Placement.objects.create(facility=facility, order=order, infection=infection, admitted_on=on, note=note)
    if order is not None and order.placed_at is None:
        order.placed_at = clock.now()
        order.save(update_fields=["placed_at"])
    audit.record("facility.admit", actor=actor, obj=facility, object_type="facility",
                 after={"placement": p.pk, "person": order.label if order else infection.label, "on": on},
                 scope=facility)
    if infection is not None and facility.kind in HOSPITALS:
        # the infection reached a hospital: its transfer step is done, and its KPI (hours to transfer) counts
        for task in infection.tasks.filter(step="transfer", status=TaskStatus.OPEN):
            do_complete_task(task, actor=actor, note=f"入院 {facility.name} / admitted")
    return p


@transaction.atomic
def do_discharge(placement, *, on: dt.date | None = None, actor=None, reason: str = ""):
    from django.db.models import F

    if placement.discharged_on is not None:
        raise ActionError(gettext("already discharged"), field="placement")
    day = on or clock.today()
    # Compare-and-set: of two concurrent discharges only one frees the bed.
    if not type(placement).objects.filter(pk=placement.pk, discharged_on__isnull=True).update(discharged_on=day):
        raise Conflict(gettext("already discharged"), field="placement")
    placement.discharged_on = day
    Facility.objects.filter(pk=placement.facility_id).update(occupied=F("occupied") - 1)
    audit.record("facility.discharge", actor=actor, obj=placement.facility, object_type="facility",
                 after={"placement": placement.pk, "on": placement.discharged_on}, reason=reason,
                 scope=placement.facility)
    return placement
