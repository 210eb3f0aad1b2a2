"""The households of a building or unit to visit, as the printed door-to-door list (``web.exports``): one row
per household, its residents' names and phones masked, the special groups to look in on."""
from __future__ import annotations

import datetime as dt
from itertools import groupby

from django.utils.encoding import force_str

from cordon.core import access
from cordon.places.models import SPECIAL_GROUP_LABELS, Resident, special_groups
from cordon.web.exports import Listing, declared

FIELDS = ("household_id", "household__number", "unit__name", "name", "phone", "birth_date", "lives_alone",
          "pregnant_due", "treatment", "disability", "chronic_illness")


def households_listing() -> Listing:
    return declared(__package__, "households", provided=("unit", "door", "people", "names", "phones", "groups"),
                    reads=FIELDS)


def household_rows(user, area, today: dt.date):
    """One mapping per household of ``area`` the user may read residents of (by unit and door)."""
    qs = (Resident.objects.for_user(user, access.READ_PERSONAL).filter(**access.within(area))
          .order_by("unit_id", "household_id", "id").values(*FIELDS))

    class Person:
        def __init__(self, row):
            self.__dict__.update(row)

    for _hh, people in groupby(qs.iterator(chunk_size=2000), key=lambda r: r["household_id"]):
        people = list(people)
        groups = sorted({g for p in people for g in special_groups(Person(p), today)})
        yield {"unit": people[0]["unit__name"], "door": people[0]["household__number"], "people": len(people),
               "names": [p["name"] for p in people], "phones": [p["phone"] for p in people],
               "groups": "、".join(force_str(SPECIAL_GROUP_LABELS[g]) for g in groups)}
