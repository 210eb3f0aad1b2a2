"""Forms of the cases pages. They only parse; the actions in ``cases.actions`` decide."""
from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from cordon.cases.models import ArrivalKind, FacilityKind
from cordon.web.forms import CheckedForm

RESULT_CHOICES = [("", _("No test today")), ("negative", _("Negative")), ("positive", _("Positive"))]
LEVEL_CHOICES = [("high", _("High risk")), ("medium", _("Medium risk")), ("low", _("Low risk"))]
CONTACT_CHOICES = [("close_contact", _("Close contact (密接)")), ("contact_of_contact", _("Contact of a contact (次密接)"))]


class CheckInForm(CheckedForm):
    temperature = forms.DecimalField(label=_("Temperature (°C)"), max_digits=4, decimal_places=1, required=False,
                                     min_value=30, max_value=45)
    test_result = forms.ChoiceField(label=_("Test result"), choices=RESULT_CHOICES, required=False)
    symptoms = forms.CharField(label=_("Symptoms"), max_length=200, required=False)


class NoteForm(CheckedForm):
    text = forms.CharField(label=_("Note"), max_length=1000, required=False)
    check = forms.IntegerField(required=False, min_value=0, widget=forms.HiddenInput)


class ContactForm(CheckedForm):
    person = forms.CharField(label=_("Person reference"), max_length=40)
    category = forms.ChoiceField(label=_("Category"), choices=CONTACT_CHOICES)
    last_exposure = forms.DateField(label=_("Last exposure"), widget=forms.DateInput(attrs={"type": "date"}))
    home = forms.CharField(label=_("Home (address path)"), max_length=400, required=False,
                           help_text=_("Empty: the infection's home unit."))
    via = forms.CharField(label=_("Through close contact"), max_length=40, required=False,
                          help_text=_("For a contact of a contact: the close contact's reference."))


class ReclassifyForm(CheckedForm):
    kind = forms.ChoiceField(label=_("Classification"), choices=[("confirmed", _("Confirmed case")),
                                                                  ("asymptomatic", _("Asymptomatic infection"))])
    reason = forms.CharField(label=_("Reason"), max_length=500, required=False)


class ArrivalForm(CheckedForm):
    person = forms.CharField(label=_("Person reference"), max_length=40)
    region = forms.ChoiceField(label=_("Coming from"), required=False)
    from_level = forms.ChoiceField(label=_("Or the origin's level"), choices=[("", "—")] + LEVEL_CHOICES,
                                   required=False)
    kind = forms.ChoiceField(label=_("Traveller"), choices=ArrivalKind.choices)
    arrived_on = forms.DateField(label=_("Arrival date"), widget=forms.DateInput(attrs={"type": "date"}))
    destination = forms.CharField(label=_("Destination (address path)"), max_length=400)

    def __init__(self, *args, regions=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["region"].choices = [("", "—")] + [(str(r.pk), f"{r.name} · {r.level_label}") for r in regions]


class FacilityForm(CheckedForm):
    name = forms.CharField(label=_("Name"), max_length=120)
    kind = forms.ChoiceField(label=_("Kind"), choices=FacilityKind.choices)
    area = forms.CharField(label=_("Where (address path)"), max_length=400)
    capacity = forms.IntegerField(label=_("Capacity (places)"), min_value=1)


class AdmitForm(CheckedForm):
    person = forms.CharField(label=_("Person or infection reference"), max_length=40)
    note = forms.CharField(label=_("Note"), max_length=200, required=False,
                           help_text=_("For a person the pack keeps at home: why the home is unsuitable."))
