from django import forms
from django.utils.translation import gettext_lazy as _

from cordon.web.forms import CheckedForm


class UnmaskForm(CheckedForm):
    field = forms.ChoiceField(label=_("Field"), choices=[("id_number", _("ID number")), ("phone", _("Phone"))])
    reason = forms.CharField(label=_("Reason"), max_length=200, min_length=2,
                             help_text=_("Why you need the full value. It is written to the audit log."))
