"""The command view's list of key places as a file (``web.exports``; its columns in exports.yaml)."""
from __future__ import annotations

from cordon.web.exports import Listing, declared

FIGURES = ("inside_named", "staff_in", "due_today", "overdue_tests", "past_rotation", "breaches_today",
           "breaches_week")


def places(rows: list[dict], kind_label, status_label) -> Listing:
    """Key places with the figures the page shows (``rows``: the page's ``queries.place_list`` rows)."""
    by_id = {r["place"].pk: r for r in rows}

    def figure(key):
        return lambda place_id: by_id.get(place_id, {}).get(key, 0)

    return declared(__package__, "key-places", computed={k: (("id",), figure(k)) for k in FIGURES},
                    kind=kind_label, status=status_label)
