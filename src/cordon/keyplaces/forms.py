"""Forms of the key-place pages. They only parse; ``keyplaces.actions`` decides."""
from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from cordon.keyplaces.models import Category, Direction, Kind, MoveReason, PlaceStatus, Role
from cordon.core.models import TestResult
from cordon.web.forms import CheckedForm

DATE = forms.DateInput(attrs={"type": "date"})


class PlaceForm(CheckedForm):
    ref = forms.CharField(label=_("Code"), max_length=40, help_text=_("a short code, e.g. NH-WQ-1"))
    name = forms.CharField(label=_("Name"), max_length=120)
    kind = forms.ChoiceField(label=_("Kind"), choices=Kind.choices)
    area = forms.CharField(label=_("Address (area path)"), max_length=400,
                           help_text=_("e.g. 城关区/皋兰路街道/五泉社区/五泉小区"))
    capacity = forms.IntegerField(label=_("Capacity"), min_value=0, max_value=1_000_000, initial=0)
    test_every_days = forms.IntegerField(label=_("On-site test every N days (closed loop)"), min_value=1,
                                         max_value=30, initial=1)
    monitor_days = forms.IntegerField(label=_("Off-shift health monitoring (days)"), min_value=0, max_value=30,
                                      initial=7)


class StatusForm(CheckedForm):
    status = forms.ChoiceField(label=_("New status"), choices=PlaceStatus.choices)
    on = forms.DateField(label=_("From"), required=False, widget=DATE)
    reason = forms.CharField(label=_("Reason"), max_length=500, widget=forms.Textarea(attrs={"rows": 2}),
                             help_text=_("Closing a market, pharmacy or clinic outside high/medium risk areas is "
                                         "recorded as a possible violation (nine prohibitions #9)."))


class CountsForm(CheckedForm):
    capacity = forms.IntegerField(label=_("Capacity"), min_value=0, max_value=1_000_000)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for value, label in Category.choices:
            self.fields[value] = forms.IntegerField(label=label, min_value=0, max_value=1_000_000, required=False)


class PersonForm(CheckedForm):
    name = forms.CharField(label=_("Name"), max_length=80)
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)
    phone = forms.CharField(label=_("Phone"), max_length=20, required=False)
    inside = forms.BooleanField(label=_("Inside from today"), required=False, initial=True)
    rotate_on = forms.DateField(label=_("Shift rotation date (staff)"), required=False, widget=DATE)


class MoveForm(CheckedForm):
    person = forms.TypedChoiceField(label=_("Person"), coerce=int)
    direction = forms.ChoiceField(label=_("Entry or exit"), choices=Direction.choices)
    reason = forms.ChoiceField(label=_("Reason"), choices=MoveReason.choices)
    note = forms.CharField(label=_("Note"), max_length=300, required=False)
    rotate_on = forms.DateField(label=_("Shift rotation date (staff entry)"), required=False, widget=DATE)


class ShiftForm(CheckedForm):
    leaving = forms.TypedMultipleChoiceField(label=_("Leaving (staff inside)"), coerce=int, required=False,
                                             widget=forms.CheckboxSelectMultiple)
    coming = forms.TypedMultipleChoiceField(label=_("Coming in (staff outside)"), coerce=int, required=False,
                                            widget=forms.CheckboxSelectMultiple)
    rotate_on = forms.DateField(label=_("Next rotation date"), required=False, widget=DATE)
    reason = forms.CharField(label=_("Reason"), max_length=300)


class ResultForm(CheckedForm):
    person = forms.TypedChoiceField(label=_("Person"), coerce=int)
    result = forms.ChoiceField(label=_("Result"), choices=TestResult.choices)
