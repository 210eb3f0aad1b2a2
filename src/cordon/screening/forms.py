"""Forms of the screening pages. They only parse; ``screening.actions`` decides."""
from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from cordon.web.forms import CheckedForm

from .models import Coverage


class RoundForm(CheckedForm):
    name = forms.CharField(label=_("Name"), max_length=120)
    on = forms.DateField(label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}))
    pool_size = forms.TypedChoiceField(label=_("Pooling"), coerce=int,
                                       choices=[(10, _("10 in 1")), (5, _("5 in 1"))])
    coverage = forms.ChoiceField(label=_("Covers"), choices=Coverage.choices)
    areas = forms.CharField(label=_("Areas"), required=False, widget=forms.Textarea(attrs={"rows": 2}),
                            help_text=_("Address paths, one per line, e.g. 城关区 or 城关区/皋兰路街道/五泉社区."))
    designations = forms.CharField(label=_("Designated areas"), required=False,
                                   help_text=_("Designation numbers, separated by commas or spaces."))

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


class RetestForm(CheckedForm):
    result = forms.ChoiceField(choices=[("negative", _("Negative")), ("positive", _("Positive"))])
