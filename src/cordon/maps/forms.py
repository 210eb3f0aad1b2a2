"""The form of designating what was selected on the map (zones' designate form, the area replaced by the
selection's ids)."""
from __future__ import annotations

from django import forms

from cordon.zones.forms import DesignateForm


class SelectionForm(DesignateForm):
    areas = forms.CharField(widget=forms.HiddenInput, max_length=4000)
    field_order = ["areas", "level", "reason", "infections", "exposure_note"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        del self.fields["area"]
