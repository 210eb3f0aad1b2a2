"""The deliveries to a resident's household on the resident's page (``places.hooks.RESIDENT_SECTIONS``), for
roles that read supplies (``supplies.read``), within their jurisdiction."""
from __future__ import annotations

from django.utils.translation import gettext as _

from cordon.core import access
from cordon.places.hooks import Section
from cordon.supplies.models import DeliveryOrder

LATEST = 20


def resident_deliveries(user, resident) -> Section | None:
    if not access.has_perm(user, access.SUPPLIES_READ):
        return None
    rows = list(DeliveryOrder.objects.for_user(user, access.SUPPLIES_READ).filter(household_id=resident.household_id)
                .select_related("item", "team").order_by("-due_on", "-id")[:LATEST + 1])
    s = Section(_("Deliveries to the household"), [_("Item"), _("Quantity"), _("Due"), _("Status"), _("Team")],
                empty=_("No delivery to this household."))
    for d in rows[:LATEST]:
        s.add(None, d.item.name, f"{d.quantity.normalize():f} {d.item.unit}", d.due_on.isoformat(), d.get_status_display(),
              d.team.name if d.team_id else "—")
    s.more = len(rows) > LATEST
    return s
