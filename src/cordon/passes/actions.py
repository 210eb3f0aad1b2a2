"""Actions on passes: issue, revoke (with a reason, final), the day-start suspension and reactivation, checkpoints,
and the check itself (every check logged and audited; an eligible driver refused is flagged, #8)."""
from __future__ import annotations

import datetime as dt
import secrets

from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from cordon.core import access, audit, clock, ids
from cordon.core.actions import ActionError, Conflict, lock, serialize
from cordon.core.packs import active_pack
from cordon.passes import queries, signing
from cordon.passes.models import Cause, Checkpoint, CheckLog, Kind, Pass, PassEvent, PassStatus
from cordon.places.models import Area
from cordon.policy import guardrails, passes as rule
from cordon.zones.actions import do_raise_flag

#: the longest a pass may run (days, inclusive)
MAX_DAYS = 92
_CODE = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def _check_actor(actor, record, cap) -> None:
    if actor is not None and not isinstance(actor, str) and not access.can(actor, cap, record):
        raise access.Forbidden


def _common_area(areas) -> Area | None:
    """The lowest area containing all of ``areas`` (None: they lie in different districts)."""
    parts = [a.path.split("/") for a in areas]
    common = []
    for level in zip(*parts):
        if len(set(level)) != 1:
            break
        common.append(level[0])
    return Area.objects.filter(path="/".join(common)).first() if common else None


def _event(p: Pass, kind: str, on: dt.date, *, actor, cause: str = "", reason: str = "") -> PassEvent:
    return PassEvent.objects.create(pass_ref=p, on=on, at=clock.now(), kind=kind, cause=cause,
                                    actor=audit.actor_name(actor), reason=reason or "")


def check_holder(holder, holder_name: str, holder_id_number: str, *, number_needed: bool = True) -> tuple[str, str]:
    """A pass's holder: a resident, or (drivers from outside the city) a name and a valid ID number (a care
    transfer of a patient the request names only by name needs none)."""
    if holder is not None:
        return holder.name, ""
    name = (holder_name or "").strip()[:40]
    if not name:
        raise ActionError(_("a pass needs its holder: a resident, or a name and ID number"), field="holder")
    number = (holder_id_number or "").strip().upper()
    why = ids.id_number_error(number) if number or number_needed else None
    if why:
        raise ActionError(why, field="holder_id_number")
    return name, number


@transaction.atomic
def do_issue_pass(*, kind: str, areas, valid_from: dt.date, valid_to: dt.date, holder=None, holder_name: str = "",
                  holder_id_number: str = "", label: str = "", care_request: int | None = None, actor=None,
                  reason: str = "", by_rule: str = "") -> Pass:
    """Issue a pass for ``areas`` (area nodes) from ``valid_from`` to ``valid_to`` inclusive. ``by_rule``: the
    pass follows from another action by a rule (a care transfer's pass comes with its dispatch, #6), so the
    actor of that action needs no issuing capability of their own; the rule is on the audit row."""
    if kind not in Kind.values:
        raise ActionError(_("kind is one of %(values)s") % {"values": ", ".join(Kind.values)}, field="kind")
    areas = list({a.pk: a for a in areas or []}.values())
    if not areas:
        raise ActionError(_("a pass covers at least one area"), field="areas")
    if valid_to < valid_from:
        raise ActionError(_("the last valid day is before the first"), field="valid_to")
    if (valid_to - valid_from).days + 1 > MAX_DAYS:
        raise ActionError(_("a pass runs at most %(n)s days") % {"n": MAX_DAYS}, field="valid_to")
    name, number = check_holder(holder, holder_name, holder_id_number, number_needed=kind != Kind.CARE_TRANSFER)
    today = clock.today()
    p = Pass(kind=kind, holder=holder, holder_name=name, holder_id_number=number,
             areas=[{"id": a.pk, "path": a.path} for a in sorted(areas, key=lambda a: a.path)],
             valid_from=valid_from, valid_to=valid_to, status_since=max(today, valid_from),
             code="".join(secrets.choice(_CODE) for _ in range(10)), label=(label or "")[:40],
             care_request=care_request, issued_at=clock.now(), issued_by=audit.actor_name(actor))
    p.set_scope_from(_common_area(areas))
    for a in areas if not by_rule else ():
        _check_actor(actor, a, access.PASSES_ISSUE)
    p.save()
    _event(p, PassEvent.ISSUE, today, actor=actor, reason=reason)
    audit.record("pass.issue", actor=actor, obj=p, object_type="pass",
                 after={"kind": kind, "holder": holder.pk if holder else ids.mask_name(name),
                        "areas": p.area_paths, "from": valid_from, "to": valid_to}, reason=reason, rule=by_rule)
    return p


@transaction.atomic
def do_revoke_pass(p: Pass, *, reason: str, actor=None) -> Pass:
    """Revoke a pass (a person's decision, with its reason; final). It joins the revocation list checkpoints sync."""
    audit.require_reason(reason, _("a revocation needs its reason"))
    lock(p)
    if p.status == PassStatus.REVOKED:
        raise Conflict(_("this pass is already revoked"), field="status")
    _check_actor(actor, p, access.PASSES_ISSUE)
    serialize("passes.revocations")  # one version number per revocation, in order
    before = {"status": p.status}
    today = clock.today()
    p.status, p.status_since, p.revoked_reason = PassStatus.REVOKED, today, reason.strip()
    p.revoked_seq = (Pass.objects.aggregate(m=Max("revoked_seq"))["m"] or 0) + 1
    p.save(update_fields=["status", "status_since", "revoked_reason", "revoked_seq"])
    _event(p, PassEvent.REVOKE, today, actor=actor, reason=reason)
    audit.record("pass.revoke", actor=actor, obj=p, object_type="pass", before=before,
                 after={"status": p.status, "version": p.revoked_seq}, reason=reason)
    return p


@transaction.atomic
def do_sync_passes(on: dt.date | None = None, *, actor="system") -> dict:
    """Day-start job: suspend from ``on`` the passes whose holder is under an active order or overdue for a test
    on ``on``, and make active again those whose cause has ended (each a dated event with its audit row)."""
    on = on or clock.today()
    live = list(Pass.objects.select_for_update().filter(status__in=[PassStatus.ACTIVE, PassStatus.SUSPENDED],
                                                        valid_to__gte=on, holder__isnull=False))
    who = {p.holder_id for p in live}
    ordered, late = queries.under_order(who, on), queries.overdue(who, on)
    changes = {"suspended": 0, "reactivated": 0}
    for p in live:
        cause = Cause.ORDER if p.holder_id in ordered else (Cause.OVERDUE if p.holder_id in late else "")
        if cause and (p.status != PassStatus.SUSPENDED or p.cause != cause):
            kind, status, key = PassEvent.SUSPEND, PassStatus.SUSPENDED, "suspended"
        elif not cause and p.status == PassStatus.SUSPENDED:
            kind, status, key = PassEvent.REACTIVATE, PassStatus.ACTIVE, "reactivated"
        else:
            continue
        before = {"status": p.status, "cause": p.cause}
        p.status, p.cause, p.status_since = status, cause, on
        p.save(update_fields=["status", "cause", "status_since"])
        _event(p, kind, on, actor=actor, cause=cause)
        audit.record(f"pass.{kind}", actor=actor, obj=p, object_type="pass", before=before,
                     after={"status": status, "cause": cause, "on": on},
                     rule="passes: suspended while the holder is under an order or overdue for a test")
        changes[key] += 1
    return {"date": on.isoformat(), **changes}


@transaction.atomic
def do_create_checkpoint(name: str, *, area, city_exit: bool = False, actor=None, reason: str = "") -> Checkpoint:
    name = (name or "").strip()[:80]
    if not name:
        raise ActionError(_("a checkpoint needs a name"), field="name")
    if Checkpoint.objects.filter(name=name).exists():
        raise ActionError(_("a checkpoint named %(name)s already exists") % {"name": repr(name)}, field="name")
    c = Checkpoint(name=name, area=area, city_exit=bool(city_exit))
    c.set_scope_from(area)
    _check_actor(actor, c, access.PASSES_ISSUE)
    c.save()
    audit.record("checkpoint.create", actor=actor, obj=c, object_type="checkpoint",
                 after={"name": name, "area": area.path, "city_exit": c.city_exit}, reason=reason)
    return c


def _find(token: str, code: str, day: dt.date) -> Pass | None:
    """The pass a signed token or a typed code names, with its holder's status on ``day`` (one statement);
    None for a forged, altered or unknown one."""
    if token:
        data = signing.verify(token)
        return queries.pass_for_check(day, pk=data["p"]) if data else None
    code = (code or "").strip().upper()
    return queries.pass_for_check(day, code=code) if code else None


def do_check_pass(*, token: str = "", code: str = "", area=None, checkpoint: Checkpoint | None = None,
                  at: dt.datetime | None = None, actor=None, reason: str = "") -> tuple[CheckLog, rule.Answer]:
    """Check a pass (its signed token, or its typed code) at a checkpoint or an area now (or at ``at``): allowed,
    or refused with the first failing reason; ``invalid`` for a forged or unknown token. An exit checkpoint also
    asks a negative sample within 48 h of departure when the holder leaves from a low-risk area. Every check is
    logged; refusing an eligible driver (valid pass, negative 48-hour test) is flagged (#8).

    The reads come first; the writes are atomic: the log row and its audit row in one statement on PostgreSQL
    (``audit.save_with_entry``: outside a caller's transaction a transaction of its own, so a check is four
    round trips in all), the log, its audit row and the flag in one ``transaction.atomic`` when a refusal is
    flagged."""
    if checkpoint is not None:
        area = checkpoint.area
    if area is None:
        raise ActionError(_("choose the checkpoint or the area checked"), field="area")
    if actor is not None and not isinstance(actor, str) and not access.can(actor, access.PASSES_CHECK, area):
        raise access.Forbidden
    at = at or clock.now()
    day = at.astimezone(clock.tz()).date()
    p = _find(token, code, day)
    negative = False
    if p is None:
        answer = rule.Answer(False, "invalid")
    else:
        answer = queries.answer(p, area.path, day)
        leaving = answer.allowed and checkpoint is not None and checkpoint.city_exit
        if leaving or (p.kind == Kind.DRIVER and not answer.allowed):
            sampled = queries.negative_sample_at(p.holder_id, at)
            negative = rule.negative_within_48h(sampled, at)
            if leaving:
                home = p.holder.household.unit if p.holder_id else area
                answer = rule.check_exit(answer, low_risk=queries.low_risk(home, day), sampled_at=sampled,
                                         departure=at)
    flagged = p is not None and rule.driver_refusal_is_flag(kind=p.kind, answer=answer,
                                                            pass_valid=queries.pass_is_valid(p, answer),
                                                            negative_48h=negative)
    log = CheckLog(pass_ref=p, checkpoint=checkpoint, area=area, on=day, at=at, result=answer.result,
                   reason=answer.reason or "", flagged=flagged, officer=audit.actor_name(actor))
    log.set_scope_from(area)
    audit.check_text(reason, "reason")  # as audit.record refuses it (entry clips it)
    entry = audit.entry("pass.check", actor=actor, obj=log, object_type="pass_check",
                        object_repr=f"check {p.pk if p else 'invalid'} at {area.path}"[:400],
                        after={"pass": p.pk if p else None, "area": area.path, "result": answer.result,
                               "reason": answer.reason, "flagged": flagged}, reason=reason)
    if not flagged:
        audit.save_with_entry(log, entry)
        return log, answer
    with transaction.atomic():
        audit.save_with_entry(log, entry)
        v = guardrails.driver_refused(active_pack(day), pass_label=f"pass {p.pk}", area=area.path,
                                      reason=answer.reason or "")
        do_raise_flag(v, on=day, scope=area, actor=actor, reason=answer.reason or "")
    return log, answer
