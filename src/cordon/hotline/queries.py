"""Reads of hotline: what pages, the API and jobs show (no writes; writes are in actions.py)."""
from __future__ import annotations

import datetime as dt
import hashlib

from django.conf import settings
from django.db.models import Q

from cordon.core import access, clock
from cordon.core.models import LEVELS
from cordon.hotline.config import desk
from cordon.hotline.models import OPEN_STATUSES, Shift, Ticket
from cordon.places.models import Area

DUPLICATE_WINDOW = dt.timedelta(hours=24)


def deadlines(category: str) -> tuple[str, dt.timedelta, dt.timedelta]:
    c = desk()["categories"][category]
    k = desk()["classes"][c["class"]]
    return c["class"], dt.timedelta(minutes=k["first_response_minutes"]), dt.timedelta(minutes=k["resolve_minutes"])


def resolve_location(text: str):
    """The deepest area whose path is a prefix of ``text`` (a path like 城关区/皋兰路街道/五泉社区/...)."""
    parts = [p for p in (text or "").strip().strip("/").split("/") if p.strip()]
    if not parts:
        return None
    paths = ["/".join(parts[:i]) for i in range(1, min(len(parts), 6) + 1)]
    found = sorted(Area.objects.filter(path__in=paths), key=lambda a: -a.depth)
    return found[0] if found else None


def route(category: str, area) -> tuple[object, str]:
    """(responsible office area or None, its name) for a category and a location."""
    d = desk()
    how = d["categories"][category]["route"]
    if how == "medical":
        u = d["units"]["medical"]
        return None, f"{u['zh']} / {u['en']}"
    if area is not None:
        want = {"community": 2, "street": 1, "district": 0}[how]
        ids = [getattr(area, f"{lv}_id") for lv in LEVELS[: want + 1]]
        target_id = next((i for i in reversed(ids) if i), None)
        if target_id is not None:
            target = area if area.pk == target_id else Area.objects.get(pk=target_id)
            return target, target.path
    u = d["units"]["city"]
    return None, f"{u['zh']} / {u['en']}"


def find_duplicate(phone: str, category: str, now: dt.datetime):
    return (Ticket.objects.filter(phone=phone, category=category, status__in=OPEN_STATUSES,
                                  duplicate_of__isnull=True, created_at__gte=now - DUPLICATE_WINDOW)
            .order_by("created_at", "id").first())


def may_edit_roster(user) -> bool:
    """The roster is the whole city's desk: changing it needs ``hotline.roster`` over the whole city."""
    return access.scope_for(user, access.HOTLINE_ROSTER).everything


def roster_gaps(start: dt.datetime | None = None, days: int | None = None, min_operators: int | None = None) \
        -> list[tuple[dt.datetime, dt.datetime]]:
    """Intervals within [start, start + days) staffed by fewer than ``min_operators`` operators."""
    cfg = desk()["roster"]
    start = start or clock.now()
    days = days or cfg["horizon_days"]
    need = min_operators or cfg["min_operators"]
    end = start + dt.timedelta(days=days)
    shifts = list(Shift.objects.filter(starts__lt=end, ends__gt=start).values_list("starts", "ends"))
    points = sorted({start, end} | {max(s, start) for s, _ in shifts} | {min(e, end) for _, e in shifts})
    gaps: list[tuple[dt.datetime, dt.datetime]] = []
    for a, b in zip(points, points[1:]):
        if a >= b:
            continue
        staffed = sum(1 for s, e in shifts if s <= a and e >= b)
        if staffed < need:
            if gaps and gaps[-1][1] == a:
                gaps[-1] = (gaps[-1][0], b)
            else:
                gaps.append((a, b))
    return gaps


def client_key(request) -> str:
    ip = request.META.get("REMOTE_ADDR", "") or "unknown"
    return hashlib.sha256(f"{settings.SECRET_KEY}:{ip}".encode()).hexdigest()[:32]


def public_lookup(number: str, last4: str):
    """The caller's own ticket by number and the last four digits of the callback number, or None."""
    number = (number or "").strip().upper()
    last4 = "".join(ch for ch in (last4 or "") if ch.isdigit())
    if len(last4) != 4 or not number:
        return None
    t = Ticket.objects.filter(number=number).select_related("duplicate_of").first()
    if t is None or not t.phone.endswith(last4):
        return None
    return t


def overdue(t: Ticket, now) -> bool:
    """Past its response deadline unanswered or its resolution deadline without feedback, while open."""
    if not t.is_open:
        return False
    return (t.responded_at is None and now > t.respond_by) or (t.feedback_at is None and now > t.resolve_by)


def filtered(qs, status: str | None, category: str | None, now):
    """The tickets of a list tab (open, overdue, closed, all or a status) and category."""
    status = status or "open"
    if status == "open":
        qs = qs.filter(status__in=OPEN_STATUSES)
    elif status == "overdue":
        qs = qs.filter(status__in=OPEN_STATUSES).filter(
            Q(responded_at__isnull=True, respond_by__lt=now) | Q(feedback_at__isnull=True, resolve_by__lt=now))
    elif status != "all":
        qs = qs.filter(status=status)
    if category:
        qs = qs.filter(category=category)
    return qs


def ticket_list(user, tab: str, category: str, now):
    """The ticket list of one tab and category in the user's jurisdiction, in the list's order: the page and
    its export."""
    qs = filtered(Ticket.objects.for_user(user, access.HOTLINE_READ), tab, category, now)
    return qs.order_by(*(("-closed_at", "-id") if tab == "closed" else ("-escalation", "resolve_by", "id")))

def operators():
    """The users who answer hotline tickets (a grant whose role writes them), by user name. The desk is the
    whole city's; whether one may take a given ticket is the assignment's own check (its jurisdiction)."""
    from django.contrib.auth import get_user_model

    from cordon.core.models import Grant

    roles = [r for r in access.ROLE_CAPS if access.role_has(r, access.HOTLINE_WRITE)]
    users = Grant.objects.filter(role__in=roles).values("user_id")
    return list(get_user_model().objects.filter(pk__in=users, is_active=True).order_by("username")[:500])
