"""Forms of the supplies dashboard."""
from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from cordon.supplies.models import ItemKind
from cordon.web.forms import CheckedForm


class MovementForm(CheckedForm):
    warehouse = forms.TypedChoiceField(label=_("Warehouse"), coerce=int)
    item = forms.TypedChoiceField(label=_("Item"), coerce=int)
    direction = forms.ChoiceField(label=_("Direction"), choices=[("in", _("In")), ("out", _("Out"))])
    quantity = forms.DecimalField(label=_("Quantity"), min_value=0, decimal_places=2)
    reason = forms.CharField(label=_("Reason"), max_length=200)


class CountForm(CheckedForm):
    warehouse = forms.TypedChoiceField(label=_("Warehouse"), coerce=int)
    item = forms.TypedChoiceField(label=_("Item"), coerce=int)
    counted = forms.DecimalField(label=_("Counted on hand"), min_value=0, decimal_places=2)


class ReconcileForm(CheckedForm):
    warehouse = forms.TypedChoiceField(label=_("Warehouse"), coerce=int)


class AllocateForm(CheckedForm):
    designation = forms.TypedChoiceField(label=_("Sealed area"), coerce=int)
    warehouse = forms.TypedChoiceField(label=_("Warehouse"), coerce=int)
    item = forms.TypedChoiceField(label=_("Item"), coerce=int)
    days = forms.IntegerField(label=_("Days (empty: until the expected change)"), min_value=1, max_value=60,
                              required=False)


class PriceForm(CheckedForm):
    item = forms.TypedChoiceField(label=_("Item"), coerce=int)
    market = forms.CharField(label=_("Market"), max_length=120)
    price = forms.DecimalField(label=_("Price"), min_value=0, decimal_places=2)


class FailForm(CheckedForm):
    reason = forms.CharField(label=_("Why it failed"), max_length=200)


class WarehouseForm(CheckedForm):
    name = forms.CharField(label=_("Warehouse name"), max_length=120)
    area = forms.CharField(label=_("Area it belongs to (address path)"), max_length=400,
                           help_text=_("e.g. 城关区 or 城关区/皋兰路街道/五泉社区"))


class ItemForm(CheckedForm):
    name = forms.CharField(label=_("Item name"), max_length=80)
    kind = forms.ChoiceField(label=_("Kind"), choices=ItemKind.choices)
    unit = forms.CharField(label=_("Unit of measure"), max_length=12, initial="份")
    per_person_per_day = forms.DecimalField(label=_("Allocation per person per sealed day (0: not allocated)"),
                                            min_value=0, max_digits=8, decimal_places=3, initial=0)
    baseline_price = forms.DecimalField(label=_("Baseline price (empty: no price watch)"), min_value=0,
                                        max_digits=10, decimal_places=2, required=False)
    price_unit = forms.CharField(label=_("Price unit"), max_length=12, required=False,
                                 help_text=_("e.g. 元/斤"))


class TeamForm(CheckedForm):
    name = forms.CharField(label=_("Team name"), max_length=80)
    area = forms.CharField(label=_("Area it serves (address path)"), max_length=400,
                           help_text=_("e.g. 城关区/皋兰路街道"))
    leader = forms.CharField(label=_("Leader"), max_length=40, required=False)
    phone = forms.CharField(label=_("Contact phone"), max_length=20, required=False)

