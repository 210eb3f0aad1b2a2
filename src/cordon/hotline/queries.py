"""Reads of the hotline desk shared by its API and its pages."""
from __future__ import annotations

from django.db.models import Q

from cordon.hotline.models import OPEN_STATUSES, Ticket


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
