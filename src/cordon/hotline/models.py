"""The 24-hour hotline desk (应急电话、服务热线): tickets, their timeline, operator shifts, public rate limits."""
from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from cordon.core.models import ScopedFields, TimelineEntry, text_choices


class Category(models.TextChoices):
    MEDICAL = "medical", _("Medical")
    SUPPLIES = "supplies", _("Supplies")
    QUARANTINE = "quarantine_question", _("Quarantine question")
    LIFT = "lift_question", _("Lift question")
    COMPLAINT = "complaint", _("Complaint")
    OTHER = "other", _("Other")


Source = text_choices("Source", call=_("Phone call"), web=_("Public web form"))


Status = text_choices(
    "Status", open=_("Awaiting first response"), responded=_("Being handled"), answered=_("Feedback given"),
    closed=_("Closed"), duplicate=_("Duplicate"),
)


OPEN_STATUSES = (Status.OPEN, Status.RESPONDED, Status.ANSWERED)


class Ticket(ScopedFields):
    number = models.CharField(max_length=20, unique=True)
    source = models.CharField(max_length=6, choices=Source.choices)
    caller = models.CharField(max_length=60, blank=True)
    phone = models.CharField(max_length=20, db_index=True)
    category = models.CharField(max_length=24, choices=Category.choices)
    text = models.TextField()
    location = models.CharField(max_length=400, blank=True, help_text="as given by the caller")
    area = models.ForeignKey("places.Area", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    unit_area = models.ForeignKey("places.Area", null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="+", help_text="the responsible office")
    unit_name = models.CharField(max_length=200)
    deadline_class = models.CharField(max_length=10)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN, db_index=True)
    created_at = models.DateTimeField(db_index=True)
    respond_by = models.DateTimeField()
    resolve_by = models.DateTimeField()
    responded_at = models.DateTimeField(null=True, blank=True)
    feedback = models.TextField(blank=True)
    feedback_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    satisfaction = models.PositiveSmallIntegerField(null=True, blank=True, help_text="1 (poor) .. 5 (very good)")
    escalation = models.PositiveSmallIntegerField(default=0)
    escalated_at = models.DateTimeField(null=True, blank=True)
    duplicate_of = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="duplicates")
    care_request = models.PositiveBigIntegerField(null=True, blank=True)
    client = models.CharField(max_length=64, blank=True, help_text="hash of the web client's address")
    created_by = models.CharField(max_length=150)
    assignee = models.CharField(max_length=150, blank=True, default="",
                                help_text="the operator handling the ticket (user name); empty: the desk")

    class Meta:
        indexes = [models.Index(fields=["status", "resolve_by"]), models.Index(fields=["phone", "category",
                                                                                        "created_at"])]

    def __str__(self) -> str:
        return self.number

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


#: what a ticket's timeline entry records (``TicketEvent.kind``), for display
EVENT_LABELS = {
    "created": _("Created"),
    "duplicate": _("Duplicate call"),
    "duplicate_call": _("Called again"),
    "care_request": _("Emergency medical request"),
    "response": _("First response"),
    "feedback": _("Feedback"),
    "closed": _("Closed"),
    "escalated": _("Escalated"),
    "assigned": _("Assigned"),
}


class TicketEvent(TimelineEntry):
    """The ticket's timeline."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=20)
    note = models.TextField(blank=True)

    @property
    def kind_label(self) -> str:
        return str(EVENT_LABELS.get(self.kind, self.kind))


class Shift(models.Model):
    """One operator's shift at the desk."""

    operator = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="+")
    operator_name = models.CharField(max_length=150)
    starts = models.DateTimeField(db_index=True)
    ends = models.DateTimeField(db_index=True)
    desk = models.CharField(max_length=40, default="12345")
    created_by = models.CharField(max_length=150)

    class Meta:
        ordering = ["starts", "id"]


class RateCounter(models.Model):
    """Hits per client and window for the public form (shared by every app process)."""

    key = models.CharField(max_length=120, unique=True)
    window = models.BigIntegerField(db_index=True)
    count = models.PositiveIntegerField(default=0)
