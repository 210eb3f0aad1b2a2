"""Forms of the risk-area pages. They only parse; the actions in ``zones.actions`` decide."""
from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from cordon.web.forms import CheckedForm

LEVEL_CHOICES = [("high", _("High risk (高风险区)")), ("medium", _("Medium risk (中风险区)"))]


class _Form(CheckedForm):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


class DesignateForm(_Form):
    area = forms.CharField(label=_("Area"), max_length=400,
                           help_text=_("The address path, e.g. 城关区/皋兰路街道/五泉社区/五泉小区/1号楼/1单元. "
                                       "A building unit by default; a larger area needs its reason."))
    level = forms.ChoiceField(label=_("Level"), choices=LEVEL_CHOICES)
    reason = forms.CharField(label=_("Reason"), max_length=500, widget=forms.Textarea(attrs={"rows": 2}))
    infections = forms.CharField(label=_("Linked infections"), max_length=400, required=False,
                                 help_text=_("Case references, separated by commas or spaces."))
    exposure_note = forms.CharField(label=_("Exposure place"), max_length=200, required=False,
                                    help_text=_("Where an infected person stayed, if no infection lives here."))


class ReasonForm(_Form):
    reason = forms.CharField(label=_("Reason"), max_length=500, required=False)


class LiftForm(_Form):
    reason = forms.CharField(label=_("Reason (the assessment)"), max_length=500, required=False)
    level = forms.ChoiceField(label=_("Lift to"), required=False,
                              choices=[("", _("Low risk: lifted")), ("medium", _("Medium risk (中风险区)"))])


class RoundForm(_Form):
    result = forms.ChoiceField(label=_("Result"), choices=[("negative", _("All negative")),
                                                           ("positive", _("Not all negative")),
                                                           ("pending", _("Results pending"))])
    reason = forms.CharField(label=_("Note"), max_length=500, required=False)


class ResealForm(_Form):
    level = forms.ChoiceField(label=_("Level"), choices=LEVEL_CHOICES)
    reason = forms.CharField(label=_("Reason"), max_length=500, required=False)


class AdjustForm(_Form):
    add = forms.CharField(label=_("Add area"), max_length=400, required=False,
                          help_text=_("An address path, or pick a neighbouring unit."))
    remove = forms.IntegerField(required=False, widget=forms.HiddenInput)
    reason = forms.CharField(label=_("Reason"), max_length=500, required=False)


class DismissForm(_Form):
    reason = forms.CharField(label=_("Reason for dismissing"), max_length=500, required=False)

