"""The forms of the command-order pages."""
from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from cordon.command.actions import LEVEL_ORDER
from cordon.command.models import Priority, RecipientStatus
from cordon.web.forms import CheckedForm

LEVEL_CHOICES = [("", _("each addressed area itself")), ("district", _("every district")),
                 ("street", _("every street")), ("community", _("every community")),
                 ("compound", _("every compound")), ("building", _("every building")), ("unit", _("every unit"))]
assert [c for c, _l in LEVEL_CHOICES[1:]] == list(LEVEL_ORDER)


class OrderForm(CheckedForm):
    title = forms.CharField(label=_("Title"), max_length=200)
    text = forms.CharField(label=_("Order"), widget=forms.Textarea(attrs={"rows": 5}), max_length=10000)
    priority = forms.ChoiceField(label=_("Priority"), choices=Priority.choices, initial=Priority.ROUTINE)
    due = forms.DateTimeField(label=_("Deadline"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    to = forms.CharField(label=_("To areas"), required=False, widget=forms.Textarea(attrs={"rows": 3}),
                         help_text=_("One area path a line (城关区/皋兰路街道); * for the whole city."))
    level = forms.ChoiceField(label=_("Fan out to"), choices=LEVEL_CHOICES, required=False)
    role = forms.CharField(label=_("To a role"), max_length=40, required=False,
                           help_text=_("e.g. community_worker: every holder within the areas above, or within "
                                       "your jurisdiction."))
    users = forms.CharField(label=_("To named staff"), required=False, max_length=4000,
                            help_text=_("User names, separated by spaces or commas."))
    basis = forms.CharField(label=_("Rule or decision behind it"), max_length=400, required=False)
    attachment = forms.FileField(label=_("Notice (PDF)"), required=False)
    reason = forms.CharField(label=_("Reason"), max_length=2000, required=False)

    def clean_to(self):
        return [line.strip() for line in self.cleaned_data["to"].splitlines() if line.strip()]

    def clean_users(self):
        return [u for u in self.cleaned_data["users"].replace(",", " ").split() if u]


class ReviseForm(CheckedForm):
    title = forms.CharField(label=_("Title"), max_length=200)
    text = forms.CharField(label=_("Order"), widget=forms.Textarea(attrs={"rows": 5}), max_length=10000)
    priority = forms.ChoiceField(label=_("Priority"), choices=Priority.choices)
    due = forms.DateTimeField(label=_("Deadline"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    basis = forms.CharField(label=_("Rule or decision behind it"), max_length=400, required=False)
    reason = forms.CharField(label=_("Why it changes"), max_length=2000)


class ReasonForm(CheckedForm):
    reason = forms.CharField(label=_("Reason"), max_length=2000)


class AckForm(CheckedForm):
    reason = forms.CharField(label=_("Note"), max_length=2000, required=False)


class ProgressForm(CheckedForm):
    note = forms.CharField(label=_("How far it got"), max_length=1000, widget=forms.Textarea(attrs={"rows": 2}))


class CompleteForm(CheckedForm):
    evidence = forms.CharField(label=_("What was done"), max_length=4000, widget=forms.Textarea(attrs={"rows": 3}))
    numbers = forms.CharField(label=_("Figures"), required=False, max_length=1000,
                              help_text=_("name=number, one a line (e.g. sampled=2413)."))
    photo = forms.ImageField(label=_("Photo"), required=False)

    def clean_numbers(self):
        out = {}
        for line in self.cleaned_data["numbers"].splitlines():
            if not line.strip():
                continue
            name, sep, value = line.partition("=")
            try:
                out[name.strip()] = float(value) if "." in value else int(value)
            except ValueError:
                raise forms.ValidationError(_("name=number, one a line")) from None
            if not sep or not name.strip():
                raise forms.ValidationError(_("name=number, one a line"))
        return out


class MatrixFilter(CheckedForm):
    status = forms.ChoiceField(label=_("Status"), required=False,
                               choices=[("", _("All")), *RecipientStatus.choices])
    text = forms.CharField(label=_("Unit"), required=False, max_length=100)
    overdue = forms.BooleanField(label=_("Overdue only"), required=False)
