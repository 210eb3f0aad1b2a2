"""The passes part of the situation pages and the daily close (``situation.registry.SECTIONS``): passes issued and
revoked on the day, checks and refusals (and #8 flags) of the day, passes valid that day. Reads only passes' own
records, filtered by the viewer's scope (``view.filter``)."""
from __future__ import annotations

import datetime as dt

from django.urls import reverse

from cordon.passes import queries
from cordon.passes.models import CheckLog, Pass


def passes(view, on: dt.date, detail: bool = False) -> dict:
    out = {**queries.day_counts(view.filter, on),
           "links": {"passes": reverse("passes_list"), "checks": reverse("passes_checks") + f"?on={on.isoformat()}"}}
    if detail:
        out["ids"] = {"issued": list(view.filter(Pass.objects.filter(events__kind="issue", events__on=on))
                                     .order_by("id").values_list("id", flat=True)),
                      "refusals": list(view.filter(CheckLog.objects.filter(on=on, result="refused"))
                                       .order_by("id").values_list("id", flat=True))}
    return out
