"""Reads of command orders: the sender's list and status matrix, a unit's orders, who is told, the counts the
daily close, the scenario and the command screen show."""
from __future__ import annotations

from django.db.models import Count, Q

from cordon.command.models import OPEN_STATUSES, CommandOrder, OrderStatus, Recipient, RecipientStatus as RS
from cordon.core import access, clock
from cordon.core.models import Grant

LEVELS = access.LEVELS


def receive_roles() -> list[str]:
    """The roles that receive orders (``orders.receive`` in the access table)."""
    return [r for r in access.ROLE_CAPS if access.role_has(r, access.ORDERS_RECEIVE)]


def staff_roles() -> list[str]:
    """A unit's own staff: the roles that receive orders and do the jurisdiction's work (``write``)."""
    return [r for r in receive_roles() if access.role_has(r, access.WRITE)]


def recipient_users(order, q: Q | None = None) -> list[int]:
    """The user ids told of ``order``: the named recipients, and the staff whose grant is on a recipient unit
    (roles that receive orders). Two queries, whatever the count."""
    recs = Recipient.objects.filter(order=order)
    if q is not None:
        recs = recs.filter(q)
    named = recs.filter(user__isnull=False).values_list("user_id", flat=True)
    at_units = Grant.objects.filter(area_id__in=recs.filter(area__isnull=False).values("area_id"),
                                    role__in=receive_roles(), user__is_active=True).values_list("user_id", flat=True)
    return sorted({*named, *at_units})


def _unit_and_parent(rec) -> tuple[str | None, int | None]:
    """The recipient's own level and the id of the unit above it (None: the city)."""
    deepest = None
    for i, lv in enumerate(LEVELS):
        if getattr(rec, f"{lv}_id") is not None:
            deepest = i
    if deepest is None or deepest == 0:
        return (LEVELS[0] if deepest == 0 else None), None
    return LEVELS[deepest], getattr(rec, f"{LEVELS[deepest - 1]}_id")


def superiors_of(rec) -> set[int]:
    """The staff of the unit above the recipient's (the city's for a district), who hear of its escalation."""
    level, parent = _unit_and_parent(rec)
    if level is None:
        return set()
    return set(Grant.objects.filter(area_id=parent, role__in=staff_roles(), user__is_active=True)
               .values_list("user_id", flat=True))


def sent_orders(user):
    """The orders the user may follow as a sender (within their ``orders.send`` jurisdiction)."""
    return CommandOrder.objects.for_user(user, access.ORDERS_SEND)


def received(user, *, everything: bool = False):
    """The recipient rows of the user's unit(s): addressed to an area the user holds a grant on, or to the user;
    ``everything``: every recipient within the user's ``orders.receive`` jurisdiction."""
    qs = Recipient.objects.for_user(user, access.ORDERS_RECEIVE).select_related("order")
    if not everything:
        areas = [g.area_id for g in access.grants_of(user)
                 if access.role_has(g.role, access.ORDERS_RECEIVE) and g.area_id is not None]
        qs = qs.filter(Q(user=user) | Q(area_id__in=areas))
    return qs.order_by("-order__created", "label")


def status_of(rec, now=None) -> str:
    """sent | read | acknowledged | in_progress | done, or overdue (past the deadline, not done)."""
    now = now or clock.now()
    if rec.status != RS.DONE and rec.order.due < now:
        return "overdue"
    return rec.status


MATRIX_FILTERS = ("status", "text", "overdue")


def matrix(order, *, status: str = "", text: str = "", overdue: bool = False):
    """The order's recipients (rows of the status matrix), narrowed by status, a label text, overdue."""
    qs = Recipient.objects.filter(order=order)
    if status:
        qs = qs.filter(status=status)
    if text:
        qs = qs.filter(label__icontains=text)
    if overdue:
        qs = qs.exclude(status=RS.DONE).filter(order__due__lt=clock.now())
    return qs.order_by("label", "id")


def matrix_counts(order) -> dict:
    """Recipients per status (every status present, zeros included) and ``overdue``, ``total``."""
    counts = {s: 0 for s in RS.values}
    for row in Recipient.objects.filter(order=order).values("status").annotate(n=Count("id")):
        counts[row["status"]] = row["n"]
    counts["total"] = sum(counts[s] for s in RS.values)
    counts["overdue"] = (0 if order.due >= clock.now() else
                         counts["total"] - counts[RS.DONE])
    return counts


def open_by_status(q: Q | None = None) -> dict:
    """Recipients of active orders per status (the command screen)."""
    qs = Recipient.objects.filter(order__status=OrderStatus.ACTIVE)
    if q is not None:
        qs = qs.filter(q)
    counts = {s: 0 for s in RS.values}
    for row in qs.values("status").annotate(n=Count("id")):
        counts[row["status"]] = row["n"]
    counts["overdue"] = qs.filter(status__in=OPEN_STATUSES, order__due__lt=clock.now()).count()
    return counts


def day_counts(on, q: Q | None = None) -> dict:
    """The day's orders: sent that day (orders, recipients), recipients acknowledged that day, recipients overdue
    at the day's end (past the deadline, not done by then)."""
    import datetime as dt

    from django.utils import timezone

    start = timezone.make_aware(dt.datetime.combine(on, dt.time()))
    end = start + dt.timedelta(days=1)
    recs = Recipient.objects.filter(q) if q is not None else Recipient.objects.all()
    sent = recs.filter(order__created__gte=start, order__created__lt=end)
    return {
        "orders_sent": sent.values("order_id").distinct().count(),
        "recipients": sent.count(),
        "acknowledged": recs.filter(acknowledged_at__gte=start, acknowledged_at__lt=end).count(),
        "overdue": recs.filter(order__status=OrderStatus.ACTIVE, order__due__lt=end)
        .filter(Q(done_at__isnull=True) | Q(done_at__gte=end)).count(),
    }


def commands(view, on, detail: bool = False) -> dict:
    """The daily close's section (``situation.registry.SECTIONS``): orders sent, acknowledged, overdue."""
    from django.urls import reverse

    counts = day_counts(on, view.q())
    out = {"title": "orders", **counts, "links": {"orders": reverse("command_orders")}}
    if detail:
        out["ids"] = list(CommandOrder.objects.filter(recipients__in=Recipient.objects.filter(view.q()))
                          .filter(created__date=on).values_list("ref", flat=True).distinct())
    return out
