"""Actions on supplies: stock movements and counts, allocations to sealed areas by headcount and days
sealed, delivery orders to each household's door, delivery outcomes, the daily reconciliation, price reports.

Arithmetic (documented, tested):
* headcount = residents inside the designation's current extent (``zones.queries.people_inside``);
* days = days until the designation's expected change (``next_on`` - today), at least 1; the
  ``default_days`` of ``supplies.yaml`` when no change date is known;
* quantity = ceil(headcount x days x the item's per-person daily amount); per household likewise with the
  household's residents; shortage = quantity - on hand, when positive;
* reconciliation of a day: for every item, all movements in up to that day = all out + the count on hand.
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import transaction
from django.utils.translation import gettext as _

from cordon.care import perms
from cordon.core import access, audit, clock
from cordon.core.actions import ActionError, Conflict, lock, serialize
from cordon.core.models import AuditEntry
from cordon.supplies import hooks
from cordon.supplies.config import config
from cordon.supplies.queries import (ZERO, ceil_qty, headcount, households_inside, on_hand, reconciliation_lines,
                                     rise_pct, seal_days)
from cordon.supplies.models import (Allocation, AllocationStatus, DeliveryOrder, DeliveryStatus, DeliveryTeam,
                                    Direction, Item, ItemKind, PriceReport, Reconciliation, StockCount, StockMovement,
                                    Warehouse)
from cordon.zones.models import Status as ZStatus

def _check_actor(actor, record, cap: str = perms.SUPPLY_ROLES) -> None:
    if actor is not None and not isinstance(actor, str) and not perms.can_write(actor, cap, record):
        raise access.Forbidden


def _dec(x) -> Decimal:
    try:
        return Decimal(str(x))
    except Exception:
        raise ActionError(_("not a number"), field="quantity") from None


# ============================================================================== set-up records

def _new_name(model, name: str, limit: int, what: str) -> str:
    """A non-blank name no other record of ``model`` has (names are unique)."""
    name = (name or "").strip()[:limit]
    if not name:
        raise ActionError(_("a %(what)s needs a name") % {"what": what}, field="name")
    if model.objects.filter(name=name).exists():
        raise ActionError(_("a %(what)s named %(name)s already exists")
                          % {"what": what, "name": repr(name)}, field="name")
    return name


def _save_placed(record, kind: str, *, actor, reason):
    """Save a new named record placed in an area (a warehouse, a delivery team), scoped and audited."""
    record.set_scope_from(record.area)
    _check_actor(actor, record)
    record.save()
    audit.record(f"{kind}.create", actor=actor, obj=record, object_type=kind,
                 after={"name": record.name, "area": record.area.path}, reason=reason or "")
    return record


@transaction.atomic
def do_create_warehouse(name: str, *, area, actor=None, reason=None) -> Warehouse:
    return _save_placed(Warehouse(name=_new_name(Warehouse, name, 120, _("warehouse")), area=area), "warehouse",
                        actor=actor, reason=reason)


@transaction.atomic
def do_create_item(name: str, *, kind: str, unit: str = "份", per_person_per_day=0, baseline_price=None,
                   price_unit: str = "", actor=None, reason=None) -> Item:
    if kind not in ItemKind.values:
        raise ActionError(_("kind is one of %(values)s") % {"values": ', '.join(ItemKind.values)}, field="kind")
    rate = _dec(per_person_per_day)
    if rate < 0:
        raise ActionError(_("the daily amount per person cannot be negative"), field="per_person_per_day")
    price = _dec(baseline_price) if baseline_price not in (None, "") else None
    if price is not None and price <= 0:
        raise ActionError(_("a baseline price must be more than 0"), field="baseline_price")
    it = Item.objects.create(name=_new_name(Item, name, 80, _("item")), kind=kind, unit=(unit or "份").strip()[:12],
                             per_person_per_day=rate, baseline_price=price, price_unit=(price_unit or "")[:12])
    audit.record("item.create", actor=actor, obj=it, object_type="item",
                 after={"name": it.name, "kind": kind, "per_person_per_day": it.per_person_per_day,
                        "baseline_price": it.baseline_price}, reason=reason or "")
    return it


@transaction.atomic
def do_create_team(name: str, *, area, leader: str = "", phone: str = "", actor=None, reason=None) -> DeliveryTeam:
    return _save_placed(DeliveryTeam(name=_new_name(DeliveryTeam, name, 80, _("delivery team")), area=area,
                                     leader=(leader or "")[:40], phone=(phone or "")[:20]), "delivery_team",
                        actor=actor, reason=reason)


# ============================================================================== stock


def _movement(warehouse, item, direction, quantity: Decimal, reason: str, on, actor, allocation=None):
    m = StockMovement(warehouse=warehouse, item=item, on=on, at=clock.now(), direction=direction,
                      quantity=quantity, reason=reason[:200], allocation=allocation, actor=audit.actor_name(actor))
    m.set_scope_from(warehouse)
    m.save()
    return m


@transaction.atomic
def do_move_stock(warehouse: Warehouse, item: Item, *, direction: str, quantity, reason: str,
                  on: dt.date | None = None, actor=None) -> StockMovement:
    """Stock in (a delivery from a supplier, a donation) or out (issued, spoiled), with its reason."""
    on = on or clock.today()
    q = _dec(quantity)
    if q <= 0:
        raise ActionError(_("quantity must be more than 0"), field="quantity")
    if direction not in Direction.values:
        raise ActionError(_("direction is in or out"), field="direction")
    audit.require_reason(reason, _("a stock movement needs its reason"))
    _check_actor(actor, warehouse)
    if direction == Direction.OUT:
        lock(warehouse)  # stock goes out one movement at a time: two issues cannot both spend the same stock
        have = on_hand(warehouse).get(item.pk, ZERO)
        if q > have:
            raise ActionError(_("only %(have)s %(unit)s of %(name)s on hand")
                              % {"have": have, "unit": item.unit, "name": item.name}, field="quantity")
    m = _movement(warehouse, item, direction, q, reason.strip(), on, actor)
    audit.record(f"stock.{direction}", actor=actor, obj=m, object_type="stock_movement",
                 after={"warehouse": warehouse.name, "item": item.name, "quantity": q, "on": on}, reason=reason,
                 scope=warehouse)
    return m


@transaction.atomic
def do_count_stock(warehouse: Warehouse, item: Item, *, counted, on: dt.date | None = None, actor=None,
                   reason=None) -> StockCount:
    on = on or clock.today()
    c = _dec(counted)
    if c < 0:
        raise ActionError(_("a count cannot be negative"), field="counted")
    _check_actor(actor, warehouse)
    serialize("supplies.count", warehouse.pk, item.pk, on)
    sc = StockCount.objects.filter(warehouse=warehouse, item=item, on=on).first()
    before = {"counted": sc.counted} if sc else None
    if sc is None:
        sc = StockCount(warehouse=warehouse, item=item, on=on, counted=c, actor=audit.actor_name(actor))
        sc.set_scope_from(warehouse)
    sc.counted, sc.actor = c, audit.actor_name(actor)
    sc.save()
    audit.record("stock.count", actor=actor, obj=sc, object_type="stock_count", before=before,
                 after={"warehouse": warehouse.name, "item": item.name, "counted": c, "on": on}, reason=reason or "")
    return sc


@transaction.atomic
def do_reconcile(warehouse: Warehouse, *, on: dt.date | None = None, actor=None, reason=None) -> Reconciliation:
    """Close a warehouse's day: in = out + on hand for every item (a missing count leaves it unbalanced)."""
    on = on or clock.today()
    _check_actor(actor, warehouse)
    serialize("supplies.reconcile", warehouse.pk, on)  # concurrent day closes: one row, updated in turn
    lines = reconciliation_lines(warehouse, on)
    balanced = all(ln["counted"] is not None and Decimal(ln["difference"]) == 0 for ln in lines)
    rec = Reconciliation.objects.filter(warehouse=warehouse, on=on).first()
    if rec is None:
        rec = Reconciliation(warehouse=warehouse, on=on)
        rec.set_scope_from(warehouse)
    rec.lines, rec.balanced, rec.made_at, rec.actor = lines, balanced, clock.now(), audit.actor_name(actor)
    rec.save()
    audit.record("stock.reconcile", actor=actor, obj=rec, object_type="reconciliation",
                 after={"warehouse": warehouse.name, "on": on, "balanced": balanced,
                        "differences": {ln["item"]: ln["difference"] for ln in lines
                                        if ln["difference"] not in ("0", "0.00")}}, reason=reason or "")
    return rec


@transaction.atomic
def do_close_day(on: dt.date | None = None, *, actor="system") -> dict:
    """Day-start job: reconcile the previous day of every warehouse that moved stock or counted (日清日结)."""
    on = on or clock.today()
    day = on - dt.timedelta(days=1)
    ids = set(StockMovement.objects.filter(on=day).values_list("warehouse_id", flat=True)) | \
        set(StockCount.objects.filter(on=day).values_list("warehouse_id", flat=True))
    done = [do_reconcile(w, on=day, actor=actor) for w in Warehouse.objects.filter(pk__in=ids)]
    return {"day": day.isoformat(), "warehouses": len(done), "unbalanced": sum(1 for r in done if not r.balanced)}


# ============================================================================== allocations and deliveries


@transaction.atomic
def do_allocate(designation, *, warehouse: Warehouse, item: Item, days: int | None = None,
                on: dt.date | None = None, actor=None, reason=None) -> Allocation:
    """Plan supplies for a sealed area: headcount x days x per-person amount; a shortage is flagged."""
    on = on or clock.today()
    if designation.status != ZStatus.ACTIVE:
        raise ActionError(_("supplies are allocated to designated (sealed or controlled) areas"), field="designation")
    if item.per_person_per_day <= 0:
        raise ActionError(_("%(name)s has no per-person daily amount") % {"name": item.name}, field="item")
    days = int(days) if days else seal_days(designation, on)
    if days < 1:
        raise ActionError(_("days must be at least 1"), field="days")
    n = headcount(designation, on)
    qty = ceil_qty(n, days, item.per_person_per_day)
    have = on_hand(warehouse).get(item.pk, ZERO)
    a = Allocation(designation=designation, warehouse=warehouse, item=item, on=on, headcount=n, days=days,
                   quantity=qty, shortage=max(ZERO, qty - have), actor=audit.actor_name(actor))
    a.set_scope_from(designation)
    _check_actor(actor, a)
    a.save()
    audit.record("allocation.create", actor=actor, obj=a, object_type="allocation",
                 after={"area": designation.area.path, "item": item.name, "headcount": n, "days": days,
                        "quantity": qty, "shortage": a.shortage}, reason=reason or "",
                 rule="supplies: headcount x days x per-person daily amount")
    return a


@transaction.atomic
def do_issue_allocation(a: Allocation, *, team: DeliveryTeam | None = None, due_on: dt.date | None = None,
                        actor=None, reason=None) -> list[DeliveryOrder]:
    """Issue the allocation from stock (as much as is on hand; the rest stays a shortage) and create one
    delivery order per household inside the area."""
    lock(a)
    if a.status != AllocationStatus.PLANNED:
        raise Conflict(_("this allocation is already issued"), field="status")
    _check_actor(actor, a)
    lock(a.warehouse)
    on = clock.today()
    have = on_hand(a.warehouse).get(a.item_id, ZERO)
    issue = min(have, a.quantity)
    if issue > 0:
        _movement(a.warehouse, a.item, Direction.OUT, issue, f"allocation #{a.pk} {a.designation.area.path}", on,
                  actor, allocation=a)
    a.shortage = a.quantity - issue
    a.status = AllocationStatus.ISSUED
    a.save(update_fields=["shortage", "status"])
    orders = []
    for hh in households_inside(a.designation):
        if not hh.n:
            continue
        o = DeliveryOrder(allocation=a, household=hh, item=a.item, quantity=ceil_qty(hh.n, a.days,
                                                                                  a.item.per_person_per_day),
                          team=team, due_on=due_on or on, actor=audit.actor_name(actor))
        o.set_scope_from(hh)
        orders.append(o)
    DeliveryOrder.objects.bulk_create(orders, batch_size=2000)
    audit.record("allocation.issue", actor=actor, obj=a, object_type="allocation",
                 after={"issued": issue, "shortage": a.shortage, "orders": len(orders),
                        "team": team.name if team else None}, reason=reason or "")
    return orders


@transaction.atomic
def do_assign_delivery(o: DeliveryOrder, *, rider, actor=None, reason=None) -> DeliveryOrder:
    """Give a planned delivery to a rider (a resident). Into a sealed unit only a current key worker with a valid
    delivery or supply pass covering the unit may take it (``hooks.ASSIGN``, registered by passes)."""
    if rider is None:
        raise ActionError(_("choose the rider"), field="rider")
    lock(o)
    if o.status != DeliveryStatus.PLANNED:
        raise Conflict(_("this delivery is already %(status)s") % {"status": o.status}, field="status")
    _check_actor(actor, o)
    why = hooks.refusal(o, rider, clock.today())
    if why:
        raise ActionError(why, field="rider", rule="passes: delivery into a sealed unit")
    before = {"rider": o.rider_id}
    o.rider = rider
    o.save(update_fields=["rider"])
    audit.record("delivery.assign", actor=actor, obj=o, object_type="delivery", before=before,
                 after={"rider": rider.pk, "household": o.household_id}, reason=reason or "")
    return o


class DeliveryClosed(Conflict):
    """An outcome for a delivery that is no longer planned; ``status`` is what it is now."""

    def __init__(self, o: DeliveryOrder):
        super().__init__(_("this delivery is already %(status)s") % {"status": o.status}, field="status")
        self.status, self.status_label = o.status, o.get_status_display()


def _first(got: list):
    if isinstance(got[0], Exception):
        raise got[0]
    return got[0]


@transaction.atomic
def do_mark_delivered(o: DeliveryOrder, *, actor=None, reason=None) -> DeliveryOrder:
    return _first(do_mark_deliveries([{"order": o, "delivered": True, "reason": reason}], actor=actor))


@transaction.atomic
def do_mark_failed(o: DeliveryOrder, *, reason: str, actor=None) -> DeliveryOrder:
    return _first(do_mark_deliveries([{"order": o, "delivered": False, "reason": reason}], actor=actor))


def _outcome(it: dict, current: dict, now, actor):
    """One item of ``do_mark_deliveries`` applied to its order (``current``: the locked rows by id, as the
    items before it left them); its audit row, or the refusal raised."""
    o, delivered, reason = it["order"], it["delivered"], (it.get("reason") or "")
    if not delivered:
        audit.require_reason(reason, _("a failed delivery needs its reason"))
    row = current.get(o.pk)
    if row is None:
        raise Conflict(_("this %(kind)s no longer exists") % {"kind": DeliveryOrder._meta.verbose_name},
                       field=DeliveryOrder._meta.model_name)
    if row is not o:  # the caller's copy takes the committed state (as ``lock`` reloads it)
        for f in DeliveryOrder._meta.concrete_fields:
            setattr(o, f.attname, getattr(row, f.attname))
        current[o.pk] = o
    if o.status != DeliveryStatus.PLANNED:
        raise DeliveryClosed(o)
    _check_actor(actor, o, access.SUPPLIES_DELIVER)
    audit.check_text(reason, "reason")
    o.status, o.done_at, o.actor = (DeliveryStatus.DELIVERED if delivered else DeliveryStatus.FAILED), now, \
        audit.actor_name(actor)
    if not delivered:
        o.failed_reason = reason.strip()[:200]
    after = {"household": o.household_id, "item": o.item_id}
    with audit.occurred(it.get("occurred", audit.occurred_now())):
        return audit.entry(f"delivery.{o.status}", actor=actor, obj=o, object_type="delivery",
                           after={**after, "quantity": o.quantity} if delivered else after, reason=reason)


@transaction.atomic
def do_mark_deliveries(items: list[dict], *, actor=None) -> list:
    """Delivery outcomes (dicts: ``order``, ``delivered`` (true, or false for a failed one), ``reason`` (needed
    when failed), ``occurred``: when its audit row says it happened) applied in the order given, with the rules
    of one delivered or failed outcome each: the order must still be planned (a second outcome for it is refused
    with ``DeliveryClosed``) and within the actor's ``supplies.deliver``. The orders are locked and read once, the
    applied ones updated together, their audit rows (``delivery.delivered`` / ``delivery.failed``) inserted
    together. Returns, for each item, its ``DeliveryOrder`` or the refusal (ActionError, Conflict, Forbidden)
    that left it unwritten."""
    current = {o.pk: o for o in DeliveryOrder._base_manager.select_for_update()  # locked in id order: no deadlock
               .filter(pk__in={it["order"].pk for it in items}).order_by("pk")}
    now, out, entries, changed = clock.now(), [], [], {}
    for it in items:
        try:
            entries.append(_outcome(it, current, now, actor))
        except (ActionError, access.Forbidden) as exc:
            out.append(exc)
            continue
        changed[it["order"].pk] = it["order"]
        out.append(it["order"])
    if changed:
        DeliveryOrder.objects.bulk_update(list(changed.values()), ["status", "done_at", "actor", "failed_reason"])
        AuditEntry.objects.bulk_create(entries)
    return out


# ============================================================================== prices


@transaction.atomic
def do_report_price(item: Item, *, market: str, price, on: dt.date | None = None, area=None, actor=None,
                    reason=None) -> PriceReport:
    """A market price report; an alert when it is more than the set rise above the item's baseline."""
    on = on or clock.today()
    p = _dec(price)
    if p <= 0:
        raise ActionError(_("price must be more than 0"), field="price")
    if not item.baseline_price:
        raise ActionError(_("%(name)s has no baseline price") % {"name": item.name}, field="item")
    if not (market or "").strip():
        raise ActionError(_("the market is required"), field="market")
    threshold = Decimal(str(config()["price_alert_rise_pct"]))
    rise = rise_pct(p, item.baseline_price)
    r = PriceReport(item=item, market=market.strip()[:120], area=area, on=on, price=p, baseline=item.baseline_price,
                    rise_pct=rise, alert=rise > threshold, actor=audit.actor_name(actor))
    r.set_scope_from(area)
    r.save()
    audit.record("price.report", actor=actor, obj=r, object_type="price_report",
                 after={"item": item.name, "market": r.market, "price": p, "rise_pct": rise, "alert": r.alert},
                 reason=reason or "", rule=f"supplies: alert above +{threshold}%" if r.alert else "")
    return r


# ============================================================================== reads


