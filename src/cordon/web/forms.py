import datetime as dt

from django import forms
from django.core import validators
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from cordon.policy.pack import list_packs

#: ids a page accepts from a query string or a form: the database's positive 64-bit range
MAX_ID = 2**63 - 1
#: dates a page accepts (query strings, form fields): a window no record lies outside of, so that date
#: arithmetic (a day before, a week after) stays within Python's and the databases' ranges
MIN_DAY = dt.date(2000, 1, 1)
MAX_DAY = dt.date(2099, 12, 31)
#: the longest free text a form takes where its field names no length of its own
MAX_TEXT = 5000
#: whole numbers a form takes where its field names no bounds: the range of a database integer column
MAX_INT = 2**31 - 1
#: digits of a decimal a form takes where its field names none: the widest decimal column
MAX_DIGITS = 12


def reject_surrogates(value) -> None:
    """Text with a lone UTF-16 surrogate cannot be stored (PostgreSQL refuses it, SQLite keeps garbage)."""
    if isinstance(value, str) and any("\ud800" <= c <= "\udfff" for c in value):
        raise ValidationError(_("The text holds a character that is not valid Unicode."), code="surrogate")


def day_within_bounds(value) -> None:
    """A date and time whose day lies within ``MIN_DAY`` .. ``MAX_DAY``."""
    if value is not None:
        validators.MinValueValidator(MIN_DAY)(value.date())
        validators.MaxValueValidator(MAX_DAY)(value.date())


class CheckedForm(forms.Form):
    """The base of every page form: bounds the database would otherwise enforce differently per engine (or
    answer with a server error) become form errors. Text: no NUL (Django's own check), no lone surrogates,
    at most ``MAX_TEXT`` characters where the field names no maximum; whole numbers within a database
    integer; decimals within ``MAX_DIGITS`` digits; dates, and the days of dates and times, within ``MIN_DAY`` ..
    ``MAX_DAY`` (a date or date-and-time input filled in ISO form, the only one it shows)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            if isinstance(field, forms.CharField):
                field.validators.append(reject_surrogates)
                if field.max_length is None:
                    field.max_length = MAX_TEXT
                    field.validators.append(validators.MaxLengthValidator(MAX_TEXT))
            elif isinstance(field, forms.DecimalField):
                if field.max_digits is None:
                    field.max_digits = MAX_DIGITS
                    field.validators.append(validators.DecimalValidator(MAX_DIGITS, field.decimal_places))
            elif isinstance(field, forms.IntegerField):
                if field.max_value is None:
                    field.max_value = MAX_INT
                    field.validators.append(validators.MaxValueValidator(MAX_INT))
                if field.min_value is None:
                    field.min_value = -MAX_INT
                    field.validators.append(validators.MinValueValidator(-MAX_INT))
            elif isinstance(field, forms.DateField):
                field.validators += [validators.MinValueValidator(MIN_DAY), validators.MaxValueValidator(MAX_DAY)]
                if getattr(field.widget, "input_type", "") == "date":
                    # a date input shows only an ISO value (the language's format, 2022/11/08, shows empty)
                    field.widget.format = "%Y-%m-%d"
            elif isinstance(field, forms.DateTimeField):
                field.validators.append(day_within_bounds)
                if getattr(field.widget, "input_type", "") == "datetime-local":
                    # likewise a date-and-time input: 2022-11-08T18:00 (2022/11/08 18:00 shows empty)
                    field.widget.format = "%Y-%m-%dT%H:%M"


class AuditFilterForm(CheckedForm):
    actor = forms.CharField(label=_("Actor"), max_length=150, required=False)
    action = forms.CharField(label=_("Action"), max_length=80, required=False,
                             help_text=_("e.g. resident.unmask, or resident for all resident actions"))
    object_type = forms.CharField(label=_("Object type"), max_length=40, required=False)
    date_from = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    text = forms.CharField(label=_("Text"), max_length=100, required=False,
                           help_text=_("Searches the object, the reason and the rule"))


class TokenForm(CheckedForm):
    name = forms.CharField(label=_("Name of the token"), max_length=80,
                           help_text=_("What the program using it is, e.g. the laboratory's upload script."))


def _pack_choices():
    return [(n, n) for n in list_packs()]


class PackForm(CheckedForm):
    pack = forms.ChoiceField(label=_("Policy pack"), choices=_pack_choices)
    effective_from = forms.DateField(label=_("Applies from"), widget=forms.DateInput(attrs={"type": "date"}),
                                     help_text=_("New designations and orders from that day use it."))
    reason = forms.CharField(label=_("Reason"), max_length=500,
                             help_text=_("The notice or document that changes the rules."))


class BulkDecisionForm(CheckedForm):
    """The one decision a bulk page applies to every ticked row (``web.pages.run_rows``), and its reason:
    required for the decisions in ``needs_reason`` (the action would refuse each row without it)."""

    decision = forms.ChoiceField(label=_("Decision"), widget=forms.RadioSelect)
    reason = forms.CharField(label=_("Reason"), max_length=500, required=False)

    def __init__(self, *args, choices, needs_reason=(), reason_label=None, reason_max: int = 500,
                 decision_label=None, select: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.needs_reason = set(needs_reason)
        if select:  # many choices (people): a drop-down
            self.fields["decision"].widget = forms.Select()
        if decision_label:
            self.fields["decision"].label = decision_label
        self.fields["decision"].choices = list(choices)
        self.fields["decision"].initial = choices[0][0]
        reason = self.fields["reason"]
        reason.max_length = reason_max
        reason.widget.attrs["maxlength"] = str(reason_max)
        reason.validators = [v for v in reason.validators if not isinstance(v, validators.MaxLengthValidator)]
        reason.validators.append(validators.MaxLengthValidator(reason_max))
        if reason_label:
            reason.label = reason_label
        if self.needs_reason:
            reason.help_text = _("Required for: %(d)s.") % {
                "d": ", ".join(str(label) for value, label in choices if value in self.needs_reason)}

    def clean(self):
        c = super().clean()
        if c.get("decision") in self.needs_reason and not (c.get("reason") or "").strip():
            self.add_error("reason", _("give the reason for this decision"))
        return c
