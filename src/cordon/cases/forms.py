"""Forms of the cases pages. They only parse; the actions in ``cases.actions`` decide."""
from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from cordon.cases.models import ArrivalKind, FacilityKind, Found, InfectionKind
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
    step = forms.RegexField(r"^[a-z][a-z0-9_]*$", max_length=40, required=False, widget=forms.HiddenInput)
    playbook = forms.RegexField(r"^[a-z][a-z0-9_]*$", label=_("Playbook"), max_length=40, required=False)


class ContactForm(CheckedForm):
    person = forms.CharField(label=_("Person reference"), max_length=40)
    category = forms.ChoiceField(label=_("Category"), choices=CONTACT_CHOICES)
    last_exposure = forms.DateField(label=_("Last exposure"), widget=forms.DateInput(attrs={"type": "date"}))
    home = forms.CharField(label=_("Home (address path)"), max_length=400, required=False,
                           help_text=_("Empty: the infection's home unit."))
    via = forms.CharField(label=_("Through close contact"), max_length=40, required=False,
                          help_text=_("For a contact of a contact: the close contact's reference."))
    id_number = forms.CharField(label=_("ID number"), max_length=18, required=False,
                                help_text=_("A resident's ID number links the order to the resident's record; "
                                            "empty for someone who is not a resident."))


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


class ArrivalTestForm(CheckedForm):
    result = forms.ChoiceField(label=_("Test result"), choices=RESULT_CHOICES[1:])
    on = forms.DateField(label=_("Sampled on"), required=False, widget=forms.DateInput(attrs={"type": "date"}),
                         help_text=_("Empty: today."))


class InfectionForm(CheckedForm):
    label = forms.CharField(label=_("Case reference"), max_length=40)
    home = forms.CharField(label=_("Home (address path of the building unit)"), max_length=400)
    kind = forms.ChoiceField(label=_("Classification"), choices=InfectionKind.choices)
    found = forms.ChoiceField(label=_("Found"), choices=Found.choices)
    confirmed_on = forms.DateField(label=_("Confirmed on"), widget=forms.DateInput(attrs={"type": "date"}))
    visited = forms.CharField(label=_("Places visited"), required=False, max_length=4000,
                              widget=forms.Textarea(attrs={"rows": 3}),
                              help_text=_("One address path per line: the exposure places of the trace."))
    home_isolating = forms.BooleanField(label=_("Already isolating at home when found"), required=False)
    reason = forms.CharField(label=_("Reason"), max_length=500, required=False)


class ManualOrderForm(CheckedForm):
    person = forms.CharField(label=_("Person reference"), max_length=40)
    category = forms.ChoiceField(label=_("Category"))
    home = forms.CharField(label=_("Home (address path)"), max_length=400, required=False,
                           help_text=_("Empty: the person's earlier order or arrival decides."))
    reason = forms.CharField(label=_("Reason and recorded link"), max_length=500,
                             help_text=_("Required: the link to an infection or a risk area (nine prohibitions #4)."))

    def __init__(self, *args, categories=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = list(categories)


class ExtendForm(CheckedForm):
    days = forms.IntegerField(label=_("Days"), min_value=1, max_value=365)
    reason = forms.CharField(label=_("Reason"), max_length=500,
                             help_text=_("Only the person's positive result is a reason (nine prohibitions #5)."))


class SpilloverForm(CheckedForm):
    person = forms.CharField(label=_("Person reference"), max_length=40)
    from_area = forms.CharField(label=_("Risk area left (address path)"), max_length=400)
    left_on = forms.DateField(label=_("Left on"), widget=forms.DateInput(attrs={"type": "date"}))
    home = forms.CharField(label=_("Home (address path)"), max_length=400)
    reason = forms.CharField(label=_("Reason"), max_length=500, required=False)
