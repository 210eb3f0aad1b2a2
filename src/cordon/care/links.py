"""A resident's emergency care requests on their page (``places.hooks.RESIDENT_SECTIONS``), for roles that
read care requests (``care.read``), within their jurisdiction."""
from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _

from cordon.care.models import CareRequest
from cordon.core import access
from cordon.places.hooks import Section

LATEST = 20


def resident_requests(user, resident) -> Section | None:
    if not access.has_perm(user, access.CARE_READ):
        return None
    rows = list(CareRequest.objects.for_user(user, access.CARE_READ).filter(resident=resident)
                .order_by("-received_at", "-id")[:LATEST + 1])
    s = Section(_("Care requests"), [_("Request"), _("Need"), _("Status"), _("Received")],
                empty=_("No care request for this resident."))
    for r in rows[:LATEST]:
        s.add(reverse("care_request", args=[r.pk]), r.ref, r.need_text or r.need, r.get_status_display(),
              r.received_at.strftime("%Y-%m-%d %H:%M"))
    s.more = len(rows) > LATEST
    return s
