"""Risk-area designations (高/中风险区) at building-unit granularity, their clocks, flags and public notices.

The engine in ``cordon.policy.areas`` decides from a designation's events (designate, counted infections,
full-area rounds, keeps, lifts); the columns ``level``, ``since``, ``next_level``, ``next_on`` and
``waiting`` cache its answer for fast lists and the public page, and are refreshed by every action and
by the day-start tick.
"""
from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from cordon.core.models import ScopedFields, text_choices


Level = text_choices("Level", high=_("High risk (高风险区)"), medium=_("Medium risk (中风险区)"), low=_("Low risk (低风险区)"))


Status = text_choices("Status", active=_("Designated"), observation=_("Lifted, under observation"), closed=_("Closed"))


class Designation(ScopedFields):
    area = models.ForeignKey("places.Area", on_delete=models.PROTECT, related_name="designations")
    pack = models.CharField(max_length=80)
    level = models.CharField(max_length=8, choices=Level.choices)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.ACTIVE, db_index=True)
    designated_on = models.DateField()
    since = models.DateField()
    next_level = models.CharField(max_length=8, blank=True)
    next_on = models.DateField(null=True, blank=True, db_index=True)
    waiting = models.CharField(max_length=200, blank=True)
    kept = models.BooleanField(default=False, help_text="held past its change date by a recorded keep")
    lifted_on = models.DateField(null=True, blank=True)
    eligible_on = models.DateField(null=True, blank=True, help_text="first day a lift was due")
    observation_until = models.DateField(null=True, blank=True)
    reason = models.TextField()
    public_reason = models.CharField(max_length=200, blank=True)
    infections = models.ManyToManyField("cases.Infection", blank=True, related_name="designations")
    exposure_note = models.CharField(max_length=200, blank=True)
    first_infection_at = models.DateTimeField(null=True, blank=True)
    designated_at = models.DateTimeField()
    created_by = models.CharField(max_length=150)

    class Meta:
        indexes = [models.Index(fields=["status", "level"])]
        constraints = [
            # An area has at most one designation that is not closed (active or under observation): two
            # concurrent designations of one area cannot both be stored.
            models.UniqueConstraint(fields=["area"], condition=~models.Q(status="closed"),
                                    name="one_open_designation_per_area"),
        ]

    def __str__(self) -> str:
        return f"{self.area.path} ({self.level})"


class Member(models.Model):
    """The extent of a designation: the nodes it covers (the main area, plus units added later)."""

    designation = models.ForeignKey(Designation, on_delete=models.CASCADE, related_name="members")
    area = models.ForeignKey("places.Area", on_delete=models.PROTECT, related_name="+")
    added_on = models.DateField()
    removed_on = models.DateField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["area", "removed_on"])]


EventKind = text_choices(
    "EventKind", designate=_("Designated"), infection=_("Infection counted"), round=_("Full-area test round"),
    keep=_("Kept past its change date"), resume=_("Keep ended"), lift=_("Lifted by hand"), reseal=_("Re-sealed"),
    change=_("Level changed"), adjust=_("Extent adjusted"),
)


class Event(models.Model):
    """One dated fact in a designation's history; the engine's input."""

    designation = models.ForeignKey(Designation, on_delete=models.CASCADE, related_name="events")
    on = models.DateField()
    kind = models.CharField(max_length=12, choices=EventKind.choices)
    level = models.CharField(max_length=8, blank=True)
    result = models.CharField(max_length=10, blank=True)
    found = models.CharField(max_length=20, blank=True)
    home_isolating = models.BooleanField(default=False)
    infection = models.ForeignKey("cases.Infection", null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="+")
    reason = models.TextField(blank=True)
    actor = models.CharField(max_length=150, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    notice = models.ForeignKey("zones.Notice", null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="events")

    class Meta:
        ordering = ["on", "id"]
        indexes = [models.Index(fields=["designation", "on"])]


ProposalStatus = text_choices(
    "ProposalStatus", open=_("Awaiting decision"), confirmed=_("Confirmed"), dismissed=_("Dismissed"),
)


class Proposal(ScopedFields):
    """发现一起: a designation (or re-seal) proposed by a new infection, confirmed with one click."""

    area = models.ForeignKey("places.Area", on_delete=models.PROTECT, related_name="+")
    level = models.CharField(max_length=8, choices=Level.choices)
    kind = models.CharField(max_length=10, default="new")  # new | reseal
    designation = models.ForeignKey(Designation, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="proposals")
    infections = models.ManyToManyField("cases.Infection", related_name="proposals")
    because = models.JSONField(default=list)
    status = models.CharField(max_length=10, choices=ProposalStatus.choices, default=ProposalStatus.OPEN,
                              db_index=True)
    proposed_on = models.DateField()
    decided_on = models.DateField(null=True, blank=True)
    decided_by = models.CharField(max_length=150, blank=True)


class Flag(ScopedFields):
    """A guardrail flag: a possible violation recorded with its reason; shown on the daily report."""

    rule = models.CharField(max_length=40)
    check_key = models.CharField(max_length=40, blank=True, help_text="the pack's check key under the rule")
    on = models.DateField(db_index=True)
    designation = models.ForeignKey(Designation, null=True, blank=True, on_delete=models.CASCADE,
                                    related_name="flags")
    subject = models.CharField(max_length=400)
    message = models.TextField()
    message_en = models.TextField(blank=True)
    reason = models.TextField(blank=True)
    actor = models.CharField(max_length=150, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["rule", "check_key", "designation", "on"], name="flag_once_a_day")]


class Notice(models.Model):
    """A numbered public notice (第N号通告) listing the designations and lifts it announces."""

    number = models.PositiveIntegerField(unique=True)
    effective = models.DateField()
    published_at = models.DateTimeField()
    published_by = models.CharField(max_length=150)
    items = models.JSONField(default=list)

    class Meta:
        ordering = ["-number"]
