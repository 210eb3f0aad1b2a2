"""The hotline's section of the global search (``places.hooks.SEARCH``): tickets by number, or by words of
their text or location, for roles that read tickets (``hotline.read``), within their jurisdiction. The caller's
phone is never shown here (the ticket's own page masks it)."""
from __future__ import annotations

from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext as _

from cordon.core import access
from cordon.hotline.models import Ticket
from cordon.places.hooks import Section
from cordon.web.pages import half_in_language


def search_tickets(user, q: str, limit: int) -> Section | None:
    if not access.has_perm(user, access.HOTLINE_READ):
        return None
    rows = list(Ticket.objects.for_user(user, access.HOTLINE_READ)
                .filter(Q(number__icontains=q) | Q(text__icontains=q) | Q(location__icontains=q))
                .order_by("-created_at", "-id")[:limit + 1])
    s = Section(_("Hotline tickets"), [_("Ticket"), _("Category"), _("Status"), _("Received"), _("Responsible")],
                empty=_("No ticket you may read matches."))
    for t in rows[:limit]:
        s.add(reverse("hotline_ticket", args=[t.pk]), t.number, t.get_category_display(), t.get_status_display(),
              t.created_at.strftime("%Y-%m-%d %H:%M"), half_in_language(t.unit_name))
    s.more = len(rows) > limit
    return s
