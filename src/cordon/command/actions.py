"""Actions on command orders (指令): send (fan out to every executing unit at once), revise, withdraw; a
recipient's read receipt, acknowledgement (已签收), progress and completion; the escalation of recipients that
have not acknowledged in time or are past the deadline.

Who may: sending, revising and withdrawing need ``orders.send`` over every addressed unit (an order never
reaches outside the sender's jurisdiction); a recipient's reports need ``orders.receive`` over the recipient
unit (a named person: that person). Every change writes its audit row; a fan-out writes one audit row for
the order (its recipients counted and listed by area id) and inserts its recipients and notifications in
bulk. A recipient's status moves only forward (``models.PROGRESS``).
"""
from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _, gettext_lazy

from cordon.command.models import (OPEN_STATUSES, CommandOrder, OrderStatus, OrderVersion, Priority, Recipient,
                                   RecipientStatus as RS)
from cordon.command.queries import receive_roles, recipient_users, superiors_of
from cordon.core import access, audit, bulk, clock, notify, stamps
from cordon.core.actions import ActionError, lock, serialize
from cordon.core.models import AuditEntry, Grant
from cordon.places.models import Area

#: How long a unit has to acknowledge an order of each priority before it is escalated to its superior.
ACK_WITHIN = {Priority.CRITICAL: dt.timedelta(minutes=30), Priority.URGENT: dt.timedelta(hours=2),
              Priority.ROUTINE: dt.timedelta(hours=24)}
LEVEL_ORDER = ("district", "street", "community", "compound", "building", "unit")
REVISABLE = ("title", "text", "priority", "due", "basis")


def _user(actor):
    return None if actor is None or isinstance(actor, str) else actor


def _store(uploaded, folder: str) -> tuple[str, str]:
    """Keep an uploaded file (a notice PDF, a photo) under CORDON_HOME/<folder>/<random>/: (path, name)."""
    from cordon.core import uploads

    name = Path(getattr(uploaded, "name", "") or "file").name[:200] or "file"
    dest = Path(settings.HOME) / folder / uuid.uuid4().hex / name
    uploads.store(uploaded, dest)
    return str(dest), name


def _aware(when):
    """A deadline given without a time zone is the city's time."""
    if isinstance(when, dt.datetime) and when.tzinfo is None:
        return when.replace(tzinfo=clock.tz())
    return when


def _check_fields(title, text, priority, due, basis) -> None:
    if not (title or "").strip() or len(title) > 200:
        raise ActionError(_("a title of 1 to 200 characters is required"), field="title")
    if not (text or "").strip():
        raise ActionError(_("the order's text is required"), field="text")
    audit.check_text(text, "text", 10000)
    if priority not in Priority.values:
        raise ActionError(_("priority is one of %(v)s") % {"v": ", ".join(Priority.values)}, field="priority")
    if due is None:
        raise ActionError(_("a deadline is required"), field="due")
    if len(basis or "") > 400:
        raise ActionError(_("at most %(limit)s characters, got %(n)s") % {"limit": 400, "n": len(basis)},
                          field="basis")


def _out_of_reach(what: str) -> ActionError:
    return ActionError(_("%(what)s is outside your jurisdiction, or does not exist: orders go only to units "
                         "within it") % {"what": what}, field="to", rule="order-outside-jurisdiction")


def _target_areas(actor, scope: access.Scope, paths, level: str) -> list[dict]:
    """The recipient units: each addressed area (``"*"``: the whole city), fanned out to its areas of kind
    ``level`` when given. Refused whole when one is outside the sender's jurisdiction."""
    if level and level not in LEVEL_ORDER:
        raise ActionError(_("level is one of %(v)s") % {"v": ", ".join(LEVEL_ORDER)}, field="level")
    cols = ["id", "path", "kind", *(f"{lv}_id" for lv in LEVEL_ORDER)]
    out: dict[int, dict] = {}
    for raw in paths:
        p = str(raw).strip().strip("/")
        if p == "*":
            if not scope.everything:
                raise _out_of_reach(_("the whole city"))
            qs = Area.objects.filter(kind=level or "district")
        else:
            area = Area.objects.filter(path=p).first()
            if area is None or not scope.contains(area):
                raise _out_of_reach(p or "''")
            if not level or level == area.kind:
                qs = Area.objects.filter(pk=area.pk)
            elif LEVEL_ORDER.index(level) < LEVEL_ORDER.index(area.kind):
                raise ActionError(_("%(path)s is a %(kind)s: it has no %(level)s below it")
                                  % {"path": p, "kind": area.kind, "level": level}, field="level")
            else:
                qs = Area.objects.filter(kind=level, **access.within(area))
        for row in qs.values(*cols):
            out[row["id"]] = row
    return list(out.values())


def _target_users(scope: access.Scope, role: str, usernames, areas) -> dict[int, tuple[str, object]]:
    """user id -> (user name, grant area) for the named staff and the holders of ``role`` (within the addressed
    areas when some are given, else within the sender's jurisdiction); each must receive orders there."""
    out: dict[int, tuple[str, object]] = {}
    roles = receive_roles()
    if role:
        if role not in access.ROLE_CAPS:
            raise ActionError(_("unknown role %(role)s") % {"role": repr(role)}, field="role")
        if role not in roles:
            raise ActionError(_("the role %(role)s does not receive orders") % {"role": role}, field="role")
        for g in Grant.objects.filter(role=role).select_related("user", "area"):
            inside = (g.area is None and scope.everything) if g.area_id is None else scope.contains(g.area)
            if areas:
                inside = g.area is not None and any(
                    getattr(g.area, f"{a['kind']}_id") == a["id"] for a in areas)
            if inside and g.user.is_active:
                out.setdefault(g.user_id, (g.user.get_username(), g.area))
    for name in usernames:
        grants = [g for g in Grant.objects.filter(user__username=str(name).strip(), role__in=roles)
                  .select_related("user", "area")
                  if (scope.everything if g.area_id is None else scope.contains(g.area))]
        if not grants:
            raise _out_of_reach(str(name))
        out.setdefault(grants[0].user_id, (grants[0].user.get_username(), grants[0].area))
    return out


def _insert_recipients(order, areas, users) -> None:
    """The order's recipient rows: one per unit (its path as the label, its ancestors as its scope), one per
    named person (scoped as their grant), set-based (``core.bulk``: a city-wide fan-out is thousands of rows)."""
    people = []
    for uid, (name, area) in users.items():
        r = Recipient(order=order, user_id=uid, label=name)
        r.set_scope_from(area)
        people.append(r)
    columns = {"area_id": [a["id"] for a in areas], "user_id": [None] * len(areas),
               "label": [a["path"] for a in areas],
               **{f"{lv}_id": [a[f"{lv}_id"] for a in areas] for lv in LEVEL_ORDER}}
    for r in people:
        for k, values in columns.items():
            values.append(getattr(r, k))
    bulk.insert_columns(Recipient, columns, {"order_id": order.pk})


def _next_ref(on: dt.date) -> str:
    serialize("command.ref", on)
    prefix = f"O{on:%Y%m%d}-"
    n = CommandOrder.objects.filter(ref__startswith=prefix).count() + 1
    while CommandOrder.objects.filter(ref=f"{prefix}{n:04d}").exists():
        n += 1
    return f"{prefix}{n:04d}"


@transaction.atomic
def do_send_order(*, title: str, text: str, due, to=(), level: str = "", role: str = "", users=(),
                  priority: str = Priority.ROUTINE, basis: str = "", attachment=None, ref: str = "", actor,
                  reason: str = "") -> CommandOrder:
    """Send an order to the units at ``to`` (area paths; ``"*"`` the whole city) fanned out to their areas of
    kind ``level``, to the holders of ``role`` and to the named ``users``. Set-based: the recipients and their
    notifications are inserted in bulk; one audit row records the order and its recipients."""
    user = _user(actor)
    due = _aware(due)
    _check_fields(title, text, priority, due, basis)
    scope = (access.scope_for(user, access.ORDERS_SEND) if user is not None
             else access.Scope(True, {lv: frozenset() for lv in LEVEL_ORDER}))
    if scope.nothing:
        raise access.Forbidden
    to = [str(p) for p in (to or ()) if str(p).strip()]
    if not to and not role and not users:
        raise ActionError(_("address the order to at least one unit, role or person"), field="to")
    areas = _target_areas(user, scope, to, level)
    people = _target_users(scope, role, users or (), areas if to else [])
    if not areas and not people:
        raise ActionError(_("no unit or person matches what the order is addressed to"), field="to")
    now = clock.now()
    if due <= now:
        raise ActionError(_("the deadline must be later than now"), field="due")
    path, name = _store(attachment, "orders") if attachment is not None else ("", "")
    grant_area = None
    if user is not None:
        held = [g for g in access.grants_of(user) if access.role_has(g.role, access.ORDERS_SEND)]
        grant_area = None if any(g.area_id is None for g in held) else held[0].area
    order = CommandOrder(ref=(ref or _next_ref(clock.today()))[:40], title=title.strip(), text=text,
                         priority=priority, due=due, basis=basis or "", attachment=path, attachment_name=name,
                         targets={"to": to, "level": level, "role": role, "users": list(users or ())},
                         sender=user, sender_name=audit.actor_name(actor), created=now)
    if CommandOrder.objects.filter(ref=order.ref).exists():
        raise ActionError(_("an order %(ref)s exists already") % {"ref": order.ref}, field="ref")
    order.set_scope_from(grant_area)
    order.save()
    _version(order, now, actor, [], reason)
    _insert_recipients(order, areas, people)
    stamps.bump("command")
    notified = notify.emit(recipient_users(order), "order", gettext_lazy("New order %(ref)s (%(priority)s): %(title)s"),
                           {"ref": order.ref, "priority": Priority(priority).label, "title": order.title[:120]},
                           url=f"/orders/{order.pk}/", obj=order, object_type="order")
    audit.record("order.send", actor=actor, obj=order, object_type="order", scope=order, reason=reason,
                 rule=basis[:400] if basis else "",
                 after={"title": order.title, "priority": priority, "due": due, "targets": order.targets,
                        "recipients": len(areas) + len(people), "areas": [a["id"] for a in areas][:2000],
                        "users": sorted(people), "notified": notified, "attachment": name})
    return order


def _version(order, now, actor, changed, reason) -> None:
    OrderVersion.objects.create(order=order, version=order.version, at=now, by=audit.actor_name(actor),
                                title=order.title, text=order.text, priority=order.priority, due=order.due,
                                basis=order.basis, changed=changed, reason=reason or "")


def _check_sender(order, actor) -> None:
    user = _user(actor)
    if user is not None and not access.scope_for(user, access.ORDERS_SEND).contains(order):
        raise access.Forbidden
    if order.status == OrderStatus.WITHDRAWN:
        raise ActionError(_("order %(ref)s was withdrawn") % {"ref": order.ref}, field="order",
                          rule="order-withdrawn")


def _open_user_ids(order) -> list[int]:
    return recipient_users(order, Q(status__in=OPEN_STATUSES))


@transaction.atomic
def do_revise_order(order, *, actor, reason: str, **changes) -> CommandOrder:
    """Change an order's title, text, priority, deadline or basis: a new version (the old one kept), the
    open recipients notified of what changed. A reason is required (never silently)."""
    order = lock(order)
    _check_sender(order, actor)
    audit.require_reason(reason, _("a revision needs a reason"))
    unknown = set(changes) - set(REVISABLE)
    if unknown:
        raise ActionError(_("only %(v)s can be revised") % {"v": ", ".join(REVISABLE)}, field=sorted(unknown)[0])
    new = {k: getattr(order, k) for k in REVISABLE}
    new.update({k: _aware(v) for k, v in changes.items() if v is not None})
    _check_fields(new["title"], new["text"], new["priority"], new["due"], new["basis"])
    changed = [k for k in REVISABLE if new[k] != getattr(order, k)]
    if not changed:
        raise ActionError(_("nothing changed"), field="text")
    now = clock.now()
    if "due" in changed and new["due"] <= now:
        raise ActionError(_("the deadline must be later than now"), field="due")
    before = {k: getattr(order, k) for k in changed}
    for k in changed:
        setattr(order, k, new[k])
    order.version += 1
    order.save()
    _version(order, now, actor, changed, reason)
    if "due" in changed:  # a new deadline: an overdue unit is escalated again only when it passes that one
        Recipient.objects.filter(order=order, status__in=OPEN_STATUSES).update(due_escalated_at=None)
    notify.emit(_open_user_ids(order), "order_change",
                gettext_lazy("Order %(ref)s revised (version %(v)s): %(changed)s"),
                {"ref": order.ref, "v": order.version, "changed": ", ".join(changed)},
                url=f"/orders/{order.pk}/", obj=order, object_type="order")
    audit.record("order.revise", actor=actor, obj=order, object_type="order", scope=order, reason=reason,
                 before=before, after={**{k: new[k] for k in changed}, "version": order.version})
    return order


@transaction.atomic
def do_withdraw_order(order, *, actor, reason: str) -> CommandOrder:
    """Withdraw an order (with a reason): it stays on record, its open recipients are told."""
    order = lock(order)
    _check_sender(order, actor)
    audit.require_reason(reason, _("withdrawing an order needs a reason"))
    order.status, order.withdrawn_at, order.withdraw_reason = OrderStatus.WITHDRAWN, clock.now(), reason
    order.save(update_fields=["status", "withdrawn_at", "withdraw_reason"])
    notify.emit(_open_user_ids(order), "order_change", gettext_lazy("Order %(ref)s withdrawn: %(reason)s"),
                {"ref": order.ref, "reason": reason[:150]}, url=f"/orders/{order.pk}/", obj=order,
                object_type="order")
    audit.record("order.withdraw", actor=actor, obj=order, object_type="order", scope=order, reason=reason,
                 before={"status": OrderStatus.ACTIVE}, after={"status": OrderStatus.WITHDRAWN})
    return order


# ------------------------------------------------------------------------------------------ recipients

def _check_recipient(rec, actor) -> None:
    user = _user(actor)
    if user is not None:
        if rec.user_id is not None and rec.user_id != user.pk:
            raise access.Forbidden
        if rec.user_id is None and not access.scope_for(user, access.ORDERS_RECEIVE).contains(rec):
            raise access.Forbidden
    if rec.order.status == OrderStatus.WITHDRAWN:
        raise ActionError(_("order %(ref)s was withdrawn") % {"ref": rec.order.ref}, field="order",
                          rule="order-withdrawn")


def _advance(rec, to: str, actor, reason, **after) -> None:
    before = rec.status
    rec.status = to
    rec.save()
    stamps.bump("command")
    audit.record(f"order.{to}", actor=actor, obj=rec, object_type="order_recipient", scope=rec, reason=reason,
                 before={"status": before}, after={"status": to, **after})


@transaction.atomic
def do_read_order(rec, *, actor, reason: str = "") -> Recipient:
    """The read receipt: the first time the unit opens the order (and each new version it opens)."""
    rec = lock(rec)
    _check_recipient(rec, actor)
    if rec.read_version >= rec.order.version:
        return rec
    first = rec.read_at is None
    if first:
        rec.read_at = clock.now()
    rec.read_version = rec.order.version
    if rec.status == RS.SENT:
        _advance(rec, RS.READ, actor, reason, version=rec.read_version)
    else:
        rec.save(update_fields=["read_at", "read_version"])
        audit.record("order.read", actor=actor, obj=rec, object_type="order_recipient", scope=rec,
                     after={"version": rec.read_version})
    return rec


@transaction.atomic
def do_acknowledge_order(rec, *, actor, reason: str = "") -> Recipient:
    """已签收: the unit has the order and will carry it out."""
    rec = lock(rec)
    _check_recipient(rec, actor)
    if rec.status not in (RS.SENT, RS.READ):
        raise ActionError(_("this order is %(s)s here already") % {"s": rec.get_status_display()}, field="status",
                          rule="order-transition")
    now = clock.now()
    rec.read_at = rec.read_at or now
    rec.read_version = rec.order.version
    rec.acknowledged_at, rec.acknowledged_by = now, audit.actor_name(actor)
    _advance(rec, RS.ACKNOWLEDGED, actor, reason)
    return rec


def _working(rec, actor, text: str, field: str, limit: int, before_ack, empty) -> Recipient:
    """The recipient locked, checked (the actor's, acknowledged and not done) with ``text`` given."""
    rec = lock(rec)
    _check_recipient(rec, actor)
    if rec.status not in (RS.ACKNOWLEDGED, RS.IN_PROGRESS):
        raise ActionError(before_ack if rec.status != RS.DONE else _("this order is done here"), field="status",
                          rule="order-transition")
    if not (text or "").strip():
        raise ActionError(empty, field=field)
    audit.check_text(text, field, limit)
    return rec


@transaction.atomic
def do_report_progress(rec, *, note: str, actor, reason: str = "") -> Recipient:
    rec = _working(rec, actor, note, "note", 1000, _("acknowledge the order before reporting progress"),
                   _("say how far the work has got"))
    rec.progress_at, rec.progress_note = clock.now(), note
    _advance(rec, RS.IN_PROGRESS, actor, reason, note=note)
    return rec


@transaction.atomic
def do_complete_order(rec, *, evidence: str, numbers: dict | None = None, photo=None, actor,
                      reason: str = "") -> Recipient:
    """Done, with evidence: what was done (text), figures (name -> number) and a photo (kept under
    CORDON_HOME/orders/evidence/)."""
    rec = _working(rec, actor, evidence, "evidence", 4000, _("acknowledge the order before completing it"),
                   _("completion needs evidence: say what was done"))
    nums = {}
    for k, v in (numbers or {}).items():
        if not str(k).strip() or len(str(k)) > 60 or isinstance(v, bool) or not isinstance(v, (int, float)):
            raise ActionError(_("figures are names with numbers"), field="numbers")
        nums[str(k).strip()] = v
    if photo is not None:
        rec.evidence_photo = _store(photo, "orders/evidence")[0]
    rec.done_at, rec.evidence_text, rec.evidence_numbers = clock.now(), evidence, nums
    if rec.acknowledged_at is None:
        rec.acknowledged_at = rec.done_at
    _advance(rec, RS.DONE, actor, reason, evidence=evidence, numbers=nums, photo=bool(photo))
    return rec


# ------------------------------------------------------------------------------------------ escalation

@transaction.atomic
def do_escalate_orders(now=None, *, actor="system") -> dict:
    """Escalate each recipient of an active order that has not acknowledged within ``ACK_WITHIN`` of the
    sending (once), and each one not done by the deadline (once per deadline): its superior (the staff of the
    unit above it who receive orders) and the sender are notified, one notice per order and person; one
    audit row per escalated recipient."""
    now = now or clock.now()
    active = CommandOrder.objects.filter(status=OrderStatus.ACTIVE)
    unack = Q(status__in=(RS.SENT, RS.READ), ack_escalated_at__isnull=True)
    late = Q(status__in=OPEN_STATUSES, due_escalated_at__isnull=True, order__due__lt=now)
    window = Q()
    for prio, span in ACK_WITHIN.items():
        window |= Q(order__priority=prio, order__created__lte=now - span)
    rows = list(Recipient.objects.filter((unack & window) | late, order__in=active).select_related("order"))
    if not rows:
        return {"unacknowledged": 0, "overdue": 0}
    entries, notices = [], defaultdict(lambda: defaultdict(list))  # (order, why) -> user -> labels
    counts = {"unacknowledged": 0, "overdue": 0}
    for r in rows:
        whys = []
        if r.status in (RS.SENT, RS.READ) and r.ack_escalated_at is None and \
                r.order.created + ACK_WITHIN[r.order.priority] <= now:
            r.ack_escalated_at = now
            whys.append("unacknowledged")
        if r.due_escalated_at is None and r.order.due < now:
            r.due_escalated_at = now
            whys.append("overdue")
        for why in whys:
            counts[why] += 1
            entries.append(audit.entry("order.escalate", actor=actor, obj=r, object_type="order_recipient",
                                       scope=r, after={"why": why, "status": r.status}, rule=f"order-{why}"))
            for uid in {*superiors_of(r), r.order.sender_id}:
                if uid is not None:
                    notices[(r.order, why)][uid].append(r.label)
    Recipient.objects.bulk_update(rows, ["ack_escalated_at", "due_escalated_at"], batch_size=2000)
    AuditEntry.objects.bulk_create(entries)
    stamps.bump("command")
    texts = {"unacknowledged": gettext_lazy("Escalated: %(n)s units have not acknowledged order %(ref)s (%(units)s)"),
             "overdue": gettext_lazy("Escalated: %(n)s units are past the deadline of order %(ref)s (%(units)s)")}
    for (order, why), by_user in notices.items():
        by_count = defaultdict(list)
        for uid, labels in by_user.items():
            by_count[tuple(sorted(labels))].append(uid)
        for labels, uids in by_count.items():
            shown = ", ".join(lb.rsplit("/", 1)[-1] for lb in labels[:5]) + ("…" if len(labels) > 5 else "")
            notify.emit(uids, "escalation", texts[why], {"n": len(labels), "ref": order.ref, "units": shown},
                        url=f"/orders/{order.pk}/", obj=order, object_type="order")
    return counts
