"""Demo step for the phone app: the ``community`` account (五泉社区) registers a phone, takes its slice, and syncs
a morning's queued changes made offline an hour or two before: a tube of two residents still missing from the
open round, the same barcode queued twice by mistake (reported as a duplicate), a planned delivery confirmed, a
home check-in and a care visit when the community has them. The audit log then shows each change at the phone's
time (``occurred_at``) and its arrival."""
from __future__ import annotations

import datetime as dt
import sys
import uuid

from cordon.core import clock

from . import actions, queries


def _change(kind: str, data: dict, at: dt.datetime) -> dict:
    return {"id": str(uuid.uuid4()), "kind": kind, "at": at.isoformat(), "data": data}


def _tube(worker, slice_, at) -> list[dict]:
    from cordon.places.models import Resident
    from cordon.screening.models import Round
    from cordon.screening.queries import registered_in

    if not slice_["rounds"]:
        return []
    rnd = Round.objects.get(pk=slice_["rounds"][0]["id"])
    inside = [p["id"] for b in slice_["buildings"] for u in b["units"] for h in u["households"] for p in h["residents"]]
    missing = list(Resident.objects.filter(pk__in=inside[:5000]).filter(~registered_in(rnd))
                   .order_by("id").values_list("pk", flat=True)[:2])
    if not missing:
        return []
    tube = _change("tube", {"round": rnd.pk, "barcode": "LZPHONE0001", "residents": missing}, at)
    again = _change("tube", {"round": rnd.pk, "barcode": "LZPHONE0001", "residents": missing},
                    at + dt.timedelta(minutes=3))
    return [tube, again]


def run() -> None:
    from django.contrib.auth import get_user_model

    worker = get_user_model().objects.filter(username="community").first()
    if worker is None:
        print("phone demo: skipped (no community account)", file=sys.stderr)
        return
    device = actions.do_register_device(worker, "网格员手机（演示）", actor=worker, reason="demo")
    slice_ = queries.build_slice(worker)
    actions.do_record_slice(device, queries.slice_counts(slice_), actor=worker)
    at = clock.now() - dt.timedelta(hours=2)
    changes = _tube(worker, slice_, at)
    if slice_["deliveries"]:
        changes.append(_change("delivery", {"order": slice_["deliveries"][0]["id"], "delivered": True},
                               at + dt.timedelta(minutes=20)))
    due = [c for c in slice_["checkins"] if c["due"]]
    if due:
        changes.append(_change("checkin", {"order": due[0]["order"], "temperature": 36.5, "symptoms": ""},
                               at + dt.timedelta(minutes=35)))
    if slice_["visits"]:
        changes.append(_change("visit", {"task": slice_["visits"][0]["task"], "note": "上门查看，一切正常"},
                               at + dt.timedelta(minutes=50)))
    results = actions.do_sync(device, batch=uuid.uuid4(), changes=changes, actor=worker)
    counts: dict[str, int] = {}
    for r in results:
        counts[r["status"]] = counts.get(r["status"], 0) + 1
    c = queries.slice_counts(slice_)
    print(f"Phone app: a device for 'community' ({c['residents']} residents in {c['buildings']} buildings on the "
          f"slice); a queued batch of {len(results)} changes synced: "
          + ", ".join(f"{n} {s}" for s, n in sorted(counts.items())) + ".")
