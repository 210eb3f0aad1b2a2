"""Forms of the care pages. They only parse; ``care.actions`` decides."""
from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from cordon.care.models import WEEKDAYS, Source
from cordon.web.forms import CheckedForm

PRIORITY_CHOICES = [("critical", _("Critical")), ("labour", _("Labour / pregnancy")), ("infant", _("Infant")),
                    ("treatment", _("Scheduled treatment (dialysis, chemotherapy)")), ("elderly", _("Elderly")),
                    ("other", _("Other medical need"))]


class RequestForm(CheckedForm):
    person = forms.CharField(label=_("Who needs care"), max_length=80)
    area = forms.CharField(label=_("Where (address path)"), max_length=400,
                           help_text=_("e.g. 城关区/皋兰路街道/五泉社区/五泉小区/1号楼/1单元"))
    address_note = forms.CharField(label=_("Door number, directions"), max_length=200, required=False)
    need = forms.ChoiceField(label=_("Need"), choices=PRIORITY_CHOICES)
    need_text = forms.CharField(label=_("What is wrong"), max_length=300, required=False,
                                widget=forms.Textarea(attrs={"rows": 2}))
    urgent = forms.BooleanField(label=_("Life-threatening now (critical)"), required=False)
    source = forms.ChoiceField(label=_("Request from"), choices=Source.choices, initial=Source.COMMUNITY)
    phone = forms.CharField(label=_("Callback number"), max_length=20, required=False)


class RetriageForm(CheckedForm):
    priority = forms.ChoiceField(label=_("Priority"), choices=PRIORITY_CHOICES)
    reason = forms.CharField(label=_("Reason"), max_length=300)


class DispatchForm(CheckedForm):
    vehicle = forms.ChoiceField(label=_("Closed-loop vehicle"))
    destination = forms.ChoiceField(label=_("Hospital"))
    reason = forms.CharField(label=_("Note"), max_length=300, required=False)


class AdvanceForm(CheckedForm):
    to = forms.ChoiceField(choices=[("arrived", _("Vehicle arrived")), ("at_hospital", _("At hospital"))])
    reason = forms.CharField(label=_("Note"), max_length=300, required=False)


class CloseForm(CheckedForm):
    outcome = forms.ChoiceField(label=_("Outcome"), choices=[("done", _("Done")),
                                                            ("cancelled", _("Cancelled by the requester"))])
    reason = forms.CharField(label=_("Reason / result"), max_length=300, required=False)
    confirmed_by = forms.CharField(label=_("Cancellation confirmed by (requester)"), max_length=150, required=False)
    confirmation = forms.CharField(label=_("How it was confirmed"), max_length=300, required=False,
                                   help_text=_("e.g. call-back to the family at 14:05"))


class NeedsForm(CheckedForm):
    dialysis_weekdays = forms.MultipleChoiceField(label=_("Dialysis days"), required=False,
                                                  choices=[(str(i), d) for i, d in enumerate(WEEKDAYS)],
                                                  widget=forms.CheckboxSelectMultiple)
    due_date = forms.DateField(label=_("Due date"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    oxygen = forms.BooleanField(label=_("Needs oxygen"), required=False)
    medication = forms.CharField(label=_("Medication"), max_length=200, required=False)
    notes = forms.CharField(label=_("Notes"), max_length=400, required=False)


class HospitalForm(CheckedForm):
    name = forms.CharField(label=_("Hospital name"), max_length=120)
    area = forms.CharField(label=_("Area it belongs to (address path)"), max_length=400,
                           help_text=_("e.g. 城关区 or 城关区/皋兰路街道/五泉社区"))
    phone = forms.CharField(label=_("Contact phone"), max_length=20, required=False)


class VehicleForm(CheckedForm):
    plate = forms.CharField(label=_("Plate"), max_length=20)
    team = forms.CharField(label=_("Team / station"), max_length=80, required=False)
    closed_loop = forms.BooleanField(label=_("Closed-loop vehicle (闭环转运)"), required=False, initial=True)
