"""Forms of the supplies dashboard."""
from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class MovementForm(forms.Form):
    warehouse = forms.TypedChoiceField(label=_("Warehouse"), coerce=int)
    item = forms.TypedChoiceField(label=_("Item"), coerce=int)
    direction = forms.ChoiceField(label=_("Direction"), choices=[("in", _("In")), ("out", _("Out"))])
    quantity = forms.DecimalField(label=_("Quantity"), min_value=0, decimal_places=2)
    reason = forms.CharField(label=_("Reason"), max_length=200)


class CountForm(forms.Form):
    warehouse = forms.TypedChoiceField(label=_("Warehouse"), coerce=int)
    item = forms.TypedChoiceField(label=_("Item"), coerce=int)
    counted = forms.DecimalField(label=_("Counted on hand"), min_value=0, decimal_places=2)


class ReconcileForm(forms.Form):
    warehouse = forms.TypedChoiceField(label=_("Warehouse"), coerce=int)


class AllocateForm(forms.Form):
    designation = forms.TypedChoiceField(label=_("Sealed area"), coerce=int)
    warehouse = forms.TypedChoiceField(label=_("Warehouse"), coerce=int)
    item = forms.TypedChoiceField(label=_("Item"), coerce=int)
    days = forms.IntegerField(label=_("Days (empty: until the expected change)"), min_value=1, max_value=60,
                              required=False)


class PriceForm(forms.Form):
    item = forms.TypedChoiceField(label=_("Item"), coerce=int)
    market = forms.CharField(label=_("Market"), max_length=120)
    price = forms.DecimalField(label=_("Price"), min_value=0, decimal_places=2)


class FailForm(forms.Form):
    reason = forms.CharField(label=_("Why it failed"), max_length=200)
