"""The phone app's server side: registered devices (each with the key its slice is encrypted with at rest) and
the changes phones sent, each kept with its result (a change sent again gets the same answer, nothing written)."""
from __future__ import annotations

import datetime as dt
import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from cordon.core.models import LeanScopedFields, text_choices


class Device(models.Model):
    """A phone a field worker registered: its slice's key, and until when it may hold the slice. Revoked (the
    phone is told to wipe at its next contact) by logging out, by locking or deactivating the account, or by
    hand.

    ``last_seen`` (its last sync or slice) is written at most once a minute (``SEEN_EVERY``): a sync within a
    minute of the last contact leaves the row as it is, so it may be up to a minute behind the phone's latest
    sync (each sync has its own audit row ``phone.sync`` with its time)."""

    #: how often a device's ``last_seen`` is rewritten at most (by syncs)
    SEEN_EVERY = dt.timedelta(minutes=1)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="phone_devices")
    name = models.CharField(max_length=80)
    key = models.CharField(max_length=64, help_text="base64url of the 32-byte AES-GCM key of the slice at rest")
    created = models.DateTimeField()
    last_seen = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-created"]
        indexes = [models.Index(fields=["user", "revoked_at"], name="phone_device_user")]

    def __str__(self) -> str:
        return f"{self.name} ({self.user})"

    def audit_repr(self) -> str:
        return f"device {str(self.pk)[:8]}"


Status = text_choices(
    "Status", applied=_("Applied"), duplicate=_("Duplicate (already there)"),
    flagged=_("Applied, needs a person to look"), rejected=_("Rejected (nothing written)"),
)


Kind = text_choices(
    "Kind", tube=_("Tube registered"), delivery=_("Delivery outcome"), checkin=_("Daily check-in"),
    visit=_("Care visit done"), care_request=_("Medical request"), pass_check=_("Pass checked"),
)


class Change(LeanScopedFields):
    """One change made on a phone (its id made there), with the result it got. The primary key is the phone's
    id, so a batch sent again finds its changes here and writes nothing. Placed where its record is (a tube:
    its first person's unit), so the slices of that place list today's tubes."""

    id = models.UUIDField(primary_key=True, editable=False)
    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="changes")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    batch = models.UUIDField()
    kind = models.CharField(max_length=16)
    at = models.DateTimeField(help_text="when it was done on the phone (the phone's clock)")
    received = models.DateTimeField(help_text="when it reached the server")
    data = models.JSONField(default=dict)
    status = models.CharField(max_length=10, choices=Status.choices)
    message = models.CharField(max_length=400, blank=True)
    record = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["received", "at"]
        indexes = [models.Index(fields=["user", "status"], name="phone_change_user"),
                   models.Index(fields=["district", "street", "community", "received"], name="phone_change_scope")]

    def result(self) -> dict:
        return {"id": str(self.pk), "status": self.status, "message": self.message, "record": self.record}
