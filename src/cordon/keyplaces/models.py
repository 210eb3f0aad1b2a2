"""Key places (重点场所) and their closed loops (闭环管理).

* ``KeyPlace``: a school, hospital, nursing home, prison or essential place (market, pharmacy, clinic) at an
  address (an area node; the record carries its ancestor ids for scoping), its capacity, the people inside
  by category, its on-site test cadence and its status (open / closed loop / closed).
* ``StatusChange``: each dated, reasoned change of status (the place's history; #9 flags point here).
* ``Person``: someone the place tracks by name: staff on shifts, and the residents, inmates, patients or
  pupils inside the loop: inside or not, since when, the staff's rotation date and off-shift monitoring end.
* ``Movement``: an entry or exit with its reason; ``SiteTest``: an on-site test and its result;
  ``Breach``: an exit outside a shift change while in closed loop, or a person inside past their test.
"""
from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from cordon.core.models import ScopedFields, TestResult, text_choices


Kind = text_choices(
    "Kind", school=_("School"), hospital=_("Hospital"), nursing_home=_("Nursing home"), prison=_("Prison"),
    market=_("Market"), pharmacy=_("Pharmacy"), clinic=_("Clinic"),
)


PlaceStatus = text_choices("PlaceStatus", open=_("Open"), closed_loop=_("Closed loop"), closed=_("Closed"))


#: Who a place holds besides its staff (the people-inside counts and a person's role).
Category = text_choices(
    "Category", residents=_("Residents"), inmates=_("Inmates"), patients=_("Patients"), pupils=_("Pupils"),
)


Role = text_choices(
    "Role", staff=_("Staff"), resident=_("Resident"), inmate=_("Inmate"), patient=_("Patient"), pupil=_("Pupil"),
)


class KeyPlace(ScopedFields):
    ref = models.CharField(max_length=40, unique=True, help_text="the place's short code (scenario label)")
    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=16, choices=Kind.choices, db_index=True)
    area = models.ForeignKey("places.Area", on_delete=models.PROTECT, related_name="+")
    capacity = models.PositiveIntegerField(default=0)
    counts = models.JSONField(default=dict, blank=True, help_text="people inside by category")
    status = models.CharField(max_length=12, choices=PlaceStatus.choices, default=PlaceStatus.OPEN, db_index=True)
    status_since = models.DateField()
    test_every_days = models.PositiveSmallIntegerField(default=1, help_text="on-site test every N days in the loop")
    monitor_days = models.PositiveSmallIntegerField(default=7, help_text="off-shift health monitoring days")
    created_on = models.DateField()
    created_by = models.CharField(max_length=150)

    def __str__(self) -> str:
        return self.name

    @property
    def inside_total(self) -> int:
        return sum(int(v) for v in (self.counts or {}).values())


class StatusChange(models.Model):
    place = models.ForeignKey(KeyPlace, on_delete=models.CASCADE, related_name="changes")
    on = models.DateField()
    before = models.CharField(max_length=12, blank=True)
    after = models.CharField(max_length=12, choices=PlaceStatus.choices)
    reason = models.TextField()
    flagged = models.BooleanField(default=False, help_text="a possible violation of the nine prohibitions (#9)")
    actor = models.CharField(max_length=150)
    at = models.DateTimeField()

    class Meta:
        ordering = ["on", "id"]
        indexes = [models.Index(fields=["place", "on"])]


class Person(ScopedFields):
    place = models.ForeignKey(KeyPlace, on_delete=models.CASCADE, related_name="people")
    name = models.CharField(max_length=80)
    role = models.CharField(max_length=10, choices=Role.choices)
    phone = models.CharField(max_length=20, blank=True)
    inside = models.BooleanField(default=False, db_index=True)
    since = models.DateField(null=True, blank=True, help_text="inside since (the last entry)")
    rotate_on = models.DateField(null=True, blank=True, help_text="staff: the shift's planned rotation date")
    monitor_until = models.DateField(null=True, blank=True, help_text="staff: off-shift health monitoring end")
    created_by = models.CharField(max_length=150)

    class Meta:
        indexes = [models.Index(fields=["place", "inside"])]

    def __str__(self) -> str:
        return self.name

    def audit_repr(self) -> str:
        return f"keyplace person {self.pk}"


Direction = text_choices("Direction", entry=_("Entry"), exit=_("Exit"))


MoveReason = text_choices(
    "MoveReason", shift_change=_("Shift change"), medical=_("Medical care"), release=_("Release / discharge"),
    admission=_("Admission"), other=_("Other"),
)


class Movement(ScopedFields):
    place = models.ForeignKey(KeyPlace, on_delete=models.CASCADE, related_name="movements")
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="movements")
    on = models.DateField(db_index=True)
    direction = models.CharField(max_length=5, choices=Direction.choices)
    reason = models.CharField(max_length=12, choices=MoveReason.choices)
    note = models.CharField(max_length=300, blank=True)
    breach = models.BooleanField(default=False)
    actor = models.CharField(max_length=150)
    at = models.DateTimeField()

    class Meta:
        ordering = ["on", "id"]


class SiteTest(ScopedFields):
    place = models.ForeignKey(KeyPlace, on_delete=models.CASCADE, related_name="tests")
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="tests")
    on = models.DateField(db_index=True)
    result = models.CharField(max_length=8, choices=TestResult.choices)
    actor = models.CharField(max_length=150)

    class Meta:
        ordering = ["on", "id"]
        indexes = [models.Index(fields=["person", "on"])]


BreachKind = text_choices(
    "BreachKind", exit=_("Exit outside a shift change"), untested=_("Inside past the on-site test"),
)


class Breach(ScopedFields):
    place = models.ForeignKey(KeyPlace, on_delete=models.CASCADE, related_name="breaches")
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="breaches")
    on = models.DateField(db_index=True)
    kind = models.CharField(max_length=10, choices=BreachKind.choices)
    detail = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-on", "id"]
        constraints = [models.UniqueConstraint(fields=["place", "person", "kind", "on"], name="keyplace_breach_once")]
