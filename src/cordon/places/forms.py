from django import forms
from django.utils.translation import gettext_lazy as _

from cordon.places.models import Treatment
from cordon.web.forms import CheckedForm


class UnmaskForm(CheckedForm):
    field = forms.ChoiceField(label=_("Field"), choices=[("id_number", _("ID number")), ("phone", _("Phone"))])
    reason = forms.CharField(label=_("Reason"), max_length=200, min_length=2,
                             help_text=_("Why you need the full value. It is written to the audit log."))


class ResidentForm(CheckedForm):
    """A resident's record. Editing (``editing=True``): the identifying fields are never shown filled in (the
    page masks them); left empty they stay as they are."""

    household = forms.CharField(label=_("Flat (door number)"), max_length=20)
    name = forms.CharField(label=_("Name"), max_length=40)
    id_number = forms.CharField(label=_("ID number"), max_length=18)
    phone = forms.CharField(label=_("Phone"), max_length=11, required=False)
    lives_alone = forms.BooleanField(label=_("Lives alone"), required=False)
    treatment = forms.ChoiceField(label=_("Regular treatment"), choices=Treatment.choices, required=False)
    disability = forms.BooleanField(label=_("Disability"), required=False)
    chronic_illness = forms.BooleanField(label=_("Severe chronic illness"), required=False)
    pregnant_due = forms.DateField(label=_("Due date (pregnancy)"), required=False,
                                   widget=forms.DateInput(attrs={"type": "date"}))
    reason = forms.CharField(label=_("Reason"), max_length=500, required=False)

    def __init__(self, *args, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if editing:
            for key in ("household", "name", "id_number", "phone"):
                self.fields[key].required = False
                self.fields[key].help_text = _("Empty: unchanged.")
