"""Infections. (Response tasks, contacts, orders, facilities and arrivals build on this.)"""
from __future__ import annotations

import re

from django.db import models
from django.utils.translation import gettext, gettext_lazy as _

from cordon.core import clock
from cordon.core.models import LeanScopedFields, ScopedFields, TaskStatus, TimelineEntry, text_choices


Found = text_choices(
    "Found", community=_("In the community (社会面)"), controlled_area=_("In a controlled area"),
    quarantine_site=_("In a quarantine site"),
)


InfectionKind = text_choices("InfectionKind", confirmed=_("Confirmed case"), asymptomatic=_("Asymptomatic infection"))


class Infection(ScopedFields):
    """A new infection. Scoped by the person's home; ``visited`` are exposure places."""

    label = models.CharField(max_length=40, help_text="case reference, e.g. P1 or 兰州-2022-1108-01")
    resident = models.ForeignKey("places.Resident", null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="infections", db_constraint=False)
    home = models.ForeignKey("places.Area", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=16, choices=InfectionKind.choices, default=InfectionKind.CONFIRMED)
    found = models.CharField(max_length=20, choices=Found.choices)
    home_isolating = models.BooleanField(default=False, help_text="already isolating at home when found")
    confirmed_on = models.DateField(db_index=True)
    sampled_at = models.DateTimeField(null=True, blank=True)
    reported_at = models.DateTimeField(null=True, blank=True)
    visited = models.ManyToManyField("places.Area", blank=True, related_name="+")
    created = models.DateTimeField(default=clock.now, help_text="from core.clock (scenarios, demo)")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["label"], name="infection_unique_label")]

    def __str__(self) -> str:
        return self.label


class ResponseTask(ScopedFields):
    """One step of an infection's response (转运、流调、密接追踪、划定、消毒、核酸), with a deadline from the pack,
    an owner (the responsible community or team) and the pack's checklist."""

    infection = models.ForeignKey(Infection, on_delete=models.CASCADE, related_name="tasks")
    step = models.CharField(max_length=30)
    title = models.CharField(max_length=120)
    owner = models.CharField(max_length=200, help_text="responsible community or team")
    deadline = models.DateTimeField(db_index=True)
    status = models.CharField(max_length=8, choices=TaskStatus.choices, default=TaskStatus.OPEN, db_index=True)
    done_at = models.DateTimeField(null=True, blank=True)
    checklist = models.JSONField(default=list)  # [{"zh", "en", "done": bool}]
    escalation = models.PositiveSmallIntegerField(default=0, help_text="0 none, 1 street, 2 district, 3 city")
    escalated_at = models.DateTimeField(null=True, blank=True)
    rule = models.CharField(max_length=120, blank=True)
    #: the playbook the task follows (a key of the pack's library; its steps are checked off on the task page);
    #: the pack's default for the step when the task opens, changed with ``do_set_task_playbook``
    playbook = models.CharField(max_length=40, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["infection", "step"], name="task_once_per_step")]


#: the note a deadline escalation writes (``actions.do_escalate_overdue``), stored in English as the API gives it
_ESCALATED = re.compile(r"overdue: escalated to level (\d)")


class TaskNote(TimelineEntry):
    """The task's timeline."""

    task = models.ForeignKey(ResponseTask, on_delete=models.CASCADE, related_name="notes")
    text = models.TextField()

    @property
    def shown_text(self) -> str:
        """The note in the reader's language where the program wrote it (an escalation), else as written."""
        found = _ESCALATED.fullmatch(self.text)
        return gettext("Overdue: escalated to level %(n)s") % {"n": found.group(1)} if found else self.text


FacilityKind = text_choices(
    "FacilityKind", quarantine_site=_("Centralized quarantine site (集中隔离点)"),
    designated_hospital=_("Designated hospital (定点医院)"), shelter_hospital=_("Shelter hospital (方舱医院)"),
)


class Facility(ScopedFields):
    name = models.CharField(max_length=120, unique=True)
    kind = models.CharField(max_length=24, choices=FacilityKind.choices)
    area = models.ForeignKey("places.Area", on_delete=models.PROTECT, related_name="+")
    capacity = models.PositiveIntegerField()
    occupied = models.PositiveIntegerField(default=0, help_text="placements not yet discharged")

    def __str__(self) -> str:
        return self.name


#: risk levels of regions outside the city, as shown (the column keeps the key)
OUTSIDE_LEVELS = {"high": _("High risk"), "medium": _("Medium risk"), "low": _("Low risk")}


class OutsideRegion(models.Model):
    """The maintained list of risk regions outside the city (for arrivals 来兰返兰)."""

    name = models.CharField(max_length=120, unique=True)
    level = models.CharField(max_length=8)  # high | medium | low
    updated_on = models.DateField()
    source = models.CharField(max_length=200, blank=True)

    def __str__(self) -> str:
        return f"{self.name} ({self.level})"

    @property
    def level_label(self) -> str:
        return str(OUTSIDE_LEVELS.get(self.level, self.level))


ArrivalKind = text_choices(
    "ArrivalKind", resident=_("Returning resident"), student=_("College student returning home"),
    driver=_("Passenger or freight driver"), other=_("Other traveller"),
)


class Arrival(ScopedFields):
    label = models.CharField(max_length=40)
    resident = models.ForeignKey("places.Resident", null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="+", db_constraint=False)
    destination = models.ForeignKey("places.Area", on_delete=models.PROTECT, related_name="+")
    region = models.ForeignKey(OutsideRegion, null=True, blank=True, on_delete=models.PROTECT)
    from_level = models.CharField(max_length=8)
    kind = models.CharField(max_length=10, choices=ArrivalKind.choices)
    arrived_on = models.DateField()
    category = models.CharField(max_length=24)
    tests_done = models.JSONField(default=list)
    created = models.DateTimeField(default=clock.now, help_text="from core.clock (scenarios, demo)")

    @property
    def from_level_label(self) -> str:
        return str(OUTSIDE_LEVELS.get(self.from_level, self.from_level))


OrderStatus = text_choices(
    "OrderStatus", active=_("Under the order"), released=_("Released"),
    void=_("No order (identified after it would have ended)"),
)


class PersonOrder(LeanScopedFields):
    """A person under a category's measures (密接、次密接、入境、风险区外溢...), computed from the pack and the
    anchor day; released automatically when it ends."""

    # Few indexes, none on status or released_on (see Meta): the day-start release then rewrites rows in
    # place (PostgreSQL HOT updates, with the table's fillfactor leaving room for a whole page of them; cases 0006).
    label = models.CharField(max_length=40)
    resident = models.ForeignKey("places.Resident", null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="+", db_constraint=False, db_index=False)
    home = models.ForeignKey("places.Area", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                             db_index=False)
    category = models.CharField(max_length=24)
    pack = models.CharField(max_length=80)
    infection = models.ForeignKey(Infection, null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="contacts", db_index=False)
    via = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="onward",
                            help_text="the close contact through whom a contact of a contact is linked",
                            db_index=False)
    arrival = models.ForeignKey(Arrival, null=True, blank=True, on_delete=models.PROTECT, related_name="orders",
                                db_index=False)
    from_area = models.ForeignKey("places.Area", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                                  help_text="risk area left (spill-over)", db_index=False)
    manual = models.BooleanField(default=False)
    anchor = models.DateField()
    identified_on = models.DateField()
    centralized_until = models.DateField(null=True, blank=True)
    home_until = models.DateField(null=True, blank=True)
    free_on = models.DateField(null=True, blank=True, db_index=True)
    test_days = models.JSONField(default=list)
    missed_test_days = models.JSONField(default=list)
    extended_by = models.PositiveSmallIntegerField(default=0)
    status = models.CharField(max_length=10, choices=OrderStatus.choices, default=OrderStatus.ACTIVE)
    released_on = models.DateField(null=True, blank=True)
    placed_at = models.DateTimeField(null=True, blank=True, help_text="when the person was placed (KPI)")
    reason = models.TextField(blank=True)
    created = models.DateTimeField(default=clock.now, help_text="from core.clock (scenarios, demo)")

    class Meta:
        # No index names status or released_on, so releasing an order touches no index on PostgreSQL (a HOT
        # update) and only the row on SQLite. free_on: orders still running after a day (situation, passes) and
        # SQLite's day-start release (PostgreSQL's reads the table in order, see cases.daystart);
        # (district, street, community, free_on, id): scoping at every level (``access.Scope`` names the whole
        # ancestor chain) and a community's list page in its display order; the links to an infection, a close
        # contact, an arrival, a resident are partial indexes (rows without the link stay out); identified_on
        # (situation) is in situation 0003. Measured by ``cordon bench contacts``.
        indexes = [models.Index(fields=["district", "street", "community", "free_on", "id"], name="order_scope_list"),
                   models.Index(fields=["label"], name="order_label"),
                   *[models.Index(fields=[f], name=f"order_{f}", condition=models.Q(**{f"{f}__isnull": False}))
                     for f in ("infection", "via", "arrival", "resident")]]

    def __str__(self) -> str:
        return f"{self.label} ({self.category})"


class Placement(models.Model):
    facility = models.ForeignKey(Facility, on_delete=models.PROTECT, related_name="placements", db_index=False)
    order = models.ForeignKey(PersonOrder, null=True, blank=True, on_delete=models.PROTECT, related_name="placements",
                              db_index=False)
    infection = models.ForeignKey(Infection, null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="placements", db_index=False)
    admitted_on = models.DateField()
    discharged_on = models.DateField(null=True, blank=True)
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        # None on discharged_on: a discharge rewrites the row in place (see PersonOrder).
        indexes = [models.Index(fields=["facility", "admitted_on"], name="placement_facility_day"),
                   *[models.Index(fields=[f], name=f"placement_{f}", condition=models.Q(**{f"{f}__isnull": False}))
                     for f in ("order", "infection")]]


class CheckIn(models.Model):
    """Daily check-in or test result of a person under an order."""

    order = models.ForeignKey(PersonOrder, on_delete=models.CASCADE, related_name="checkins")
    on = models.DateField()
    temperature = models.DecimalField(max_digits=4, decimal_places=1, null=True, blank=True)
    symptoms = models.CharField(max_length=200, blank=True)
    test_result = models.CharField(max_length=10, blank=True)  # negative | positive | ""
    actor = models.CharField(max_length=150)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["order", "on"], name="checkin_once_a_day")]
