"""Mass-screening rounds (全员核酸), pooled sample registrations, tube results, imports, recall tasks, coverage.

Big tables (registrations, one row per pooled tube listing its people; tube results, one row per tube) are
written by the bulk pipeline in ``screening.ingest`` (COPY / executemany), never row by row through the ORM.
Who is registered in a round is a bitmap per block of resident ids (``Registered``); coverage is counted per
unit and day as rows are written (``SampleTally``). Queries on registrations are per round, by barcode.

Results are keyed by tube barcode and joined to registrations at query time, so they may arrive before or
after the registrations of their tube.
"""
from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from cordon.core.access import scope_for
from cordon.core.models import LEVELS, LeanScopedFields, ScopedFields, TaskStatus, text_choices


class Coverage(models.TextChoices):
    CITY = "city", _("Whole city")
    AREAS = "areas", _("Chosen areas")
    DESIGNATED = "designated", _("Designated risk areas")


RoundStatus = text_choices("RoundStatus", open=_("Open (sampling and results)"), closed=_("Closed"))


#: allowed status changes (DESIGN.md #4)
ROUND_TRANSITIONS = {RoundStatus.OPEN: {RoundStatus.CLOSED}, RoundStatus.CLOSED: {RoundStatus.OPEN}}


class RoundQuerySet(models.QuerySet):
    def for_user(self, user, perm: str = "view"):
        """Rounds whose covered areas meet the user's jurisdiction (city rounds: everyone with ``perm``)."""
        scope = scope_for(user, perm)
        if scope.everything:
            return self
        if scope.nothing:
            return self.none()
        from cordon.places.models import Area

        granted = [i for ids in scope.by_level.values() for i in ids]
        # a covered node inside a granted node, or a granted node inside a covered node
        ancestors = set()
        for a in Area.objects.filter(pk__in=granted).only(*[f"{lv}_id" for lv in LEVELS]):
            ancestors.update(i for i in (getattr(a, f"{lv}_id") for lv in LEVELS) if i)
        inside = models.Q(pk__in=[])
        for lv, ids in scope.by_level.items():
            if ids:
                inside |= models.Q(**{f"{lv}_id__in": sorted(ids)})
        meets = RoundArea.objects.filter(inside | models.Q(area_id__in=sorted(ancestors))).values("round_id")
        return self.filter(models.Q(coverage=Coverage.CITY) | models.Q(pk__in=meets))


class Round(models.Model):
    name = models.CharField(max_length=120)
    coverage = models.CharField(max_length=12, choices=Coverage.choices, default=Coverage.AREAS)
    on = models.DateField(help_text="the day of the round")
    pool_size = models.PositiveSmallIntegerField(default=10)
    status = models.CharField(max_length=8, choices=RoundStatus.choices, default=RoundStatus.OPEN)
    designation = models.ForeignKey("zones.Designation", null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="screening_rounds")
    created = models.DateTimeField()
    created_by = models.CharField(max_length=150)
    # cached figures, refreshed by ``actions.do_refresh_round``
    refreshed = models.DateTimeField(null=True, blank=True)
    due = models.PositiveIntegerField(default=0)
    sampled = models.PositiveIntegerField(default=0)
    tubes = models.PositiveIntegerField(default=0)
    tubes_reported = models.PositiveIntegerField(default=0)
    tubes_positive = models.PositiveIntegerField(default=0)
    tubes_invalid = models.PositiveIntegerField(default=0)
    people_recalled = models.PositiveIntegerField(default=0)

    objects = RoundQuerySet.as_manager()

    class Meta:
        ordering = ["-on", "-id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.on})"

    @property
    def missing(self) -> int:
        return max(0, self.due - self.sampled)


class RoundArea(ScopedFields):
    """A node covered by a round (the node's own ancestor ids, self-inclusive)."""

    round = models.ForeignKey(Round, on_delete=models.CASCADE, related_name="areas")
    area = models.ForeignKey("places.Area", on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["round", "area"], name="roundarea_unique")]


class IdList(models.BinaryField):
    """A list of integer ids in one column, as little-endian int64 bytes (``bytea`` on PostgreSQL, a BLOB on
    SQLite): written by the importers in bulk (on PostgreSQL as hex text in the COPY stream, which the server
    decodes at almost no cost) and read as a Python list of ints."""

    description = "list of integer ids"

    def from_db_value(self, value, expression, connection):
        return decode_ids(value)

    def get_db_prep_value(self, value, connection, prepared=False):
        if value is None:
            return None
        return super().get_db_prep_value(encode_ids(value), connection, prepared)

    def to_python(self, value):
        return decode_ids(value) if isinstance(value, (bytes, bytearray, memoryview)) else value


def encode_ids(ids) -> bytes:
    """Integer ids as an ``IdList`` column stores them: little-endian int64 bytes."""
    import numpy as np

    return np.asarray(ids, dtype="<i8").tobytes()


def decode_ids(value) -> list[int] | None:
    """An ``IdList`` column's value as stored (a list on PostgreSQL, bytes on SQLite) -> list of ints."""
    if value is None or isinstance(value, list):
        return value
    if isinstance(value, (bytes, bytearray, memoryview)):
        import numpy as np

        return np.frombuffer(value, dtype="<i8").tolist()
    return list(value)


class Sample(models.Model):
    """Registrations of one pooled tube (混管): the people sampled into it at one site and minute, as one import
    chunk wrote them (a tube's people normally arrive as one run of lines; a tube spread over minutes, sites,
    chunks or files has several rows). ``people`` are resident ids in the file's order.

    One row per tube instead of one per person: a city round writes ~430 k rows instead of 4.2 M, and its only
    index, (round, barcode), is what the recall (a positive tube's people) and the tube figures read. Who is
    registered in a round is kept per person in ``Registered`` (bitmaps); coverage is counted per unit and
    day as rows are written (``SampleTally``)."""

    round = models.ForeignKey(Round, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False,
                              related_name="+")
    batch_id = models.IntegerField()
    barcode = models.CharField(max_length=32)
    site = models.CharField(max_length=80, blank=True)
    sampled_at = models.DateTimeField()
    people = IdList()

    class Meta:
        # on PostgreSQL the barcode is compared as bytes (pattern operator class) rather than by the
        # database's collation: equality is all that is asked, at half the cost per insertion
        indexes = [models.Index(fields=["round", "barcode"], name="screening_sample_tube",
                                opclasses=["int8_ops", "varchar_pattern_ops"])]


#: resident ids per ``Registered`` row (a block's bitmap is BLOCK / 8 bytes)
BLOCK = 1 << 16


class Registered(models.Model):
    """Who is registered in a round: one bitmap per block of ``BLOCK`` resident ids (bit ``i`` of block ``b``,
    least significant bit first within each byte, is resident ``b * BLOCK + i``). Written in each import
    chunk's transaction with the chunk's tubes (its blocks locked, so two imports into the same round never
    both register a person); read whole by an import (duplicates), per resident by the missing list."""

    pk = models.CompositePrimaryKey("round_id", "block")
    round = models.ForeignKey(Round, on_delete=models.CASCADE, db_constraint=False, db_index=False,
                              related_name="+")
    block = models.IntegerField()
    bits = models.BinaryField()


Result = text_choices("Result", negative=_("Negative"), positive=_("Positive"), invalid=_("Invalid (resample)"))


class TubeResult(models.Model):
    """A lab's result for a tube (first report wins; later reports of the same tube are duplicates)."""

    barcode = models.CharField(max_length=32, primary_key=True)
    result = models.CharField(max_length=8, choices=Result.choices)
    lab = models.CharField(max_length=80, blank=True)
    reported_at = models.DateTimeField()
    batch_id = models.IntegerField()
    line = models.IntegerField()


BatchKind = text_choices("BatchKind", samples=_("Sample registrations"), results=_("Tube results"))


BatchStatus = text_choices("BatchStatus", running=_("Running"), done=_("Done"), failed=_("Failed"))


class ImportBatch(models.Model):
    """One file (or API batch) of registrations or results. ``key`` is the file's sha256 or the API's batch
    key; ``offset``/``line`` is how far the committed chunks reach, updated in the chunk's transaction."""

    kind = models.CharField(max_length=8, choices=BatchKind.choices)
    key = models.CharField(max_length=80)
    round = models.ForeignKey(Round, null=True, blank=True, on_delete=models.CASCADE, related_name="batches")
    source = models.CharField(max_length=200, blank=True, help_text="file name or 'api'")
    size = models.BigIntegerField(default=0)
    status = models.CharField(max_length=8, choices=BatchStatus.choices, default=BatchStatus.RUNNING)
    offset = models.BigIntegerField(default=0)
    line = models.IntegerField(default=0)
    rows_ok = models.IntegerField(default=0)
    rows_bad = models.IntegerField(default=0)
    rows_duplicate = models.IntegerField(default=0)
    started = models.DateTimeField()
    finished = models.DateTimeField(null=True, blank=True)
    actor = models.CharField(max_length=150)
    # scope of the uploader for API batches (community workers upload for their own area)
    community_id = models.IntegerField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kind", "key"], name="importbatch_unique_key")]
        ordering = ["-started", "-id"]

    def __str__(self) -> str:
        return f"{self.kind} {self.source or self.key[:12]}"

    @property
    def percent(self) -> float:
        if self.status == BatchStatus.DONE:
            return 100.0
        return round(100.0 * self.offset / self.size, 1) if self.size else 0.0


class RowError(models.Model):
    """A row of an import that was not kept: line (1 = header), field, reason."""

    batch = models.ForeignKey(ImportBatch, on_delete=models.CASCADE, related_name="errors")
    line = models.IntegerField()
    field = models.CharField(max_length=20)
    reason = models.CharField(max_length=200)

    class Meta:
        ordering = ["batch", "line"]


class RecallTask(ScopedFields):
    """Single-tube retest of everyone in a round's positive pools who lives in one building unit."""

    round = models.ForeignKey(Round, on_delete=models.CASCADE, related_name="recall_tasks")
    area = models.ForeignKey("places.Area", on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=8, choices=TaskStatus.choices, default=TaskStatus.OPEN)
    created = models.DateTimeField()
    people = models.PositiveIntegerField(default=0)
    retested = models.PositiveIntegerField(default=0)
    positives = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["round", "area"], name="recalltask_unique_unit")]
        ordering = ["status", "id"]


class Retest(models.TextChoices):
    PENDING = "", _("Pending")
    NEGATIVE = "negative", _("Negative")
    POSITIVE = "positive", _("Positive")


class RecallMember(ScopedFields):
    task = models.ForeignKey(RecallTask, on_delete=models.CASCADE, related_name="members")
    resident = models.ForeignKey("places.Resident", on_delete=models.PROTECT, related_name="+",
                                 db_constraint=False)
    barcode = models.CharField(max_length=32)
    retest = models.CharField(max_length=8, choices=Retest.choices, blank=True, default="")
    retested_at = models.DateTimeField(null=True, blank=True)
    infection = models.ForeignKey("cases.Infection", null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["task", "resident"], name="recallmember_unique")]
        ordering = ["task", "id"]


class CoverageRow(LeanScopedFields):
    """Residents due / sampled per area node of a round, for the district, street, community and compound
    levels (cached by ``do_refresh_round``, which rewrites a city round's ~13 k rows at once; buildings and
    units are counted on demand, see ``queries.coverage_children``). Scoping reads the (round, district,
    street, community) index, ``access.Scope`` naming a grant's whole ancestor chain."""

    # no database-side foreign key checks: every refresh rewrites the rows from the areas and the round it is
    # given, and checking ~300 k rows at commit cost as much as writing them (rows go with their round by
    # Django's cascade)
    round = models.ForeignKey(Round, on_delete=models.CASCADE, related_name="+", db_index=False,
                              db_constraint=False)
    area = models.ForeignKey("places.Area", on_delete=models.DO_NOTHING, db_constraint=False, related_name="+",
                             db_index=False)
    kind = models.CharField(max_length=12)
    parent_id = models.IntegerField(null=True)
    due = models.IntegerField(default=0)
    sampled = models.IntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["round", "parent_id"]),
                   models.Index(fields=["round", "area"], name="coverage_round_area"),
                   models.Index(fields=["round", "district", "street", "community"], name="coverage_round_scope")]

    @property
    def missing(self) -> int:
        return max(0, self.due - self.sampled)

    @property
    def percent(self) -> float:
        return round(100.0 * self.sampled / self.due, 1) if self.due else 0.0


class CoverageDay(models.Model):
    """People sampled per day and district in a round (the command view's curve)."""

    round = models.ForeignKey(Round, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    district_id = models.IntegerField(null=True)
    sampled = models.IntegerField(default=0)


class SampleTally(models.Model):
    """Registrations counted per unit and day (city time) as they are written: each import chunk adds its
    counts in the chunk's own transaction (so a resumed import counts every row exactly once). Coverage is
    summed from these (~20 x fewer rows than the registrations) instead of scanning every registration."""

    round_id = models.IntegerField()
    unit_id = models.IntegerField(null=True)
    day = models.DateField()
    n = models.IntegerField()

    class Meta:
        # (round, unit): the round's rows for a refresh, and one node's units for the building and unit
        # coverage computed on demand (``queries.coverage_children``). One index: every import chunk writes here
        indexes = [models.Index(fields=["round_id", "unit_id"], name="screening_tally_round_unit")]
