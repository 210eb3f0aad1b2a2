"""What passes registers with the apps below it: the care transfer's pass (``care.hooks.DISPATCHED``, #6) and the
rider check of a delivery into a sealed unit (``supplies.hooks.ASSIGN``)."""
from __future__ import annotations

import datetime as dt

from django.utils.translation import gettext as _

from cordon.care.queries import is_sealed
from cordon.passes import queries
from cordon.passes.models import Kind
from cordon.policy import passes as rule


def care_transfer_pass(req, *, actor=None):
    """A dispatched request out of a sealed area gets a care-transfer pass for the request's area, today and
    tomorrow, held by the resident (or the person the request names). Never refused for the seal (#6)."""
    from cordon.passes.actions import do_issue_pass

    day = req.dispatched_at.date() if req.dispatched_at else req.received_at.date()
    holder = req.resident if req.resident_id else None
    return do_issue_pass(kind=Kind.CARE_TRANSFER, areas=[req.area], valid_from=day,
                         valid_to=day + dt.timedelta(days=1), holder=holder, holder_name=req.person,
                         holder_id_number="", care_request=req.pk, actor=actor, reason=f"care transfer {req.ref}",
                         by_rule="nine-prohibitions-6: a care transfer out of a sealed area gets its pass")


def check_rider(order, rider, day: dt.date) -> str | None:
    """Into a sealed unit, only a current key worker (not overdue) with an active delivery or supply pass covering
    the unit on ``day`` may take a delivery."""
    unit = order.household.unit
    if not is_sealed(unit):
        return None
    if rider.pk in queries.overdue([rider.pk], day):
        return _("the rider is overdue for a test")
    if not any(rule.covers(p.area_paths, unit.path) for p in queries.rider_passes(rider.pk, day)):
        return _("the rider holds no valid delivery or supply pass covering %(unit)s") % {"unit": unit.path}
    return None


def riders_to_replace(user, day: dt.date) -> list:
    """The open deliveries whose rider is overdue on ``day`` (the supplies deliveries page lists them)."""
    return queries.to_reassign(user, day)
