"""API for supplies: stock per warehouse, stock movements, deliveries (list, delivered, failed), price
alerts. Reads scoped with ``for_user``; writes through the desk scope and ``supplies.actions``."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.utils.translation import gettext as _
from ninja import Query, Router, Schema, Status as HttpStatus

from cordon.care import perms
from cordon.core import access
from cordon.core.api import PageQuery, current_user, page_of, writable
from cordon.core.actions import ActionError
from cordon.core.fields import Day, Id, PageSize, QueryId, Reason, decimal_of, one_of, text_of
from cordon.core.schemas import Page
from cordon.places.models import Resident
from cordon.supplies import actions, queries
from cordon.supplies.models import (DeliveryOrder, DeliveryStatus, DeliveryTeam, Direction, Item, ItemKind,
                                    PriceReport, StockMovement, Warehouse)

router = Router(tags=["supplies"])
DELIVERIES = DeliveryOrder.objects.select_related("household", "item", "team")  # as a write's answer shows them


class StockLine(Schema):
    item_id: int
    item: str
    unit: str
    on_hand: Decimal
    planned: Decimal
    short: bool


class WarehouseOut(Schema):
    id: int
    name: str
    area: str
    stock: list[StockLine]


@router.get("/supplies/warehouses", response=list[WarehouseOut])
def list_warehouses(request):
    ws = list(Warehouse.objects.for_user(current_user(request)).select_related("area").order_by("name")[:200])
    return [{"id": t["warehouse"].pk, "name": t["warehouse"].name, "area": t["warehouse"].area.path,
             "stock": [{"item_id": ln["item"].pk, "item": ln["item"].name, "unit": ln["item"].unit,
                        "on_hand": ln["on_hand"], "planned": ln["planned"], "short": ln["short"]}
                       for ln in t["lines"]]} for t in queries.stock_table(ws)]


class WarehouseIn(Schema):
    name: text_of(Warehouse, "name", min_length=1)
    area_id: Id
    reason: Reason = ""


class CreatedOut(Schema):
    id: int
    name: str
    area: str


@router.post("/supplies/warehouses", response={201: CreatedOut})
def create_warehouse(request, payload: WarehouseIn):
    """A warehouse in an area the caller may create supplies records in."""
    user = current_user(request)
    area = perms.area_for_write(user, payload.area_id, perms.SUPPLY_ROLES)
    w = actions.do_create_warehouse(payload.name, area=area, actor=user, reason=payload.reason)
    return HttpStatus(201, {"id": w.pk, "name": w.name, "area": area.path})


class ItemIn(Schema):
    name: text_of(Item, "name", min_length=1)
    kind: one_of(ItemKind.values)
    unit: text_of(Item, "unit", min_length=1) = "份"
    per_person_per_day: decimal_of(Item, "per_person_per_day", ge=0) = Decimal(0)
    baseline_price: decimal_of(Item, "baseline_price", ge=0) | None = None
    price_unit: text_of(Item, "price_unit") = ""
    reason: Reason = ""


class ItemOut(Schema):
    id: int
    name: str
    kind: str
    unit: str
    per_person_per_day: Decimal
    baseline_price: Decimal | None
    price_unit: str


@router.post("/supplies/items", response={201: ItemOut})
def create_item(request, payload: ItemIn):
    """Items are the city's catalogue: logistics officers and staff with write access add them."""
    user = current_user(request)
    it = actions.do_create_item(payload.name, kind=payload.kind, unit=payload.unit,
                                per_person_per_day=payload.per_person_per_day, baseline_price=payload.baseline_price,
                                price_unit=payload.price_unit, actor=user, reason=payload.reason)
    return HttpStatus(201, {"id": it.pk, "name": it.name, "kind": it.kind, "unit": it.unit,
                            "per_person_per_day": it.per_person_per_day, "baseline_price": it.baseline_price,
                            "price_unit": it.price_unit})


class TeamIn(Schema):
    name: text_of(DeliveryTeam, "name", min_length=1)
    area_id: Id
    leader: text_of(DeliveryTeam, "leader") = ""
    phone: text_of(DeliveryTeam, "phone") = ""
    reason: Reason = ""


@router.post("/supplies/teams", response={201: CreatedOut})
def create_team(request, payload: TeamIn):
    """A delivery team serving an area the caller may create supplies records in."""
    user = current_user(request)
    area = perms.area_for_write(user, payload.area_id, perms.SUPPLY_ROLES)
    t = actions.do_create_team(payload.name, area=area, leader=payload.leader, phone=payload.phone, actor=user,
                               reason=payload.reason)
    return HttpStatus(201, {"id": t.pk, "name": t.name, "area": area.path})


class MovementIn(Schema):
    item_id: Id
    direction: one_of(Direction.values)
    quantity: decimal_of(StockMovement, "quantity", ge=0)
    reason: text_of(StockMovement, "reason", min_length=1)


class MovementOut(Schema):
    id: int
    warehouse_id: int
    item_id: int
    direction: str
    quantity: Decimal
    on: dt.date
    reason: str


@router.post("/supplies/warehouses/{warehouse_id}/movements", response={201: MovementOut})
def move_stock(request, warehouse_id: QueryId, payload: MovementIn):
    user, w = writable(request, Warehouse, warehouse_id, perms.SUPPLY_ROLES)
    item = Item.objects.filter(pk=payload.item_id).first()
    if item is None:
        raise ActionError(_("no such item"), field="item_id")
    m = actions.do_move_stock(w, item, direction=payload.direction, quantity=payload.quantity,
                              reason=payload.reason, actor=user)
    return HttpStatus(201, {"id": m.pk, "warehouse_id": w.pk, "item_id": item.pk, "direction": m.direction,
                            "quantity": m.quantity, "on": m.on, "reason": m.reason})


class DeliveryOut(Schema):
    id: int
    building_id: int | None
    unit_id: int | None
    household: str
    item: str
    quantity: Decimal
    team: str
    due_on: dt.date
    status: str
    failed_reason: str
    rider_id: int | None


class DeliveryList(Page):
    items: list[DeliveryOut]


class DeliveryFilter(PageQuery):
    status: one_of(DeliveryStatus.values) | None = None
    building: QueryId | None = None
    page_size: PageSize = 100


def delivery_out(o: DeliveryOrder) -> dict:
    return {"id": o.pk, "building_id": o.building_id, "unit_id": o.unit_id, "household": o.household.number,
            "item": o.item.name, "quantity": o.quantity, "team": o.team.name if o.team_id else "",
            "due_on": o.due_on, "status": o.status, "failed_reason": o.failed_reason,
            "rider_id": o.rider_id}


@router.get("/supplies/deliveries", response=DeliveryList)
def list_deliveries(request, f: Query[DeliveryFilter]):
    qs = DeliveryOrder.objects.for_user(current_user(request)).select_related("household", "item", "team")
    if f.status:
        qs = qs.filter(status=f.status)
    if f.building:
        qs = qs.filter(building_id=f.building)
    return page_of(qs.order_by("due_on", "building_id", "id"), f, lambda items: [delivery_out(o) for o in items])


class DeliveryReasonIn(Schema):
    reason: text_of(DeliveryOrder, "failed_reason") = ""


@router.post("/supplies/deliveries/{delivery_id}/delivered", response=DeliveryOut)
def delivered(request, delivery_id: QueryId, payload: DeliveryReasonIn):
    user, o = writable(request, DELIVERIES, delivery_id, perms.SUPPLY_ROLES)
    return delivery_out(actions.do_mark_delivered(o, actor=user, reason=payload.reason))


class DeliveryAssignIn(Schema):
    rider_id: Id
    reason: Reason = ""


@router.post("/supplies/deliveries/{delivery_id}/assign", response=DeliveryOut)
def assign_delivery(request, delivery_id: QueryId, payload: DeliveryAssignIn):
    """Give a planned delivery to a rider (a resident, by id): into a sealed unit only a current key worker with a
    valid delivery or supply pass covering the unit (400 on ``rider`` with the reason otherwise)."""
    user, o = writable(request, DELIVERIES, delivery_id, perms.SUPPLY_ROLES)
    rider = Resident.objects.filter(pk=payload.rider_id).first()
    if rider is None:
        raise ActionError(_("No resident with this id"), field="rider_id")
    return delivery_out(actions.do_assign_delivery(o, rider=rider, actor=user, reason=payload.reason))


@router.post("/supplies/deliveries/{delivery_id}/failed", response=DeliveryOut)
def failed(request, delivery_id: QueryId, payload: DeliveryReasonIn):
    user, o = writable(request, DELIVERIES, delivery_id, perms.SUPPLY_ROLES)
    return delivery_out(actions.do_mark_failed(o, actor=user, reason=payload.reason))


class PriceOut(Schema):
    id: int
    item: str
    market: str
    on: dt.date
    price: Decimal
    baseline: Decimal
    rise_pct: Decimal
    alert: bool


class PriceFilter(Schema):
    alerts: bool = True
    since: Day | None = None


@router.get("/supplies/prices", response=list[PriceOut])
def list_prices(request, f: Query[PriceFilter]):
    user = current_user(request)
    if not access.has_perm(user, access.VIEW):
        return []
    qs = PriceReport.objects.for_user(user, access.SUPPLIES_READ).select_related("item").order_by("-on", "-id")
    if f.alerts:
        qs = qs.filter(alert=True)
    if f.since:
        qs = qs.filter(on__gte=f.since)
    return [{"id": r.pk, "item": r.item.name, "market": r.market, "on": r.on, "price": r.price,
             "baseline": r.baseline, "rise_pct": r.rise_pct, "alert": r.alert} for r in qs[:200]]


access.declare_operations(router, {
    "list_warehouses": access.SUPPLIES_READ, "list_deliveries": access.SUPPLIES_READ,
    "list_prices": access.SUPPLIES_READ,
    "create_warehouse": access.SUPPLIES_WRITE, "create_item": access.SUPPLIES_WRITE,
    "create_team": access.SUPPLIES_WRITE, "move_stock": access.SUPPLIES_WRITE, "delivered": access.SUPPLIES_WRITE,
    "failed": access.SUPPLIES_WRITE, "assign_delivery": access.SUPPLIES_WRITE,
})
