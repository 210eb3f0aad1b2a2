"""Forms of the passes pages."""
from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from cordon.passes.models import Kind
from cordon.web.forms import CheckedForm


class PassForm(CheckedForm):
    kind = forms.ChoiceField(label=_("Kind"), choices=Kind.choices)
    holder = forms.CharField(label=_("Holder's ID number (a resident)"), max_length=18, required=False,
                             help_text=_("or, for a driver from outside the city, the name and ID number below"))
    holder_name = forms.CharField(label=_("Holder's name (from outside the city)"), max_length=40, required=False)
    holder_id_number = forms.CharField(label=_("Holder's ID number (from outside the city)"), max_length=18,
                                       required=False)
    areas = forms.CharField(label=_("Areas covered (address paths, one per line)"), widget=forms.Textarea(attrs={"rows": 3}),
                            max_length=2000, help_text=_("e.g. 城关区/皋兰路街道: a street covers everything inside it"))
    valid_from = forms.DateField(label=_("Valid from"), widget=forms.DateInput(attrs={"type": "date"}))
    valid_to = forms.DateField(label=_("Valid to (inclusive)"), widget=forms.DateInput(attrs={"type": "date"}))
    reason = forms.CharField(label=_("Reason"), max_length=400, required=False)


class RevokeForm(CheckedForm):
    reason = forms.CharField(label=_("Why it is revoked"), max_length=400)


class CheckForm(CheckedForm):
    checkpoint = forms.TypedChoiceField(label=_("Checkpoint"), coerce=int)
    code = forms.CharField(label=_("Code typed (or the token read)"), max_length=4000)


class CheckpointForm(CheckedForm):
    name = forms.CharField(label=_("Checkpoint name"), max_length=80)
    area = forms.CharField(label=_("Where it is (address path)"), max_length=400)
    city_exit = forms.BooleanField(label=_("People leave the city through it (48-hour test)"), required=False)


class AssignForm(CheckedForm):
    rider = forms.CharField(label=_("Rider's ID number"), max_length=18)
