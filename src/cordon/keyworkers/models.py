"""Key workers (重点人群): employers, the workers they employ (a resident, a pack group, a home and a
workplace) and their on-site samples. The latest negative sample day and the first overdue day are kept on the
worker (indexed), so "overdue on day D" is ``overdue_from <= D`` and "became overdue on D" is
``overdue_from = D``: range queries, whatever the number of samples behind them."""
from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from cordon.core.models import LeanScopedFields, TestResult, text_choices


EmployerKind = text_choices(
    "EmployerKind", delivery_platform=_("Delivery platform"), courier=_("Courier"), market=_("Market"),
    transport=_("Transport"), quarantine_site=_("Quarantine site"), fever_clinic=_("Fever clinic"),
)


class Employer(models.Model):
    """An employer of key workers (a company: no personal data, known city-wide)."""

    name = models.CharField(max_length=120, unique=True)
    kind = models.CharField(max_length=20, choices=EmployerKind.choices)
    created = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name


class EmployerContact(models.Model):
    """A user who speaks for an employer (role employer_contact): they see that employer's staff only."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="employer_link")
    employer = models.ForeignKey(Employer, on_delete=models.CASCADE, related_name="contacts")
    linked_at = models.DateTimeField()


class KeyWorker(LeanScopedFields):
    """A resident registered as a key worker; scoped by their home (ancestor ids down to the unit).

    Few indexes (a screening round updates every worker sampled in it, and an update that moves
    ``overdue_from`` enters every index): the scope and the employer each lead a composite index ending in
    ``overdue_from``, so an overdue list within a jurisdiction or an employer is one range of one index; the
    city-wide list reads ``overdue_from`` alone."""

    person = models.OneToOneField("places.Resident", on_delete=models.PROTECT, related_name="+",
                                  db_constraint=False)
    group = models.CharField(max_length=40)
    employer = models.ForeignKey(Employer, on_delete=models.PROTECT, related_name="workers", db_index=False)
    workplace = models.ForeignKey("places.Area", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                                  db_constraint=False, db_index=False)
    registered_on = models.DateField()
    cadence_days = models.PositiveSmallIntegerField(help_text="N: days a negative sample covers after its own day")
    last_negative = models.DateField(null=True, blank=True)
    positive_on = models.DateField(null=True, blank=True)
    overdue_from = models.DateField()

    class Meta:
        indexes = [models.Index(fields=["overdue_from", "id"], name="keyworker_overdue"),  # the lists' order
                   models.Index(fields=["employer", "overdue_from"], name="keyworker_employer_overdue"),
                   models.Index(fields=["district", "street", "community", "overdue_from"], name="keyworker_scope")]


class OnSiteSample(LeanScopedFields):
    """A sample taken on site (at the workplace or by a mobile team), single tube."""

    worker = models.ForeignKey(KeyWorker, on_delete=models.PROTECT, related_name="samples", db_index=False)
    on = models.DateField()
    result = models.CharField(max_length=8, choices=TestResult.choices)
    infection = models.ForeignKey("cases.Infection", null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="+")
    recorded_at = models.DateTimeField()
    actor = models.CharField(max_length=150)

    class Meta:
        indexes = [models.Index(fields=["worker", "on"], name="keyworker_sample_day"),
                   models.Index(fields=["district", "street", "community"], name="keyworker_sample_scope")]
