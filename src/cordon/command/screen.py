"""The live command screen (指挥大屏): what it shows and how it learns of a change.

Why a one-second version poll and not server-sent events: the production server (``cordon serve``, gunicorn)
runs sync workers, and a stream held open by each wall screen would take a worker thread for as long as the
screen is on. The screen asks ``/screen/version/`` once a second instead: one index-only query (the newest
audit row's id; every action writes one in its transaction, so the number moves with each committed change
of any kind) answered in about a millisecond, no worker held; when the number moved it fetches the figures
(``/screen/data/``) and redraws them, well within two seconds of the change.
"""
from __future__ import annotations

from django.db.models import Max
from django.utils.translation import gettext as _

from cordon.command import queries
from cordon.core import access, clock
from cordon.core.models import AuditEntry

#: The situation sections the screen shows (``situation.registry``), and the figures of each it shows.
SECTIONS = {
    "epi": ("window_total", "window_community", "days_since_community"),
    "areas": ("active_total", "residents_inside"),
    "response": ("open", "overdue"),
    "care": ("open", "overdue", "received"),
    "hotline": ("open", "overdue", "received"),
}


def _labels() -> dict:
    return {"window_total": _("New infections (window)"), "window_community": _("Found in the community"),
            "days_since_community": _("Days since a community case"), "active_total": _("Risk areas in force"),
            "residents_inside": _("Residents inside"), "open": _("Open"), "overdue": _("Overdue"),
            "received": _("Received today"), "sent": _("Not acknowledged"), "read": _("Read, not acknowledged"),
            "acknowledged": _("Acknowledged"), "in_progress": _("In progress"), "done": _("Done")}


def version() -> int:
    """The newest audit row's id: it moves with every committed change."""
    return AuditEntry.objects.aggregate(v=Max("id"))["v"] or 0


def _flat(data: dict, keys) -> list[tuple[str, object]]:
    """The section's figures the screen shows (those it has: a number each)."""
    return [(k, data[k]) for k in keys if isinstance(data.get(k), (int, float)) and not isinstance(data[k], bool)]


def figures(user) -> dict:
    """Today's figures within the viewer's jurisdiction: the situation sections, then the orders."""
    from cordon.situation import registry

    view = registry.SituationScope.for_user(user)
    today = clock.today()
    collected = registry.collect(view, today, names=set(SECTIONS))
    panels = []
    labels = _labels()
    titles = {"epi": _("Infections"), "areas": _("Risk areas"), "response": _("Response tasks"),
              "care": _("Medical requests in flight"), "hotline": _("Hotline load")}
    for name, keys in SECTIONS.items():
        if name in collected:
            panels.append({"name": name, "title": titles[name],
                           "figures": [{"key": k, "label": labels[k], "value": v}
                                       for k, v in _flat(collected[name], keys)]})
    scope = access.scope_for(user, access.ORDERS_SEND)
    orders = queries.open_by_status(None if scope.everything else scope.q())
    panels.append({"name": "orders", "title": _("Open orders by status"),
                   "figures": [{"key": k, "label": labels[k], "value": v} for k, v in orders.items()]})
    return {"at": clock.now().strftime("%H:%M:%S"), "panels": panels}
