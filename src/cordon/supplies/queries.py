"""Reads of supplies: what pages, the API and jobs show (no writes; writes are in actions.py)."""
from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, Q, Sum

from cordon.core import access
from cordon.supplies.config import config
from cordon.supplies.models import (Allocation, AllocationStatus, DeliveryStatus, Direction, Item, StockCount,
                                    StockMovement, Warehouse)
from cordon.places.models import Area, Household
from cordon.zones.models import Member, Status as ZStatus
from cordon.zones.queries import people_inside

ZERO = Decimal("0")


def on_hand(warehouse, upto: dt.date | None = None) -> dict[int, Decimal]:
    """item id -> book stock (in - out) at the warehouse, up to and including ``upto``. One query."""
    qs = StockMovement.objects.filter(warehouse=warehouse)
    if upto is not None:
        qs = qs.filter(on__lte=upto)
    out: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for row in qs.order_by().values("item_id").annotate(i=Sum("quantity", filter=Q(direction=Direction.IN)),
                                                        o=Sum("quantity", filter=Q(direction=Direction.OUT))):
        out[row["item_id"]] = (row["i"] or ZERO) - (row["o"] or ZERO)
    return out


def reconciliation_lines(warehouse: Warehouse, on: dt.date) -> list[dict]:
    """Per item: in and out up to ``on``, book stock, the day's count, difference (in - out - counted)."""
    rows = (StockMovement.objects.filter(warehouse=warehouse, on__lte=on).order_by().values("item_id")
            .annotate(i=Sum("quantity", filter=Q(direction=Direction.IN)),
                      o=Sum("quantity", filter=Q(direction=Direction.OUT))))
    moves = {r["item_id"]: (r["i"] or ZERO, r["o"] or ZERO) for r in rows}
    counts = dict(StockCount.objects.filter(warehouse=warehouse, on=on).values_list("item_id", "counted"))
    items = Item.objects.in_bulk(set(moves) | set(counts))
    lines = []
    for iid in sorted(items, key=lambda i: items[i].name):
        i, o = moves.get(iid, (ZERO, ZERO))
        counted = counts.get(iid)
        lines.append({"item": items[iid].name, "item_id": iid, "in": str(i), "out": str(o), "book": str(i - o),
                      "counted": str(counted) if counted is not None else None,
                      "difference": str(i - o - counted) if counted is not None else None})
    return lines


def seal_days(designation, on: dt.date) -> int:
    if designation.next_on:
        return max(1, (designation.next_on - on).days)
    return int(config()["default_days"])


def headcount(designation, on: dt.date | None = None) -> int:
    return people_inside([designation], None, on)[designation.pk][0]


def ceil_qty(people: int, days: int, rate: Decimal) -> Decimal:
    return Decimal(math.ceil(Decimal(people) * Decimal(days) * rate))


def households_inside(designation):
    """(household, residents) inside the designation's current extent, with the resident counts."""

    members = list(Member.objects.filter(designation=designation, removed_on__isnull=True).select_related("area"))
    q = Q(pk__in=[])
    for m in members:
        if m.area.kind in ("unit",):
            q |= Q(unit_id=m.area_id)
        else:
            q |= Q(**access.within(m.area))
    return list(Household.objects.filter(q).annotate(n=Count("residents")).order_by("id"))


def rise_pct(price: Decimal, baseline: Decimal) -> Decimal:
    return ((price - baseline) / baseline * 100).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def delivery_list(user, building: int | None = None, status: str = ""):
    """Deliveries to the door in the user's jurisdiction, of one building and status, by status, unit and
    household (the page, its export and the building's print view)."""
    from cordon.supplies.models import DeliveryOrder

    qs = DeliveryOrder.objects.for_user(user, access.SUPPLIES_READ)
    if building is not None:
        qs = qs.filter(building_id=building)
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("status", "unit_id", "household_id", "id")


def confirmable(user):
    """The deliveries the user may read to confirm at the door: within ``supplies.read`` or ``supplies.deliver``
    (a volunteer holds only the latter; whether the user may confirm one is the action's check)."""
    from cordon.supplies.models import DeliveryOrder

    read, deliver = access.scope_for(user, access.SUPPLIES_READ), access.scope_for(user, access.SUPPLIES_DELIVER)
    if read.everything or deliver.everything:
        return DeliveryOrder.objects.all()
    if read.nothing and deliver.nothing:
        return DeliveryOrder.objects.none()
    return DeliveryOrder.objects.filter(read.q() | deliver.q())


def sealing_ended(allocation_ids) -> set[int]:
    """Of these allocations, those whose sealing has ended (their designation lifted or closed). One query."""
    ids_ = [i for i in set(allocation_ids) if i is not None]
    if not ids_:
        return set()
    return set(Allocation.objects.filter(pk__in=ids_).exclude(designation__status=ZStatus.ACTIVE)
               .values_list("pk", flat=True))


def deliveries_by_building(qs) -> list[dict]:
    """Per building: planned / delivered / failed counts (one grouped query)."""
    rows = list(qs.order_by().values("building_id").annotate(
        planned=Count("id", filter=Q(status=DeliveryStatus.PLANNED)),
        delivered=Count("id", filter=Q(status=DeliveryStatus.DELIVERED)),
        failed=Count("id", filter=Q(status=DeliveryStatus.FAILED))))
    paths = dict(Area.objects.filter(pk__in=[r["building_id"] for r in rows]).values_list("id", "path"))
    out = [{**r, "building": paths.get(r["building_id"], "—")} for r in rows]
    return sorted(out, key=lambda r: (-r["failed"], -r["planned"], r["building"]))


def stock_table(warehouses) -> list[dict]:
    """Per warehouse: item, on hand (book), planned-but-unissued allocations, shortage flag."""
    ids = [w.pk for w in warehouses]
    rows = (StockMovement.objects.filter(warehouse_id__in=ids).order_by().values("warehouse_id", "item_id")
            .annotate(i=Sum("quantity", filter=Q(direction=Direction.IN)),
                      o=Sum("quantity", filter=Q(direction=Direction.OUT))))
    planned = {(r["warehouse_id"], r["item_id"]): r["q"] for r in Allocation.objects.filter(
        warehouse_id__in=ids, status=AllocationStatus.PLANNED).order_by().values("warehouse_id", "item_id")
        .annotate(q=Sum("quantity"))}
    items = {i.pk: i for i in Item.objects.all()}
    by_w = defaultdict(list)
    keys = set()
    for r in rows:
        keys.add((r["warehouse_id"], r["item_id"]))
        have = (r["i"] or ZERO) - (r["o"] or ZERO)
        need = planned.get((r["warehouse_id"], r["item_id"]), ZERO)
        by_w[r["warehouse_id"]].append({"item": items[r["item_id"]], "on_hand": have, "planned": need,
                                        "short": need > have})
    for (wid, iid), need in planned.items():
        if (wid, iid) not in keys:
            by_w[wid].append({"item": items[iid], "on_hand": ZERO, "planned": need, "short": need > 0})
    return [{"warehouse": w, "lines": sorted(by_w[w.pk], key=lambda x: x["item"].name)} for w in warehouses]
