"""Command orders (指令): an order, its versions, and one recipient row per executing unit or named person.

An order is scoped to the sender's jurisdiction node (the area of the grant it was sent under; none for a
city-wide sender), so the senders above read it; each recipient row carries the ancestor ids of the unit it
addresses (or of the named person's grant), so a unit's staff read the rows of their jurisdiction.
"""
from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from cordon.core.models import LeanScopedFields, ScopedFields, text_choices


Priority = text_choices("Priority", routine=_("Routine"), urgent=_("Urgent"), critical=_("Critical"))


OrderStatus = text_choices("OrderStatus", active=_("Active"), withdrawn=_("Withdrawn"))


RecipientStatus = text_choices(
    "RecipientStatus", sent=_("Sent"), read=_("Read"), acknowledged=_("Acknowledged"), in_progress=_("In progress"),
    done=_("Done"),
)


#: A recipient's statuses in order of progress (a report never moves a recipient back).
PROGRESS = [s.value for s in RecipientStatus]
OPEN_STATUSES = (RecipientStatus.SENT, RecipientStatus.READ, RecipientStatus.ACKNOWLEDGED, RecipientStatus.IN_PROGRESS)


class CommandOrder(ScopedFields):
    ref = models.CharField(max_length=40, unique=True)
    title = models.CharField(max_length=200)
    text = models.TextField()
    priority = models.CharField(max_length=10, choices=Priority.choices, default=Priority.ROUTINE)
    due = models.DateTimeField()
    basis = models.CharField(max_length=400, blank=True)  # the rule or decision behind the order
    attachment = models.CharField(max_length=500, blank=True)  # stored file under CORDON_HOME
    attachment_name = models.CharField(max_length=200, blank=True)
    targets = models.JSONField(default=dict, blank=True)  # what was addressed: areas, level, role, users
    status = models.CharField(max_length=10, choices=OrderStatus.choices, default=OrderStatus.ACTIVE)
    version = models.PositiveIntegerField(default=1)
    sender = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    sender_name = models.CharField(max_length=150)
    created = models.DateTimeField()
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdraw_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-created", "-id"]

    def __str__(self) -> str:
        return f"{self.ref} {self.title}"

    def audit_repr(self) -> str:
        return f"order {self.ref}"


class OrderVersion(models.Model):
    """What an order said at each version (1 = as sent); ``changed`` names the fields a revision changed."""

    order = models.ForeignKey(CommandOrder, on_delete=models.CASCADE, related_name="versions")
    version = models.PositiveIntegerField()
    at = models.DateTimeField()
    by = models.CharField(max_length=150)
    title = models.CharField(max_length=200)
    text = models.TextField()
    priority = models.CharField(max_length=10)
    due = models.DateTimeField()
    basis = models.CharField(max_length=400, blank=True)
    changed = models.JSONField(default=list, blank=True)
    reason = models.TextField(blank=True)

    class Meta:
        ordering = ["order", "version"]
        constraints = [models.UniqueConstraint(fields=["order", "version"], name="orderversion_unique")]


class Recipient(LeanScopedFields):
    """One executing unit (an area) or named person (``user``) an order was sent to, and how far it got."""

    order = models.ForeignKey(CommandOrder, on_delete=models.CASCADE, related_name="recipients")
    area = models.ForeignKey("places.Area", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                             db_index=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                             related_name="+", db_index=False)
    label = models.CharField(max_length=400)  # the unit's path or the person's user name
    status = models.CharField(max_length=14, choices=RecipientStatus.choices, default=RecipientStatus.SENT)
    read_at = models.DateTimeField(null=True, blank=True)
    read_version = models.PositiveIntegerField(default=0)  # the last version the unit opened
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.CharField(max_length=150, blank=True)
    progress_at = models.DateTimeField(null=True, blank=True)
    progress_note = models.CharField(max_length=1000, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    evidence_text = models.TextField(blank=True)
    evidence_numbers = models.JSONField(default=dict, blank=True)
    evidence_photo = models.CharField(max_length=500, blank=True)
    ack_escalated_at = models.DateTimeField(null=True, blank=True)
    due_escalated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["order", "label"]
        indexes = [models.Index(fields=["order", "status"], name="recipient_order"),
                   models.Index(fields=["district", "street", "community", "status"], name="recipient_scope"),
                   models.Index(fields=["user", "status"], name="recipient_user", condition=models.Q(user__isnull=False))]

    def __str__(self) -> str:
        return f"{self.order_id} {self.label}"

    def audit_repr(self) -> str:
        return f"order {self.order_id} to {self.label}"[:400]
