"""The city model: district > street > community > compound > building > unit > household > resident.

All administrative and physical nodes from district down to unit live in one ``Area`` table with a
stable path code (``城关区/皋兰路街道/五泉社区/五泉小区/1号楼/1单元``). Every node and every scoped
record carries the ids of its ancestors at each level (self-inclusive for areas), so jurisdiction
scoping is one indexed equality per grant, with no joins (DESIGN.md #3).
"""
from __future__ import annotations

import datetime as dt

from django.db import models
from django.db.models.functions import Substr
from django.utils.translation import gettext_lazy as _

from cordon.core.models import LEVELS, ScopedFields, text_choices


Kind = text_choices(
    "Kind", district=_("District"), street=_("Street"), community=_("Community"), compound=_("Compound"),
    building=_("Building"), unit=_("Unit"),
)


class Area(ScopedFields):
    kind = models.CharField(max_length=12, choices=Kind.choices)
    name = models.CharField(max_length=80)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    path = models.CharField(max_length=400, unique=True)
    depth = models.PositiveSmallIntegerField()
    # Residents living below this node (maintained by bulk loads and imports).
    population = models.PositiveIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["parent", "name"])]
        constraints = [models.UniqueConstraint(fields=["parent", "name"], name="area_unique_name_in_parent")]

    def __str__(self) -> str:
        return self.path

    @property
    def parts(self) -> list[str]:
        return self.path.split("/")

    def ancestors(self) -> list["Area"]:
        ids = [getattr(self, f"{lv}_id") for lv in LEVELS[: self.depth]]
        by_id = Area.objects.in_bulk([i for i in ids if i])
        return [by_id[i] for i in ids if i in by_id]


class Household(ScopedFields):
    """A flat in a unit (``number`` is the door number, e.g. 301)."""

    number = models.CharField(max_length=20)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["unit", "number"], name="household_unique_in_unit")]

    def __str__(self) -> str:
        return f"{self.number}"


class Sex(models.TextChoices):
    MALE = "M", _("Male")
    FEMALE = "F", _("Female")


class Treatment(models.TextChoices):
    NONE = "", _("None")
    DIALYSIS = "dialysis", _("Dialysis")
    CHEMOTHERAPY = "chemotherapy", _("Chemotherapy")
    OTHER = "other", _("Other regular treatment")


#: the ID number's last four characters start here (1-based, as SQL's SUBSTR counts)
ID_TAIL_FROM = 15


class Resident(ScopedFields):
    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="residents", db_constraint=False)
    name = models.CharField(max_length=40)
    id_number = models.CharField(max_length=18, unique=True)
    phone = models.CharField(max_length=11, blank=True)
    birth_date = models.DateField()
    sex = models.CharField(max_length=1, choices=Sex.choices)
    lives_alone = models.BooleanField(default=False)
    pregnant_due = models.DateField(null=True, blank=True)
    treatment = models.CharField(max_length=16, choices=Treatment.choices, blank=True, default="")
    disability = models.BooleanField(default=False)
    chronic_illness = models.BooleanField(default=False)

    class Meta:
        # the last four characters of the ID number (every stored one has 18): a search by the last 4 to 17
        # digits reads the few hundred rows sharing the last four (places.queries.search_residents). Name and
        # phone substrings have a trigram index per database (migration 0003).
        indexes = [models.Index(Substr("id_number", ID_TAIL_FROM), name="resident_id_tail")]

    def __str__(self) -> str:
        return self.name

    def audit_repr(self) -> str:
        """Audit rows name a resident by id only (never by name, ID number or phone)."""
        return f"resident {self.pk}"

    def age_on(self, day: dt.date) -> int:
        b = self.birth_date
        return day.year - b.year - ((day.month, day.day) < (b.month, b.day))

    def special_groups(self, day: dt.date) -> list[str]:
        """Special-group labels on ``day`` (keys, translated in templates)."""
        return special_groups(self, day)


SPECIAL_GROUP_LABELS = {
    "aged80": _("Aged 80+"),
    "alone": _("Living alone"),
    "pregnant": _("Pregnant"),
    "infant": _("Infant"),
    "dialysis": _("Dialysis"),
    "chemotherapy": _("Chemotherapy"),
    "treatment": _("Regular treatment"),
    "disability": _("Disability"),
    "chronic": _("Severe chronic illness"),
}


def special_groups(r, day: dt.date) -> list[str]:
    out = []
    age = day.year - r.birth_date.year - ((day.month, day.day) < (r.birth_date.month, r.birth_date.day))
    if age >= 80:
        out.append("aged80")
    if r.lives_alone:
        out.append("alone")
    if r.pregnant_due and r.pregnant_due >= day:
        out.append("pregnant")
    if age < 1:
        out.append("infant")
    if r.treatment == "dialysis":
        out.append("dialysis")
    elif r.treatment == "chemotherapy":
        out.append("chemotherapy")
    elif r.treatment == "other":
        out.append("treatment")
    if r.disability:
        out.append("disability")
    if r.chronic_illness:
        out.append("chronic")
    return out
