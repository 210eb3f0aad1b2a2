"""Supplies to sealed areas (物资供应保障): warehouses, items, stock movements, allocations by headcount and
days sealed, delivery orders to the door, delivery teams, daily reconciliation, market price reports."""
from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from cordon.core.models import ScopedFields, text_choices


ItemKind = text_choices(
    "ItemKind", staple=_("Staple pack"), vegetables=_("Vegetables"), medicine=_("Medicine"), other=_("Other"),
)


class Item(models.Model):
    name = models.CharField(max_length=80, unique=True)
    kind = models.CharField(max_length=12, choices=ItemKind.choices)
    unit = models.CharField(max_length=12, default="份")
    per_person_per_day = models.DecimalField(max_digits=8, decimal_places=3, default=0,
                                             help_text="allocation per resident per sealed day (0: not allocated)")
    baseline_price = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    price_unit = models.CharField(max_length=12, blank=True, help_text="e.g. 元/斤")

    def __str__(self) -> str:
        return self.name


class Warehouse(ScopedFields):
    name = models.CharField(max_length=120, unique=True)
    area = models.ForeignKey("places.Area", on_delete=models.PROTECT, related_name="+")

    def __str__(self) -> str:
        return self.name


class Direction(models.TextChoices):
    IN = "in", _("In")
    OUT = "out", _("Out")


class StockMovement(ScopedFields):
    warehouse = models.ForeignKey(Warehouse, on_delete=models.PROTECT, related_name="movements")
    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="+")
    on = models.DateField(db_index=True)
    at = models.DateTimeField()
    direction = models.CharField(max_length=3, choices=Direction.choices)
    quantity = models.DecimalField(max_digits=12, decimal_places=2)
    reason = models.CharField(max_length=200)
    allocation = models.ForeignKey("supplies.Allocation", null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="movements")
    actor = models.CharField(max_length=150)

    class Meta:
        indexes = [models.Index(fields=["warehouse", "item", "on"])]


class StockCount(ScopedFields):
    """A physical count of an item at a warehouse at the end of a day (盘点)."""

    warehouse = models.ForeignKey(Warehouse, on_delete=models.PROTECT, related_name="counts")
    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="+")
    on = models.DateField()
    counted = models.DecimalField(max_digits=12, decimal_places=2)
    actor = models.CharField(max_length=150)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["warehouse", "item", "on"], name="stock_count_once")]


class Reconciliation(ScopedFields):
    """A warehouse's day closed (日清日结): per item, everything in = everything out + on hand."""

    warehouse = models.ForeignKey(Warehouse, on_delete=models.CASCADE, related_name="reconciliations")
    on = models.DateField()
    lines = models.JSONField(default=list)  # [{item, in, out, book, counted, difference}]
    balanced = models.BooleanField()
    made_at = models.DateTimeField()
    actor = models.CharField(max_length=150)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["warehouse", "on"], name="reconciliation_once")]


AllocationStatus = text_choices("AllocationStatus", planned=_("Planned"), issued=_("Issued from stock"))


class Allocation(ScopedFields):
    """Supplies for one sealed area: headcount inside x days sealed x per-person daily amount."""

    designation = models.ForeignKey("zones.Designation", on_delete=models.PROTECT, related_name="allocations")
    warehouse = models.ForeignKey(Warehouse, on_delete=models.PROTECT, related_name="allocations")
    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="+")
    on = models.DateField()
    headcount = models.PositiveIntegerField()
    days = models.PositiveSmallIntegerField()
    quantity = models.DecimalField(max_digits=12, decimal_places=2)
    shortage = models.DecimalField(max_digits=12, decimal_places=2, default=0,
                                   help_text="quantity the warehouse lacked when planned or issued")
    status = models.CharField(max_length=8, choices=AllocationStatus.choices, default=AllocationStatus.PLANNED)
    actor = models.CharField(max_length=150)


class DeliveryTeam(ScopedFields):
    name = models.CharField(max_length=80, unique=True)
    area = models.ForeignKey("places.Area", on_delete=models.PROTECT, related_name="+")
    leader = models.CharField(max_length=40, blank=True)
    phone = models.CharField(max_length=20, blank=True)

    def __str__(self) -> str:
        return self.name


DeliveryStatus = text_choices("DeliveryStatus", planned=_("Planned"), delivered=_("Delivered"), failed=_("Failed"))


class DeliveryOrder(ScopedFields):
    """One delivery to a household's door (scope down to the unit; the building is ``building_id``)."""

    allocation = models.ForeignKey(Allocation, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="deliveries")
    household = models.ForeignKey("places.Household", on_delete=models.PROTECT, related_name="+",
                                  db_constraint=False)
    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="+")
    quantity = models.DecimalField(max_digits=10, decimal_places=2)
    team = models.ForeignKey(DeliveryTeam, null=True, blank=True, on_delete=models.PROTECT, related_name="orders")
    rider = models.ForeignKey("places.Resident", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                              db_constraint=False, help_text="the key worker assigned to carry it")
    due_on = models.DateField()
    status = models.CharField(max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PLANNED,
                              db_index=True)
    done_at = models.DateTimeField(null=True, blank=True)
    failed_reason = models.CharField(max_length=200, blank=True)
    actor = models.CharField(max_length=150, blank=True)

    class Meta:
        indexes = [models.Index(fields=["building", "status"])]


class PriceReport(ScopedFields):
    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="prices")
    market = models.CharField(max_length=120)
    area = models.ForeignKey("places.Area", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    on = models.DateField(db_index=True)
    price = models.DecimalField(max_digits=10, decimal_places=2)
    baseline = models.DecimalField(max_digits=10, decimal_places=2)
    rise_pct = models.DecimalField(max_digits=7, decimal_places=1)
    alert = models.BooleanField(default=False, db_index=True)
    actor = models.CharField(max_length=150)
