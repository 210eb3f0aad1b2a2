"""Resources (统筹资源): the people (staff and volunteers with their skills, team and home area), teams and
their shifts (who is where on a day), delivery vans, and laboratories with their daily tube capacity.

What apps below already hold is presented here, not copied: the closed-loop ambulances are care's ``Vehicle``
rows (their trips from care's requests), the screening rounds give the tubes a lab must test, the sealed
buildings come from zones. Supplies sits beside this app (one layer) and is not read here: its delivery teams
stay the delivery desk's records; a resources team of kind "delivery" holds the people and vans behind one.
Every record carries its area's ancestor ids (scoping).
"""
from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from cordon.core.models import ScopedFields, text_choices


PersonKind = text_choices(
    "PersonKind", staff=_("Community staff"), volunteer=_("Volunteer"), medical=_("Medical staff"),
    sampler=_("Sampler"), driver=_("Driver"),
)


Skill = text_choices(
    "Skill", first_aid=_("First aid"), sampling=_("Swab sampling"), driving=_("Driving"), delivery=_("Delivery"),
    disinfection=_("Disinfection"), counselling=_("Counselling"), sign_language=_("Sign language"),
    elder_care=_("Elder care"),
)


TeamKind = text_choices(
    "TeamKind", volunteer=_("Volunteer team"), sampling=_("Sampling team"), delivery=_("Delivery team"),
    transfer=_("Transfer team"), disinfection=_("Disinfection team"),
)


class Team(ScopedFields):
    """A team based in an area (volunteers, sampling, delivery, transfer, disinfection)."""

    name = models.CharField(max_length=80, unique=True)
    kind = models.CharField(max_length=12, choices=TeamKind.choices)
    area = models.ForeignKey("places.Area", on_delete=models.PROTECT, related_name="+")
    active = models.BooleanField(default=True)

    def __str__(self) -> str:
        return self.name


class Person(ScopedFields):
    """A member of staff or a volunteer. ``area`` is where they live or are based (their scope); an account
    is optional (most volunteers have none)."""

    name = models.CharField(max_length=40)
    phone = models.CharField(max_length=20, blank=True)
    kind = models.CharField(max_length=10, choices=PersonKind.choices)
    skills = models.JSONField(default=list, blank=True)  # Skill values
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="members")
    area = models.ForeignKey("places.Area", on_delete=models.PROTECT, related_name="+")
    user = models.OneToOneField(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="resources_person")
    active = models.BooleanField(default=True)

    def __str__(self) -> str:
        return self.name


class Van(ScopedFields):
    """A delivery van (the closed-loop ambulances are care's vehicles)."""

    plate = models.CharField(max_length=20, unique=True)
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="vans")
    area = models.ForeignKey("places.Area", on_delete=models.PROTECT, related_name="+")
    closed_loop = models.BooleanField(default=True)
    active = models.BooleanField(default=True)

    def __str__(self) -> str:
        return self.plate


class Shift(ScopedFields):
    """People on duty in an area on a day: a team (its active members) and/or named people, from ``start`` to
    ``end``. Scoped by the area served."""

    area = models.ForeignKey("places.Area", on_delete=models.PROTECT, related_name="+")
    on = models.DateField(db_index=True)
    start = models.TimeField()
    end = models.TimeField()
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.PROTECT, related_name="shifts")
    people = models.ManyToManyField(Person, blank=True, related_name="shifts")
    van = models.ForeignKey(Van, null=True, blank=True, on_delete=models.SET_NULL, related_name="shifts")
    note = models.CharField(max_length=200, blank=True)
    cancelled = models.BooleanField(default=False)

    class Meta:
        ordering = ["on", "start", "id"]


class Lab(ScopedFields):
    """A laboratory: the tubes it tests per day, for the rounds of its catchment area."""

    name = models.CharField(max_length=80, unique=True)
    area = models.ForeignKey("places.Area", on_delete=models.PROTECT, related_name="+",
                             help_text="the catchment: rounds of areas inside it send their tubes here")
    tubes_per_day = models.PositiveIntegerField()
    active = models.BooleanField(default=True)

    def __str__(self) -> str:
        return self.name
