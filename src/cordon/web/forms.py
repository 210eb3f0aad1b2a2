from django import forms
from django.utils.translation import gettext_lazy as _


class UnmaskForm(forms.Form):
    field = forms.ChoiceField(label=_("Field"), choices=[("id_number", _("ID number")), ("phone", _("Phone"))])
    reason = forms.CharField(label=_("Reason"), max_length=200, min_length=2,
                             help_text=_("Why you need the full value. It is written to the audit log."))


class AuditFilterForm(forms.Form):
    actor = forms.CharField(label=_("Actor"), max_length=150, required=False)
    action = forms.CharField(label=_("Action"), max_length=80, required=False,
                             help_text=_("e.g. resident.unmask, or resident for all resident actions"))
    object_type = forms.CharField(label=_("Object type"), max_length=40, required=False)
    date_from = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    text = forms.CharField(label=_("Text"), max_length=100, required=False,
                           help_text=_("Searches the object, the reason and the rule"))
