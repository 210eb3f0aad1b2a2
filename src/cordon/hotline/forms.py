"""Forms of the hotline pages (operator entry, ticket actions, roster, public form and lookup)."""
from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from cordon.hotline.models import Category
from cordon.web.forms import CheckedForm


class TicketForm(CheckedForm):
    caller = forms.CharField(label=_("Caller"), max_length=60, required=False)
    phone = forms.CharField(label=_("Callback number"), max_length=20)
    category = forms.ChoiceField(label=_("Category"), choices=Category.choices)
    location = forms.CharField(label=_("Location (address path)"), max_length=400, required=False,
                               help_text=_("e.g. 城关区/皋兰路街道/五泉社区/五泉小区/1号楼/1单元"))
    text = forms.CharField(label=_("What the caller needs"), max_length=4000, widget=forms.Textarea(attrs={"rows": 3}))
    raise_care = forms.BooleanField(label=_("Also raise an emergency medical request"), required=False)


class NoteForm(CheckedForm):
    note = forms.CharField(label=_("Response"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))


class FeedbackForm(CheckedForm):
    feedback = forms.CharField(label=_("Feedback given to the caller"), max_length=4000,
                               widget=forms.Textarea(attrs={"rows": 2}))


class CloseForm(CheckedForm):
    satisfaction = forms.ChoiceField(label=_("Caller's satisfaction"), required=False,
                                     choices=[("", _("Not given")), ("5", _("5 · very satisfied")),
                                              ("4", _("4 · satisfied")), ("3", _("3 · neutral")),
                                              ("2", _("2 · dissatisfied")), ("1", _("1 · very dissatisfied"))])


class ShiftForm(CheckedForm):
    operator_name = forms.CharField(label=_("Operator"), max_length=150)
    starts = forms.DateTimeField(label=_("Starts"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    ends = forms.DateTimeField(label=_("Ends"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))


class PublicForm(CheckedForm):
    caller = forms.CharField(label=_("Your name"), max_length=60, required=False)
    phone = forms.CharField(label=_("Callback number"), max_length=20)
    category = forms.ChoiceField(label=_("What is it about"), choices=Category.choices)
    location = forms.CharField(label=_("Where you are (district / street / community / building)"), max_length=400,
                               required=False)
    text = forms.CharField(label=_("Your request"), max_length=2000, widget=forms.Textarea(attrs={"rows": 4}))


class LookupForm(CheckedForm):
    number = forms.CharField(label=_("Ticket number"), max_length=20)
    last4 = forms.CharField(label=_("Last 4 digits of your callback number"), min_length=4, max_length=4)

