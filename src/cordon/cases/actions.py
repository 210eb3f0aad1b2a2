"""Actions on infections. Each new infection feeds the area clocks and the designation proposals."""
from __future__ import annotations

import datetime as dt

from django.db import transaction

from cordon.core import access, audit
from cordon.core.actions import ActionError
from cordon.cases.models import Found, Infection, InfectionKind


@transaction.atomic
def do_record_infection(*, label: str, home, found: str, confirmed_on: dt.date, kind: str = "confirmed",
                        visited=(), resident=None, home_isolating: bool = False, sampled_at=None,
                        reported_at=None, actor=None, reason: str = "") -> Infection:
    """Record a new infection (confirmed or asymptomatic) and hand it to the area clocks (zones)."""
    label = (label or "").strip()
    if not label or len(label) > 40:
        raise ActionError("a case reference of 1 to 40 characters is required", field="label")
    if Infection.objects.filter(label=label).exists():
        raise ActionError(f"infection {label} is already recorded (a reclassification is not a new infection)",
                          field="label")
    if found not in Found.values:
        raise ActionError(f"found must be one of {', '.join(Found.values)}", field="found")
    if kind not in InfectionKind.values:
        raise ActionError(f"kind must be one of {', '.join(InfectionKind.values)}", field="kind")
    if home is None:
        raise ActionError("the home address (a building unit) is required", field="home")
    inf = Infection(label=label, home=home, found=found, kind=kind, confirmed_on=confirmed_on,
                    resident=resident, home_isolating=home_isolating, sampled_at=sampled_at,
                    reported_at=reported_at)
    inf.set_scope_from(home)
    inf.save()
    visited = [v for v in visited if v is not None]
    if visited:
        inf.visited.set(visited)
    if actor is not None and not isinstance(actor, str):
        access.require_in_scope(actor, inf, access.WRITE)
    audit.record("infection.create", actor=actor, obj=inf,
                 after={"label": label, "home": home.path, "found": found, "kind": kind,
                        "confirmed_on": confirmed_on, "visited": [v.path for v in visited]}, reason=reason)
    from cordon.zones.actions import on_new_infection

    on_new_infection(inf, actor=actor)
    return inf
