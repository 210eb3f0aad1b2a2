"""Actions of the phone app: registering and revoking devices, recording a slice handed to a device, and the
sync that applies a phone's queued changes.

A sync applies each change through the same action the pages call (``screening.do_register_tube``,
``supplies.do_mark_delivered`` / ``do_mark_failed``, ``cases.do_record_checkin``, ``care.do_complete_task`` /
``do_create_request``, ``passes.do_check_pass``), inside ``audit.occurred(<the phone's time>)`` so its audit row
keeps when it was done and when it arrived. Within a chunk the tubes, the check-ins and the delivery outcomes go
through the batch forms of those actions (``screening.do_register_tubes``, ``cases.do_record_checkins``,
``supplies.do_mark_deliveries``: the same rules, rows and audit rows, one set of reads and writes for all; they
touch nothing the other kinds read), in the order the phone made them. Each change is stored (``Change``) with its result in the
transaction of its chunk (``CHUNK`` changes, their rows inserted together): a change sent again returns the
stored result and writes nothing, so a batch may be resent whole or in part. Written rules for conflicts
(nothing silently dropped, every change gets a result):

- a tube whose barcode, or one of whose people, is registered in the round already: ``duplicate``;
- a delivery outcome for a delivery already given the same outcome: ``duplicate``; for one closed otherwise since
  (failed, delivered by someone else): kept (the change and an audit row ``phone.flag``) and ``flagged``;
- a delivery confirmed for a household whose sealing ended (its designation lifted or closed): applied and
  ``flagged``; likewise a check-in for an order released since;
- a care visit already done: ``duplicate``; a pass the server's re-check refuses: applied (the check is logged)
  and ``flagged``;
- anything invalid, out of the jurisdiction or beyond the user's roles: ``rejected`` with field and reason,
  nothing written but the stored result.
"""
from __future__ import annotations

import base64
import datetime as dt
import secrets
import uuid

from django.db import IntegrityError, connection, transaction
from django.utils.translation import gettext as _

from cordon.core import access, audit, clock, rows
from cordon.core.actions import ActionError, Conflict
from cordon.core.models import AuditEntry

from . import queries
from .models import Change, Device, Kind, Status

#: how far ahead of the server's clock a phone's time may be, and how old a queued change may be
SKEW = dt.timedelta(minutes=5)
MAX_AGE = dt.timedelta(days=7)
#: changes per sync request
MAX_CHANGES = 1000


def _place(user):
    """Where the user's phone rows go in the audit log: the first area their phone grants cover (None for a
    city-wide grant)."""
    return next((g.area for g in queries.phone_grants(user) if g.area_id is not None), None)


def _new_key() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).rstrip(b"=").decode("ascii")


@transaction.atomic
def do_register_device(user, name: str, *, actor=None, reason: str = "") -> Device:
    """A new device for ``user`` with a fresh slice key, valid ``queries.DEVICE_HOURS`` hours."""
    name = audit.check_text((name or "").strip(), "name", 80)
    if not name:
        raise ActionError(_("a name for the device is required"), field="name")
    if not access.has_perm(user, access.PHONE_USE):
        raise access.Forbidden
    now = clock.now()
    d = Device.objects.create(user=user, name=name, key=_new_key(), created=now,
                              expires_at=now + dt.timedelta(hours=queries.DEVICE_HOURS))
    audit.record("phone.device.register", actor=actor or user, obj=d, object_type="device",
                 after={"user": user.get_username(), "name": name, "expires_at": d.expires_at}, reason=reason,
                 scope=_place(user))
    return d


@transaction.atomic
def do_revoke_devices(user, *, reason: str, actor=None, device: Device | None = None) -> int:
    """Revoke the user's devices (or only ``device``): each phone wipes its slice and key at its next contact.
    Logging out, locking or deactivating the account call this. Returns how many were revoked (0: nothing
    written)."""
    qs = queries.live_devices(user)
    if device is not None:
        qs = qs.filter(pk=device.pk)
    revoked = [str(i) for i in qs.select_for_update().values_list("pk", flat=True)]
    if not revoked:
        return 0
    Device.objects.filter(pk__in=revoked).update(revoked_at=clock.now(), revoked_reason=(reason or "")[:200])
    audit.record("phone.device.revoke", actor=actor or "system", object_type="user", object_id=user.pk,
                 object_repr=f"user {user.pk}", after={"user": user.get_username(), "devices": revoked},
                 reason=reason or "", scope=_place(user))
    return len(revoked)


@transaction.atomic
def do_record_slice(device: Device, counts: dict, *, actor) -> Device:
    """A slice handed to ``device``: when the device was last seen, and an audit row saying how many masked
    records left for the phone (personal data kept offline: minimum necessary, accounted for)."""
    now = clock.now()
    Device.objects.filter(pk=device.pk).update(last_seen=now)
    device.last_seen = now
    audit.record("phone.slice", actor=actor, obj=device, object_type="device", after=counts,
                 scope=_place(device.user))
    return device


# ------------------------------------------------------------------------------------------ sync


class _Outcome(Exception):
    """A change's result other than ``applied`` (raised out of its savepoint, so nothing of it is kept)."""

    def __init__(self, status: str, message: str, field: str = ""):
        super().__init__(message)
        self.status, self.message, self.field = status, message, field


def _flag(message: str, record=None):
    """A change applied but needing a person (its result ``flagged``)."""
    return Status.FLAGGED, message, record


def _int(data: dict, name: str) -> int:
    v = data.get(name)
    if not isinstance(v, int) or isinstance(v, bool) or not (0 < v < 2**63):
        raise ActionError(_("an id is required"), field=name)
    return v


def _text(data: dict, name: str, limit: int, *, required: bool = False) -> str:
    v = data.get(name, "")
    if v is None:
        v = ""
    if not isinstance(v, str) or "\x00" in v:
        raise ActionError(_("must be text"), field=name)
    v = audit.check_text(v.strip(), name, limit)
    if required and not v:
        raise ActionError(_("this field is required"), field=name)
    return v


def _tube_round(data, user, ctx):
    """The tube's round (its write access checked once per sync: a refusal, NotFound or Forbidden, is kept and
    raised again for the next tube of that round) and its barcode as text."""
    from cordon.screening.queries import access_round

    rid = _int(data, "round")
    rounds = ctx.setdefault("rounds", {})
    if rid not in rounds:
        try:
            rounds[rid] = access_round(user, rid, write=True)
        except (access.NotFound, access.Forbidden) as exc:
            rounds[rid] = exc
    if isinstance(rounds[rid], Exception):
        raise type(rounds[rid])
    return rounds[rid], _text(data, "barcode", 32, required=True)


def _tube_outcome(r, s):
    """A tube's result from the action's answer (a ``Sample`` or the refusal it raised)."""
    from cordon.screening.actions import DuplicateTube

    if isinstance(s, DuplicateTube):
        raise _Outcome(Status.DUPLICATE, str(s), s.field)
    if isinstance(s, Exception):
        raise s
    return Status.APPLIED, "", {"type": "sample", "id": s.pk, "round": r.pk, "barcode": s.barcode}, s.place


def _apply_tube(data, user, at, ctx):
    from cordon.screening.actions import DuplicateTube, do_register_tube

    r, barcode = _tube_round(data, user, ctx)
    try:
        s = do_register_tube(r, barcode=barcode, residents=data.get("residents"), sampled_at=at, actor=user,
                             reason=_("registered on a phone"), round_checked=True)
    except DuplicateTube as exc:
        s = exc
    return _tube_outcome(r, s)


def _ended(ctx: dict, allocations) -> dict:
    """Which of these allocations' sealings have ended (their designation lifted or closed), each read once per
    sync (``ctx["ended"]``: allocation id -> bool)."""
    from cordon.supplies.queries import sealing_ended

    ended = ctx.setdefault("ended", {})
    new = {a for a in allocations if a is not None and a not in ended}
    if new:
        gone = sealing_ended(new)
        ended.update({a: a in gone for a in new})
    return ended


def _delivery_input(data, user, ctx):
    """A delivery outcome's order, delivered (bool) and reason; the order read once per chunk when ``ctx`` has the
    chunk's ``deliveries`` (NotFound outside what the user may read, then Forbidden without
    ``supplies.deliver`` on it)."""
    from cordon.supplies.queries import confirmable

    delivered = data.get("delivered")
    if not isinstance(delivered, bool):
        raise ActionError(_("must be true or false"), field="delivered")
    reason = _text(data, "reason", 200, required=not delivered)
    pk, orders = _int(data, "order"), ctx.get("deliveries")
    o = confirmable(user).filter(pk=pk).first() if orders is None else orders.get(pk)
    if o is None:
        raise access.NotFound
    if not ctx.setdefault("deliver", access.scope_for(user, access.SUPPLIES_DELIVER)).contains(o):
        raise access.Forbidden
    return o, delivered, reason


def _delivery_outcome(o, delivered: bool, got, user, at, ctx):
    """A delivery change's result from the action's answer (the order, or the refusal it returned or raised): an
    outcome the order already has is a duplicate; one closed otherwise meanwhile is kept for review (an audit row
    ``phone.flag``) and flagged; a delivery into a sealing that has ended is applied and flagged."""
    from cordon.supplies.actions import DeliveryClosed
    from cordon.supplies.models import DeliveryStatus

    want = DeliveryStatus.DELIVERED if delivered else DeliveryStatus.FAILED
    if isinstance(got, DeliveryClosed):
        if got.status == want:
            raise _Outcome(Status.DUPLICATE, _("this delivery is already %(status)s") % {"status": got.status_label})
        # the office closed it otherwise meanwhile: the phone's outcome is kept (the change) and flagged
        audit.record("phone.flag", actor=user, obj=o, object_type="delivery",
                     after={"phone": want, "server": got.status, "at": at}, reason=_("delivery outcome from a phone "
                                                                                     "conflicts with the record"))
        return (*_flag(_("kept for review: the delivery was already %(status)s") % {"status": got.status_label},
                       {"type": "delivery", "id": o.pk, "status": got.status}), o)
    if isinstance(got, Exception):
        raise got
    record = {"type": "delivery", "id": o.pk, "status": got.status}
    if delivered and _ended(ctx, [o.allocation_id]).get(o.allocation_id):
        return (*_flag(_("applied; the household's sealing had ended: check it was needed"), record), o)
    return Status.APPLIED, "", record, o


def _apply_delivery(data, user, at, ctx):
    from cordon.supplies.actions import DeliveryClosed, do_mark_delivered, do_mark_failed

    o, delivered, reason = _delivery_input(data, user, ctx)
    try:
        got = do_mark_delivered(o, actor=user) if delivered else do_mark_failed(o, reason=reason, actor=user)
    except DeliveryClosed as exc:
        got = exc
    return _delivery_outcome(o, delivered, got, user, at, ctx)


def _checkin_input(data, user, ctx):
    """A check-in's temperature, symptoms and order (read once per chunk when ``ctx`` has the chunk's
    ``orders``, as ``access.access`` reads it: NotFound, then Forbidden)."""
    from decimal import Decimal, InvalidOperation

    from cordon.cases.models import PersonOrder

    t = data.get("temperature")
    if t is not None:
        try:
            t = Decimal(str(t)).quantize(Decimal("0.1")) if not isinstance(t, bool) else None
        except (InvalidOperation, ValueError):
            t = None
        if t is None or not (Decimal("30") <= t <= Decimal("45")):
            raise ActionError(_("a temperature between 30 and 45 °C"), field="temperature")
    symptoms = _text(data, "symptoms", 200)
    pk, orders = _int(data, "order"), ctx.get("orders")
    if orders is None:
        return t, symptoms, access.access(PersonOrder, user, pk, perm=access.CASES_WRITE, read=access.READ_HEALTH)
    if pk not in orders:
        raise access.NotFound
    if not ctx.setdefault("cases_write", access.scope_for(user, access.CASES_WRITE)).contains(orders[pk]):
        raise access.Forbidden
    return t, symptoms, orders[pk]


def _checkin_outcome(o, c):
    from cordon.cases.models import OrderStatus

    record = {"type": "checkin", "id": c.pk, "order": o.pk, "on": c.on.isoformat()}
    if o.status != OrderStatus.ACTIVE:
        return (*_flag(_("applied; the order had ended (%(status)s)") % {"status": o.get_status_display()}, record),
                o)
    return Status.APPLIED, "", record, o


def _apply_checkin(data, user, at, ctx):
    from cordon.cases.actions import do_record_checkin

    t, symptoms, o = _checkin_input(data, user, ctx)
    c = do_record_checkin(o, on=at.astimezone(clock.tz()).date(), temperature=t, symptoms=symptoms, actor=user)
    return _checkin_outcome(o, c)


def _apply_visit(data, user, at, ctx):
    from cordon.care import perms
    from cordon.care.actions import do_complete_task
    from cordon.care.models import ProactiveTask

    note = _text(data, "note", 300)
    t = perms.access_write(ProactiveTask, user, _int(data, "task"), perms.DISPATCH, read=access.READ_PERSONAL)
    try:
        t = do_complete_task(t, actor=user, reason=note)
    except Conflict as exc:
        raise _Outcome(Status.DUPLICATE, str(exc), exc.field) from None
    return Status.APPLIED, "", {"type": "care_task", "id": t.pk}, t


def _apply_care_request(data, user, at, ctx):
    from cordon.care import perms
    from cordon.care.actions import do_create_request
    from cordon.care.models import Source
    from cordon.places.models import Area, Resident

    need = _text(data, "need", 300, required=True)
    urgency = _text(data, "urgency", 12)
    r = access.access(Resident, user, _int(data, "resident"), read=access.READ_PERSONAL)
    if not perms.can_write(user, perms.CREATE, r):
        raise access.Forbidden
    req = do_create_request(person="", resident=r, area=Area.objects.get(pk=r.unit_id), need=need, urgency=urgency,
                            source=Source.COMMUNITY, actor=user)
    return Status.APPLIED, "", {"type": "care_request", "id": req.pk, "ref": req.ref}, req


def _apply_pass_check(data, user, at, ctx):
    from cordon.passes.actions import do_check_pass
    from cordon.places.models import Area

    token = _text(data, "token", 2000, required=True)
    area = access.access(Area, user, _int(data, "checked_at_area"), perm=access.PASSES_CHECK)
    log, answer = do_check_pass(token=token, area=area, at=at, actor=user, reason=_("checked offline on a phone"))
    record = {"type": "pass_check", "id": log.pk, "result": answer.result, "reason": answer.reason or ""}
    if not answer.allowed:
        return (*_flag(_("the server's re-check refuses this pass: %(reason)s")
                       % {"reason": answer.reason or answer.result}, record), log)
    return Status.APPLIED, "", record, log


APPLY = {Kind.TUBE: _apply_tube, Kind.DELIVERY: _apply_delivery, Kind.CHECKIN: _apply_checkin,
         Kind.VISIT: _apply_visit, Kind.CARE_REQUEST: _apply_care_request, Kind.PASS_CHECK: _apply_pass_check}


def _moment(text) -> dt.datetime:
    if not isinstance(text, str):
        raise ActionError(_("must be a date and time (ISO 8601)"), field="at")
    try:
        at = dt.datetime.fromisoformat(text)
    except ValueError:
        raise ActionError(_("must be a date and time (ISO 8601)"), field="at") from None
    if at.tzinfo is None:
        raise ActionError(_("the time needs its offset (e.g. +08:00)"), field="at")
    now = clock.now()
    if at > now + SKEW:
        raise ActionError(_("in the future (the phone's clock is wrong?)"), field="at")
    if at < now - MAX_AGE:
        raise ActionError(_("older than 7 days: enter it on the pages with a reason"), field="at")
    return at


def _rejected(change_id, message: str, field: str = "") -> dict:
    text = f"{field}: {message}" if field else message
    return {"id": change_id, "status": Status.REJECTED, "message": text[:400], "record": None}


def _stored(cid: uuid.UUID, user, seen: Change | None = None) -> dict:
    seen = seen or Change.objects.filter(pk=cid).first()
    if seen is None or seen.user_id != user.pk:
        return _rejected(str(cid), _("this change id was used before by another account"), "id")
    return seen.result()


def _new(device: Device, batch: uuid.UUID, raw, user, seen: dict) -> tuple[dict | Change | None, Change | None]:
    """``(answer, None)`` for a change malformed or seen before (``seen``: read once per sync, or earlier in this
    sync: then the answer is that ``Change``, its result read when the chunk is done), else ``(None, change)``:
    its new ``Change`` row (not saved, no result yet)."""
    if not isinstance(raw, dict):
        return _rejected(None, _("must be a JSON object")), None
    cid = raw.get("id")
    try:
        cid = uuid.UUID(str(cid)) if isinstance(cid, str) else None
    except ValueError:
        cid = None
    if cid is None:
        return _rejected(raw.get("id") if isinstance(raw.get("id"), str) else None,
                         _("a change needs its id (a UUID made on the phone)"), "id"), None
    if str(cid) in seen:
        earlier = seen[str(cid)]
        return (earlier if earlier._state.adding else _stored(cid, user, earlier)), None
    data = raw.get("data")
    now = clock.now()
    return None, Change(id=cid, device=device, user=user, batch=batch, kind=str(raw.get("kind"))[:16], received=now,
                        at=now, data=data if isinstance(data, dict) else {})


def _one(device: Device, batch: uuid.UUID, raw, user, seen: dict, ctx: dict) -> dict:
    """Apply one change in a savepoint of its own and insert it (the retry path, see ``_chunk``); a change seen
    before, or stored meanwhile by a concurrent sync (the insert of its id fails), answers its stored result.
    ``ctx`` keeps what one sync reads once (rounds checked, sealings ended)."""
    answer, change = _new(device, batch, raw, user, seen)
    if change is None:
        return answer.result() if isinstance(answer, Change) else answer
    try:
        with transaction.atomic():
            _apply(change, raw.get("kind"), raw.get("data"), raw, user, ctx)
            change.save(force_insert=True)
    except IntegrityError:  # the same id stored meanwhile (a concurrent sync, or twice in this batch)
        return _stored(change.pk, user)
    seen[str(change.pk)] = change
    return change.result()


def _checked(change: Change, kind, data, raw) -> None:
    """A change's own checks before its action: its kind, its data, its time (set on ``change``)."""
    if kind not in APPLY:
        raise ActionError(_("must be one of: %(kinds)s") % {"kinds": ", ".join(APPLY)}, field="kind")
    if not isinstance(data, dict):
        raise ActionError(_("must be a JSON object"), field="data")
    change.at = _moment(raw.get("at"))


def _settle(change: Change, fn, *args) -> None:
    """Set ``change``'s result from what ``fn(*args)`` returns ((status, message, record, place)) or raises; when
    it returns None the change waits for its batch (its result is settled later)."""
    try:
        got = fn(*args)
        if got is None:
            return
        status, message, record, place = got
    except _Outcome as exc:
        status, message, record, place = exc.status, exc.message, None, None
    except ActionError as exc:
        status, record, place = Status.REJECTED, None, None
        message = f"{exc.field}: {exc}" if exc.field else str(exc)
    except access.NotFound:
        status, message, record, place = Status.REJECTED, _("not found in your jurisdiction"), None, None
    except access.Forbidden:
        status, message, record, place = Status.REJECTED, _("your roles do not allow this here"), None, None
    change.status, change.message, change.record = status, message[:400], record
    if place is not None and hasattr(place, "district_id"):
        change.set_scope_from(place)


def _apply(change: Change, kind, data, raw, user, ctx: dict) -> None:
    """Apply one change through its action and set its result on ``change`` (not saved). Each action is atomic
    itself (its savepoint undoes it when it refuses); the checks before it write nothing, so a refused change
    leaves nothing but its stored result."""
    def run():
        _checked(change, kind, data, raw)
        with audit.occurred(change.at):
            return APPLY[kind](data, user, change.at, ctx)

    _settle(change, run)


class _Retry(Exception):
    """The fast path met a concurrent sync: the chunk is undone and done again change by change."""


def _queue_tube(change: Change, data, raw, user, ctx: dict, tubes: dict) -> None:
    _checked(change, Kind.TUBE, data, raw)
    r, barcode = _tube_round(data, user, ctx)
    tubes.setdefault(r.pk, (r, []))[1].append((change, barcode, data.get("residents")))


def _register_tubes(tubes: dict, user) -> None:
    """The chunk's tubes, round by round, through ``screening.do_register_tubes`` (one set of reads and writes
    for all; the same rules, rows and audit as ``do_register_tube`` per change), each change's result set."""
    from cordon.screening.actions import do_register_tubes

    for r, queued in tubes.values():
        try:
            got = do_register_tubes(r, [{"barcode": b, "residents": people, "sampled_at": c.at, "occurred": c.at}
                                        for c, b, people in queued],
                                    actor=user, reason=_("registered on a phone"), round_checked=True)
        except ActionError:  # people registered by a concurrent sync meanwhile (the round's bitmaps)
            raise _Retry from None
        for (c, _b, _p), s in zip(queued, got):
            _settle(c, _tube_outcome, r, s)


def _queue_checkin(change: Change, data, raw, user, ctx: dict, checkins: list) -> None:
    _checked(change, Kind.CHECKIN, data, raw)
    checkins.append((change, *_checkin_input(data, user, ctx)))


def _record_checkins(checkins: list, user, writes=None) -> list:
    """The chunk's check-ins through ``cases.do_record_checkins`` (one insert-or-update, one audit insert; with
    ``writes``, part of the caller's one statement), each change's result set; returns their ``CheckIn`` rows."""
    from cordon.cases.actions import do_record_checkins

    if not checkins:
        return []
    got = do_record_checkins([{"order": o, "on": c.at.astimezone(clock.tz()).date(), "temperature": t,
                               "symptoms": symptoms, "occurred": c.at} for c, t, symptoms, o in checkins],
                             actor=user, writes=writes)
    for (c, _t, _s, o), row in zip(checkins, got):
        _settle(c, _checkin_outcome, o, row)
    return got


def _chunk_ids(raws: list, kind: str, key: str) -> list[int]:
    """The ids the chunk's changes of ``kind`` name in ``data[key]`` (the well-formed ones)."""
    wanted = {r["data"].get(key) for r in raws if isinstance(r, dict) and r.get("kind") == kind
              and isinstance(r.get("data"), dict)}
    return [x for x in wanted if isinstance(x, int) and not isinstance(x, bool) and 0 < x < 2**63]


def _chunk_orders(raws: list, user) -> dict:
    """The home orders the chunk's check-ins name, read once (what the user may read of them: by their keys, then
    ``Scope.contains``, as ``access.access`` reads one)."""
    from cordon.cases.models import PersonOrder

    return access.scoped_by_pks(PersonOrder, user, _chunk_ids(raws, Kind.CHECKIN, "order"), access.READ_HEALTH)


def _chunk_deliveries(raws: list, user) -> dict:
    """The delivery orders the chunk's delivery outcomes name, read once (what the user may read to confirm)."""
    from cordon.supplies.queries import confirmable

    wanted = _chunk_ids(raws, Kind.DELIVERY, "order")
    if not wanted:  # no delivery outcome in the chunk: nothing to read (nor a query to build)
        return {}
    return {o.pk: o for o in confirmable(user).filter(pk__in=wanted).order_by()}


def _queue_delivery(change: Change, data, raw, user, ctx: dict, deliveries: list) -> None:
    _checked(change, Kind.DELIVERY, data, raw)
    deliveries.append((change, *_delivery_input(data, user, ctx)))


def _mark_deliveries(deliveries: list, user, ctx: dict) -> None:
    """The chunk's delivery outcomes through ``supplies.do_mark_deliveries`` (one locking read, one update, one
    audit insert), each change's result set as the per-change path sets it (in its ``audit.occurred``)."""
    from cordon.supplies.actions import do_mark_deliveries

    if not deliveries:
        return
    got = do_mark_deliveries([{"order": o, "delivered": d, "reason": "" if d else r, "occurred": c.at}
                              for c, o, d, r in deliveries], actor=user)
    _ended(ctx, {o.allocation_id for (_c, o, d, _r), g in zip(deliveries, got) if d and not isinstance(g, Exception)})
    for (c, o, d, _r), g in zip(deliveries, got):
        with audit.occurred(c.at):
            _settle(c, _delivery_outcome, o, d, g, user, c.at, ctx)


def _fast(device: Device, batch: uuid.UUID, raws: list, user, seen: dict, ctx: dict) -> tuple[list, list[Change]]:
    """The chunk's changes applied in order, the tubes, the check-ins and the delivery outcomes together at the
    end (each touches nothing the other kinds read); returns their results and the new ``Change`` rows (inserted
    by the caller)."""
    results: list = []
    pending: list[Change] = []
    queued: dict = {Kind.TUBE: {}, Kind.CHECKIN: [], Kind.DELIVERY: []}
    # this chunk's only: the per-change path reads each order itself
    ctx["orders"], ctx["deliveries"] = _chunk_orders(raws, user), _chunk_deliveries(raws, user)
    try:
        _walk(device, batch, raws, user, seen, ctx, results, pending, queued)
    finally:
        del ctx["orders"], ctx["deliveries"]
    _register_tubes(queued[Kind.TUBE], user)
    _record_checkins(queued[Kind.CHECKIN], user)
    _mark_deliveries(queued[Kind.DELIVERY], user, ctx)
    return [x.result() if isinstance(x, Change) else x for x in results], pending


#: the kinds whose changes are checked and queued for their batch action
QUEUE = {Kind.TUBE: _queue_tube, Kind.CHECKIN: _queue_checkin, Kind.DELIVERY: _queue_delivery}


def _walk(device, batch, raws, user, seen, ctx, results, pending, queued) -> None:
    """Each change of the chunk in order: answered (seen before, malformed), applied, or checked and queued
    (``QUEUE``: tubes, check-ins, delivery outcomes) for the batch actions; its ``Change`` row and its place in
    the results kept."""
    for raw in raws:
        answer, change = _new(device, batch, raw, user, seen)
        if change is None:
            results.append(answer)
            continue
        kind, data = raw.get("kind"), raw.get("data")
        if kind in QUEUE:
            _settle(change, QUEUE[kind], change, data, raw, user, ctx, queued[kind])
        else:
            _apply(change, kind, data, raw, user, ctx)
        pending.append(change)
        seen[str(change.pk)] = change
        results.append(change)


#: changes committed together: a lost connection keeps the chunks before it
CHUNK = 100


def _chunk(device: Device, batch: uuid.UUID, raws: list, user, seen: dict, ctx: dict, finish=None) -> list[dict]:
    """One chunk in one transaction (``_fast``): its changes applied, their ``Change`` rows inserted together at
    its end. When an insert fails (an id stored meanwhile by a concurrent sync) or a concurrent sync registered
    some of its tubes' people meanwhile, the whole chunk is undone and done again with a savepoint and an insert
    per change, which answers such a change its stored result or its refusal (the fast path and the retry give
    the same results). ``finish(results)``, when given, runs last in the chunk's transaction."""
    before = dict(seen)
    try:
        with transaction.atomic():
            results, pending = _fast(device, batch, raws, user, seen, ctx)
            Change.objects.bulk_create(pending)
            if finish:
                finish(results)
        return results
    except (IntegrityError, _Retry):
        seen.clear()
        seen.update(before)
    with transaction.atomic():
        results = [_one(device, batch, raw, user, seen, ctx) for raw in raws]
        if finish:
            finish(results)
        return results


def _seen_now(device: Device):
    """The moment to write as the device's last contact, None when the one it has is recent enough
    (``Device.SEEN_EVERY``: a phone syncing every few seconds does not rewrite its row each time)."""
    now = clock.now()
    if device.last_seen is not None and now - device.last_seen < Device.SEEN_EVERY:
        return None
    device.last_seen = now
    return now


def _sync_entry(device: Device, batch, results: list[dict], actor):
    """The sync's audit row ``phone.sync`` (how many of each result), unsaved."""
    counts: dict[str, int] = {}
    for r in results:
        counts[r["status"]] = counts.get(r["status"], 0) + 1
    return audit.entry("phone.sync", actor=actor, obj=device, object_type="device",
                       after={"batch": str(batch), "changes": len(results), **counts}, scope=_place(actor))


def _synced(device: Device, batch, results: list[dict], actor) -> None:
    """The sync's own record: when the device was last seen (``_seen_now``), and the audit row ``phone.sync``."""
    now = _seen_now(device)
    if now is not None:
        Device.objects.filter(pk=device.pk).update(last_seen=now)
    _sync_entry(device, batch, results, actor).save()


def _then_synced(device: Device, batch, earlier: list[dict], actor):
    return lambda last: _synced(device, batch, earlier + last, actor)


def _at_once(device: Device, batch, raws: list, user, seen: dict) -> list[dict] | None:
    """A small sync of check-ins on PostgreSQL (one chunk, every change a check-in): the same checks and results
    as ``_chunk``, and its writes (the check-ins' insert-or-update and their audit rows, the ``Change`` rows, the
    device's last contact, the sync's audit row) as ONE statement (``core.rows.Writes``; outside a transaction,
    so no BEGIN and COMMIT: 200 workers syncing at once). None, with nothing written, when that statement fails
    on a change id stored meanwhile (a concurrent sync): the caller then takes ``_chunk``'s way."""
    before = dict(seen)
    ctx: dict = {"orders": _chunk_orders(raws, user)}
    results: list = []
    pending: list[Change] = []
    queued: dict = {Kind.CHECKIN: []}
    _walk(device, batch, raws, user, seen, ctx, results, pending, queued)
    writes = rows.Writes(connection)
    checkins = queued[Kind.CHECKIN]
    got = _record_checkins(checkins, user, writes)
    at = {id(c): i for i, c in enumerate(pending)}
    record = ("(SELECT jsonb_build_object('type', 'checkin', 'id', k.id, 'order', k.order_id, 'on', "
              "to_char(k.on, 'YYYY-MM-DD')) FROM checkins k WHERE k.order_id = %s AND k.on = %s)")
    exprs = {}
    for (c, _t, _s, o), row in zip(checkins, got):
        if c.record is not None:  # its check-in's id comes from the insert-or-update
            exprs[at[id(c)]] = {"record": (record, [o.pk, row.on])}
    if pending:
        writes.insert("changes", Change, pending, exprs=exprs)
    last, now = device.last_seen, _seen_now(device)
    if now is not None:
        qn, pk, seen_f = connection.ops.quote_name, Device._meta.pk, Device._meta.get_field("last_seen")
        writes.add("device", f"UPDATE {qn(Device._meta.db_table)} SET {qn(seen_f.column)} = %s "
                   f"WHERE {qn(pk.column)} = %s",
                   [seen_f.get_db_prep_save(now, connection), pk.get_db_prep_save(device.pk, connection)])
    answers = [x.result() if isinstance(x, Change) else x for x in results]
    writes.insert("sync_audit", AuditEntry, [_sync_entry(device, batch, answers, user)])
    try:
        with rows.alone_or_savepoint(connection):
            writes.execute()
    except IntegrityError:
        seen.clear()
        seen.update(before)
        device.last_seen = last
        return None
    for (c, _t, _s, _o), row in zip(checkins, got):
        if c.record is not None:
            c.record["id"] = row.pk
    for c in pending:
        c._state.adding, c._state.db = False, connection.alias
    return [x.result() if isinstance(x, Change) else x for x in results]


def do_sync(device: Device, *, batch, changes: list, actor) -> list[dict]:
    """Apply a batch of a phone's changes, committed ``CHUNK`` at a time (see ``_chunk`` and the module's
    rules); returns one result per change, in order. The sync itself is audited (``phone.sync``: how many of
    each result) in the transaction of its last chunk (one commit for a small sync)."""
    if not isinstance(changes, list):
        raise ActionError(_("must be a list"), field="changes")
    if len(changes) > MAX_CHANGES:
        raise ActionError(_("at most %(n)s changes per sync") % {"n": MAX_CHANGES}, field="changes")
    ids_ = []
    for raw in changes:
        try:
            ids_.append(uuid.UUID(raw["id"]))
        except (TypeError, KeyError, ValueError, AttributeError):
            pass
    seen = queries.change_results(ids_)
    if connection.vendor == "postgresql" and 0 < len(changes) <= CHUNK and all(
            isinstance(raw, dict) and raw.get("kind") == Kind.CHECKIN for raw in changes):
        done = _at_once(device, batch, changes, actor, seen)
        if done is not None:
            return done
    results: list[dict] = []
    ctx: dict = {}
    for i in range(0, len(changes), CHUNK):
        finish = _then_synced(device, batch, list(results), actor) if i + CHUNK >= len(changes) else None
        results += _chunk(device, batch, changes[i:i + CHUNK], actor, seen, ctx, finish)
    if not changes:
        with transaction.atomic():
            _synced(device, batch, results, actor)
    return results
