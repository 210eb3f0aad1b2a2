"""What an area's page shows of risk areas (``places.hooks.AREA_SECTIONS``): whether the area is sealed today,
the designations covering it or lying inside it, and their history (closed ones too)."""
from __future__ import annotations

from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext as _

from cordon.core import access
from cordon.places.hooks import Section
from cordon.zones.models import Designation, Level, Status

HISTORY = 20


def area_section(user, area) -> Section | None:
    """Seal status, current designations and their history for ``area`` (risk areas are operational data:
    every role with ``view`` over the area)."""
    if not access.can(user, access.VIEW, area):
        return None
    anc = [getattr(area, f"{lv}_id") for lv in access.LEVELS if getattr(area, f"{lv}_id")]
    touching = (Q(members__area_id__in=anc) | Q(**{f"members__area__{k}": v for k, v in access.within(area).items()}))
    rows = list(Designation.objects.for_user(user).filter(touching).distinct().select_related("area")
                .order_by("-designated_on", "-id")[:HISTORY + 1])
    covering = {d.pk for d in Designation.objects.filter(pk__in=[d.pk for d in rows], members__area_id__in=anc,
                                                         members__removed_on__isnull=True)}
    s = Section(_("Risk areas"), [_("Area"), _("Level"), _("Status"), _("Designated"), _("Next change"),
                                  _("Lifted")], empty=_("No risk area here, now or before."))
    current = [d for d in rows if d.pk in covering and d.status == Status.ACTIVE]
    if any(d.level == Level.HIGH for d in current):
        seal = _("Sealed: high-risk area (stay at home)")
    elif current:
        seal = _("Controlled: medium-risk area")
    elif any(d.pk in covering and d.status == Status.OBSERVATION for d in rows):
        seal = _("Lifted, under observation")
    else:
        seal = _("Not sealed")
    s.facts.append((_("Seal status"), seal))
    inside = sum(1 for d in rows if d.status == Status.ACTIVE and d.pk not in covering)
    if inside:
        s.facts.append((_("Designated areas inside"), str(inside)))
    for d in rows[:HISTORY]:
        s.add(reverse("zones_detail", args=[d.pk]), d.area.path, d.get_level_display(), d.get_status_display(),
              d.designated_on.isoformat(), _next(d),
              d.lifted_on.isoformat() if d.lifted_on else "—")
    s.more = len(rows) > HISTORY
    return s


def _next(d) -> str:
    if not d.next_on:
        return "—"
    label = dict(Level.choices).get(d.next_level, d.next_level or "")
    return f"{d.next_on.isoformat()} {label}".strip()
