"""Passes (通行证) for essential movement, the checkpoints (卡口) that check them, every check's log, and the
deployment's signing key (the QR code carries a token signed with it; ../shared/POLICY.md "Key workers, key
places, passes and checkpoints")."""
from __future__ import annotations

import re

from django.db import models
from django.utils.translation import gettext, gettext_lazy as _

from cordon.core.models import LeanScopedFields, ScopedFields, text_choices


Kind = text_choices(
    "Kind", delivery=_("Delivery"), medical=_("Medical"), utility=_("Utility"), supply=_("Supply"),
    care_transfer=_("Care transfer"), driver=_("Driver"),
)


PassStatus = text_choices("PassStatus", active=_("Active"), suspended=_("Suspended"), revoked=_("Revoked"))


#: Why a pass is suspended (the day-start job sets and clears it).
Cause = text_choices(
    "Cause", overdue=_("Holder overdue for a test"), order=_("Holder under a quarantine or isolation order"),
)


class Pass(ScopedFields):
    """A pass: its holder (a resident, or a named person from outside the city: drivers), the areas it covers
    (``areas``: [{id, path}]; a pass for a street covers everything inside it), valid from ``valid_from`` to
    ``valid_to`` inclusive. Scoped to the lowest area containing all its areas."""

    kind = models.CharField(max_length=14, choices=Kind.choices)
    holder = models.ForeignKey("places.Resident", null=True, blank=True, on_delete=models.PROTECT,
                               related_name="+", db_constraint=False)
    holder_name = models.CharField(max_length=40, help_text="the resident's name, or a named holder's")
    holder_id_number = models.CharField(max_length=18, blank=True, help_text="a named holder's ID number")
    areas = models.JSONField(default=list)
    valid_from = models.DateField()
    valid_to = models.DateField()
    status = models.CharField(max_length=10, choices=PassStatus.choices, default=PassStatus.ACTIVE)
    status_since = models.DateField()
    cause = models.CharField(max_length=8, choices=Cause.choices, blank=True)
    code = models.CharField(max_length=12, unique=True, help_text="the code typed when the QR cannot be read")
    revoked_seq = models.BigIntegerField(null=True, blank=True, unique=True,
                                         help_text="position in the revocation list (synced by checkpoints)")
    revoked_reason = models.TextField(blank=True)
    label = models.CharField(max_length=40, blank=True, help_text="scenario id")
    care_request = models.PositiveBigIntegerField(null=True, blank=True, help_text="care transfer: the request")
    issued_at = models.DateTimeField()
    issued_by = models.CharField(max_length=150)

    class Meta:
        indexes = [models.Index(fields=["status", "valid_to"], name="pass_status"),
                   models.Index(fields=["holder"], name="pass_holder", condition=models.Q(holder__isnull=False)),
                   models.Index(fields=["label"], name="pass_label")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"

    def audit_repr(self) -> str:
        return f"pass {self.pk} {self.kind}"

    @property
    def masked_holder(self) -> str:
        from cordon.core.ids import mask_name

        return mask_name(self.holder_name)

    @property
    def area_paths(self) -> list[str]:
        return [a["path"] for a in self.areas]


class PassEvent(models.Model):
    """A pass's dated history: issued, suspended (with its cause), active again, revoked."""

    ISSUE, SUSPEND, REACTIVATE, REVOKE = "issue", "suspend", "reactivate", "revoke"
    KINDS = [(ISSUE, _("Issued")), (SUSPEND, _("Suspended")), (REACTIVATE, _("Active again")),
             (REVOKE, _("Revoked"))]

    pass_ref = models.ForeignKey(Pass, on_delete=models.CASCADE, related_name="events")
    on = models.DateField()
    at = models.DateTimeField()
    kind = models.CharField(max_length=10, choices=KINDS)
    cause = models.CharField(max_length=8, blank=True)
    actor = models.CharField(max_length=150)
    reason = models.TextField(blank=True)

    class Meta:
        ordering = ["on", "id"]

    @property
    def cause_label(self) -> str:
        return str(Cause(self.cause).label) if self.cause in Cause.values else self.cause

    @property
    def reason_label(self) -> str:
        """The reason in the reader's language where the program wrote it (a care transfer's pass, issued with
        its dispatch: ``links.care_transfer_pass``), else as written."""
        found = _CARE_TRANSFER.fullmatch(self.reason)
        return gettext("Care transfer %(ref)s") % {"ref": found.group(1)} if found else self.reason


#: the reason a care transfer's pass is issued with (``links.care_transfer_pass``), stored in English
_CARE_TRANSFER = re.compile(r"care transfer (\S+)")


class Checkpoint(ScopedFields):
    """A checkpoint (卡口) at an area; ``city_exit``: people leave the city through it (the 48-hour test)."""

    name = models.CharField(max_length=80, unique=True)
    area = models.ForeignKey("places.Area", on_delete=models.PROTECT, related_name="+")
    city_exit = models.BooleanField(default=False)

    def __str__(self) -> str:
        return self.name


#: The check's reasons (POLICY.md's codes, in order) as people read them.
REASON_LABELS = {
    "revoked": _("revoked"),
    "not_yet_valid": _("not yet valid"),
    "expired": _("expired"),
    "area_not_covered": _("area not covered by the pass"),
    "holder_under_order": _("holder under a quarantine or isolation order"),
    "test_overdue": _("holder overdue for a test"),
    "no_negative_48h": _("no negative test within 48 hours before leaving the city"),
    "invalid": _("forged, damaged or unknown code"),
}


Result = text_choices("Result", allowed=_("Allowed"), refused=_("Refused"))


class CheckLog(LeanScopedFields):
    """One check at a checkpoint (every check is logged, refusals and forged tokens too). Scoped to the area
    checked. Append-only and written once a second per checkpoint: its indexes are the two its reads use (the
    day's checks, a jurisdiction's latest); none per scope level or per reference, which no read asks by
    (passes, checkpoints and areas are never deleted)."""

    pass_ref = models.ForeignKey(Pass, null=True, blank=True, on_delete=models.PROTECT, related_name="checks",
                                 db_index=False)
    checkpoint = models.ForeignKey(Checkpoint, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                                   db_index=False)
    area = models.ForeignKey("places.Area", on_delete=models.PROTECT, related_name="+", db_index=False)
    on = models.DateField()
    at = models.DateTimeField()
    result = models.CharField(max_length=8, choices=Result.choices)
    reason = models.CharField(max_length=20, blank=True)
    flagged = models.BooleanField(default=False, help_text="#8: an eligible driver refused")
    officer = models.CharField(max_length=150)

    class Meta:
        indexes = [models.Index(fields=["on", "result"], name="checklog_day"),
                   models.Index(fields=["district", "street", "community", "at"], name="checklog_scope")]

    @property
    def reason_label(self) -> str:
        return str(REASON_LABELS.get(self.reason, self.reason))


class SigningKey(models.Model):
    """The deployment's Ed25519 key pair (generated on first use): passes' tokens are signed with it, the
    checkpoint page verifies them with the public key."""

    private = models.BinaryField()
    public = models.BinaryField()
    created = models.DateTimeField()
