"""Infections. (Response tasks, contacts, orders, facilities and arrivals build on this.)"""
from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from cordon.core.access import ScopedManager
from cordon.core.models import ScopedFields


class Found(models.TextChoices):
    COMMUNITY = "community", _("In the community (社会面)")
    CONTROLLED_AREA = "controlled_area", _("In a controlled area")
    QUARANTINE_SITE = "quarantine_site", _("In a quarantine site")


class InfectionKind(models.TextChoices):
    CONFIRMED = "confirmed", _("Confirmed case")
    ASYMPTOMATIC = "asymptomatic", _("Asymptomatic infection")


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
    created = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["label"], name="infection_unique_label")]

    def __str__(self) -> str:
        return self.label
