"""Imported aggregate daily counts (a real outbreak's curve) and the daily public bulletin.

``DailyCount``: one row per (series, day) of an imported aggregate series such as Shanghai 2022
(``/work/shared/data/shanghai-2022``): new local infections found under control vs found in the community.

``Bulletin``: the day's public bulletin (每日疫情通报), drafted from the records in the official style,
edited, approved by a second commander (never its drafter or last editor) and published
(``draft -> approved -> published``; every step an action with its audit row, see ``situation.actions``).

``DayClose``: a district's sign-off of its daily close (日清日结): who and when, the open items it carried over
to the next day (with their owners), and a reopening with its reason.
"""
from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from cordon.core.models import ScopedFields, text_choices


class DailyCount(models.Model):
    series = models.CharField(max_length=60)
    day = models.DateField()
    confirmed = models.PositiveIntegerField(default=0)
    asymptomatic = models.PositiveIntegerField(default=0)
    asym_to_confirmed = models.PositiveIntegerField(default=0, help_text="re-classified, not new infections")
    confirmed_in_control = models.PositiveIntegerField(default=0)
    asymptomatic_in_control = models.PositiveIntegerField(default=0)
    confirmed_screening = models.PositiveIntegerField(default=0)
    asymptomatic_screening = models.PositiveIntegerField(default=0)
    in_control = models.PositiveIntegerField(default=0, help_text="found under control (隔离管控中发现)")
    community = models.PositiveIntegerField(default=0, help_text="found by screening (社会面)")
    deaths = models.PositiveIntegerField(default=0)
    new_local = models.PositiveIntegerField(default=0, help_text="confirmed - asym_to_confirmed + asymptomatic")
    split_known = models.BooleanField(default=True, help_text="the day's bulletin gave the control/community split")
    imported_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["series", "day"], name="dailycount_once")]
        ordering = ["series", "day"]

    def __str__(self) -> str:
        return f"{self.series} {self.day}: {self.new_local}"


BulletinStatus = text_choices("BulletinStatus", draft=_("Draft"), approved=_("Approved"), published=_("Published"))


class Bulletin(models.Model):
    day = models.DateField(unique=True)
    status = models.CharField(max_length=10, choices=BulletinStatus.choices, default=BulletinStatus.DRAFT,
                              db_index=True)
    title = models.CharField(max_length=200)
    text = models.TextField(help_text="the text as edited (published as is)")
    drafted_text = models.TextField(help_text="the text as drafted from the records")
    figures = models.JSONField(default=dict, help_text="the aggregate figures the draft was made from")
    drafted_at = models.DateTimeField()
    drafted_by = models.CharField(max_length=150)
    edited_at = models.DateTimeField(null=True, blank=True)
    edited_by = models.CharField(max_length=150, blank=True)
    approved_at = models.DateTimeField(null=True, blank=True)
    approved_by = models.CharField(max_length=150, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    published_by = models.CharField(max_length=150, blank=True)

    class Meta:
        ordering = ["-day"]

    def __str__(self) -> str:
        return self.title


DayCloseStatus = text_choices("DayCloseStatus", signed=_("Signed off"), reopened=_("Reopened"))


class DayClose(ScopedFields):
    """A district's daily close for one day: signed off (who, when; the items still open then, carried over to
    the next day with their owners), or reopened with a reason (and signed off again later)."""

    district = models.ForeignKey("places.Area", on_delete=models.PROTECT, related_name="+")
    day = models.DateField()
    status = models.CharField(max_length=10, choices=DayCloseStatus.choices, default=DayCloseStatus.SIGNED)
    signed_at = models.DateTimeField()
    signed_by = models.CharField(max_length=150)
    note = models.CharField(max_length=300, blank=True)
    open_items = models.JSONField(default=list, help_text="items still open at the sign-off, carried over")
    reopened_at = models.DateTimeField(null=True, blank=True)
    reopened_by = models.CharField(max_length=150, blank=True)
    reopen_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["district", "day"], name="dayclose_once")]
        ordering = ["-day", "district_id"]
