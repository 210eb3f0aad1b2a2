"""Forms of the key-worker pages."""
from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from cordon.keyworkers.models import EmployerKind
from cordon.core.models import TestResult
from cordon.web.forms import CheckedForm


class RegisterForm(CheckedForm):
    id_number = forms.CharField(label=_("Resident's ID number"), max_length=18, min_length=15)
    group = forms.ChoiceField(label=_("Group (pack key population)"))
    employer = forms.TypedChoiceField(label=_("Employer"), coerce=int)
    workplace = forms.CharField(label=_("Workplace (area path, optional)"), max_length=400, required=False)
    registered_on = forms.DateField(label=_("Registered on (empty: today)"), required=False)
    reason = forms.CharField(label=_("Reason"), max_length=500, required=False)


class SampleForm(CheckedForm):
    result = forms.ChoiceField(label=_("Result"), choices=TestResult.choices)
    on = forms.DateField(label=_("Sampled on (empty: today)"), required=False)
    reason = forms.CharField(label=_("Reason"), max_length=500, required=False)


class EmployerForm(CheckedForm):
    name = forms.CharField(label=_("Name"), max_length=120)
    kind = forms.ChoiceField(label=_("Kind"), choices=EmployerKind.choices)
    reason = forms.CharField(label=_("Reason"), max_length=500, required=False)


class ContactForm(CheckedForm):
    username = forms.CharField(label=_("User name of the employer contact"), max_length=150)
    reason = forms.CharField(label=_("Reason"), max_length=500, required=False)
