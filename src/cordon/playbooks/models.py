"""Runs of a playbook: a playbook of the pack followed on one task (or, later, one command order), and the
steps checked off on it (who, when)."""
from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from cordon.core.models import ScopedFields, text_choices


Subject = text_choices("Subject", task=_("Response task"), order=_("Command order"))


class PlaybookRun(ScopedFields):
    """One playbook followed on one subject. The run keeps the pack and the wording (digest) it started
    with, so a later pack that rewords the steps shows as a different version on the page."""

    subject = models.CharField(max_length=8, choices=Subject.choices)
    subject_id = models.PositiveBigIntegerField()
    playbook = models.CharField(max_length=40)
    pack = models.CharField(max_length=60)
    digest = models.CharField(max_length=12)
    started_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["subject", "subject_id", "playbook"], name="one_run_per_subject")]

    def __str__(self) -> str:
        return f"{self.playbook} on {self.subject} {self.subject_id}"


class StepCheck(models.Model):
    """A step checked off: by whom and when (the audit row says the same)."""

    run = models.ForeignKey(PlaybookRun, on_delete=models.CASCADE, related_name="checks")
    step = models.CharField(max_length=40)
    checked_at = models.DateTimeField()
    checked_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    actor = models.CharField(max_length=150)
    note = models.CharField(max_length=500, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["run", "step"], name="step_checked_once")]
        ordering = ["checked_at", "id"]
