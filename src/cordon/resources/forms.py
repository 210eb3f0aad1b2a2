"""Forms of the resources pages. They only parse; ``resources.actions`` decides."""
from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _, pgettext_lazy

from cordon.resources.models import PersonKind, Skill, TeamKind
from cordon.web.forms import CheckedForm

AREA_HINT = _("e.g. 城关区/皋兰路街道/五泉社区/五泉小区/1号楼")


def _area(label):
    return forms.CharField(label=label, max_length=400, help_text=AREA_HINT)


class PersonForm(CheckedForm):
    name = forms.CharField(label=_("Full name"), max_length=40)
    kind = forms.ChoiceField(label=_("Role"), choices=PersonKind.choices)
    area = _area(_("Based in (address path)"))
    phone = forms.CharField(label=_("Phone"), max_length=20, required=False)
    skills = forms.MultipleChoiceField(label=_("Skills"), choices=Skill.choices, required=False,
                                       widget=forms.CheckboxSelectMultiple)
    team = forms.TypedChoiceField(label=pgettext_lazy("resources", "Team"), coerce=int, required=False, empty_value=None)


class AssignForm(CheckedForm):
    team = forms.TypedChoiceField(label=pgettext_lazy("resources", "Team"), coerce=int, required=False, empty_value=None)
    active = forms.BooleanField(label=_("On the roster (not stood down)"), required=False, initial=True)
    reason = forms.CharField(label=_("Reason"), max_length=500, required=False)


class TeamForm(CheckedForm):
    name = forms.CharField(label=_("Name of the team"), max_length=80)
    kind = forms.ChoiceField(label=_("Kind"), choices=TeamKind.choices)
    area = _area(_("Based in (address path)"))


class VanForm(CheckedForm):
    plate = forms.CharField(label=_("Plate"), max_length=20)
    area = _area(_("Based in (address path)"))
    team = forms.TypedChoiceField(label=pgettext_lazy("resources", "Team"), coerce=int, required=False, empty_value=None)
    closed_loop = forms.BooleanField(label=_("Closed-loop vehicle (闭环转运)"), required=False, initial=True)


class LabForm(CheckedForm):
    name = forms.CharField(label=_("Lab name"), max_length=80)
    area = _area(_("Takes the rounds of (address path)"))
    tubes_per_day = forms.IntegerField(label=_("Tubes per day"), min_value=1, max_value=10_000_000)


class CapacityForm(CheckedForm):
    tubes_per_day = forms.IntegerField(label=_("Tubes per day"), min_value=1, max_value=10_000_000)
    reason = forms.CharField(label=_("Reason"), max_length=500, required=False)


class ShiftForm(CheckedForm):
    area = _area(_("Where (address path)"))
    on = forms.DateField(label=_("Day"), widget=forms.DateInput(attrs={"type": "date"}))
    start = forms.TimeField(label=_("Starts at"), widget=forms.TimeInput(attrs={"type": "time"}))
    end = forms.TimeField(label=_("Ends at"), widget=forms.TimeInput(attrs={"type": "time"}))
    team = forms.TypedChoiceField(label=pgettext_lazy("resources", "Team"), coerce=int, required=False, empty_value=None)
    people = forms.TypedMultipleChoiceField(label=_("People on the shift"), coerce=int, required=False,
                                            widget=forms.CheckboxSelectMultiple)
    van = forms.TypedChoiceField(label=_("Van"), coerce=int, required=False, empty_value=None)
    note = forms.CharField(label=_("Note"), max_length=200, required=False)


class CancelForm(CheckedForm):
    reason = forms.CharField(label=_("Why it is cancelled"), max_length=500)
