"""The care lists as files (``web.exports``; their columns in exports.yaml): the dispatcher board and the special-group
registry. Names, ID numbers and phones are masked unless revealed (audited)."""
from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

from django.utils.encoding import force_str

from cordon.care.models import WEEKDAYS
from cordon.places.models import SPECIAL_GROUP_LABELS, special_groups
from cordon.web.exports import Listing, declared


def requests(priority_title, status_label) -> Listing:
    """Medical requests of one board tab."""
    return declared(__package__, "care-requests", priority=priority_title, status=status_label)


def special(today: dt.date) -> Listing:
    """The special-group registry: who, where, which groups on ``today``, registered needs."""

    def age(born):
        return today.year - born.year - ((today.month, today.day) < (born.month, born.day))

    def groups(*values):
        person = SimpleNamespace(**dict(zip(GROUP_FIELDS, values)))
        return [force_str(SPECIAL_GROUP_LABELS[g]) for g in special_groups(person, today)]

    def dialysis(weekdays):
        return [force_str(WEEKDAYS[d]) for d in (weekdays or [])]

    return declared(__package__, "special-groups", computed={
        "age": (("birth_date",), age), "groups": (GROUP_FIELDS, groups),
        "dialysis": (("care_need__dialysis_weekdays",), dialysis)})


#: what ``places.models.special_groups`` reads of a resident
GROUP_FIELDS = ("birth_date", "lives_alone", "pregnant_due", "treatment", "disability", "chronic_illness")
