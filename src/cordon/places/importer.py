"""Resident import from CSV or XLSX: streamed, validated per row, batched, idempotent on ID number.

Every bad row is reported (line, field, reason) while good rows are kept. Re-importing the same file
changes nothing. The same pipeline serves the CLI (``cordon import residents FILE``) and the pages.
"""
from __future__ import annotations

import csv
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction
from django.utils.translation import gettext

from cordon import tabular
from cordon.core import access, audit, clock, stamps
from cordon.core.actions import ActionError
from cordon.core.models import LEVELS, AuditEntry
from cordon.places.actions import RESIDENT_FIELDS, check_resident, masked
from cordon.places.models import Area, Household, Resident

#: Canonical column -> accepted header spellings (English and Chinese).
COLUMNS = {
    "name": ("name", "姓名"),
    "id_number": ("id_number", "身份证号", "身份证号码"),
    "phone": ("phone", "手机号", "电话", "联系电话"),
    "birth_date": ("birth_date", "出生日期"),
    "sex": ("sex", "性别"),
    "address": ("address", "unit", "地址", "单元"),
    "household": ("household", "room", "门牌号", "户号"),
    "lives_alone": ("lives_alone", "独居"),
    "pregnant_due": ("pregnant_due", "预产期"),
    "treatment": ("treatment", "定期治疗", "治疗"),
    "disability": ("disability", "残疾"),
    "chronic_illness": ("chronic_illness", "慢性病", "重症慢病"),
}
REQUIRED = ("name", "id_number", "address", "household")
BATCH = 2000


class ImportFileError(tabular.FileError):
    """The file as a whole cannot be imported (wrong type, encoding, a malformed record, missing columns): refused
    before anything is written. ``str``: ``FILE:LINE: reason``."""


@dataclass
class RowError:
    line: int
    field: str
    reason: str


@dataclass
class ImportReport:
    file: str
    sha256: str = ""
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    households_created: int = 0
    errors: list[RowError] = field(default_factory=list)
    errors_before: int = 0  # bad rows of a resumed import's earlier run (already in its report)
    #: what an error's number counts (the report's first column; ``maps.importer``: the feature)
    number_column = "line"

    @property
    def ok(self) -> int:
        return self.created + self.updated + self.unchanged

    @property
    def bad(self) -> int:
        return self.errors_before + len(self.errors)

    def write_errors(self, path: Path) -> None:
        with open(path, "w", newline="", encoding="utf-8-sig") as fh:
            w = csv.writer(fh)
            w.writerow([self.number_column, "field", "reason"])
            for e in self.errors:
                w.writerow([e.line, e.field, e.reason])


def _header_map(header: list[str], columns: dict = COLUMNS, required: tuple = REQUIRED) -> dict[str, int]:
    lookup = {alias.lower(): canon for canon, aliases in columns.items() for alias in aliases}
    out = {}
    for i, h in enumerate(header):
        canon = lookup.get(str(h).strip().lower())
        if canon and canon not in out:
            out[canon] = i
    missing = [c for c in required if c not in out]
    if missing:
        raise ImportFileError("missing columns: " + ", ".join(missing)
                              + " (found: " + ", ".join(str(h) for h in header) + ")")
    return out


def iter_records(path: Path, columns: dict = COLUMNS, required: tuple = REQUIRED, encoding: str | None = None):
    """Yield (line, {column: text}) for every data row; raises ImportFileError for the file as a whole. A CSV
    file's encoding (detected, or ``encoding``) holds for every byte and every record is well-formed before
    the first row is yielded. ``columns`` (canonical name -> accepted headers) and ``required`` default to the
    residents' file; other importers (``places.areaimport``) pass their own."""
    rows = tabular.rows(path, encoding, error=ImportFileError)
    cols = None
    for line, row in rows:
        if cols is None:
            if not any(str(c).strip() for c in row):
                continue
            try:
                cols = _header_map(row, columns, required)
            except ImportFileError as exc:
                raise ImportFileError(exc.reason, path=path, line=line) from None
            continue
        if not any(str(c).strip() for c in row):
            continue
        yield line, {k: (row[i].strip() if i < len(row) else "") for k, i in cols.items()}
    if cols is None:
        raise ImportFileError("empty file (no header row)", path=path)


def in_batches(rows, size: int, write, after_batch) -> None:
    """Hand ``rows`` to ``write`` in lists of ``size`` (the last one shorter); ``after_batch()`` after each
    full one (progress)."""
    batch: list = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            write(batch)
            batch = []
            after_batch()
    if batch:
        write(batch)


def import_residents(path, *, actor=None, progress=None, encoding: str | None = None, report=None,
                     after_line: int = 0, checkpoint=None, name: str | None = None) -> ImportReport:
    """Import residents from ``path``. ``actor`` None means the system (CLI run by the operator).
    ``encoding``: the CSV file's encoding as declared by the operator (default: detected over the whole file).

    A file refused as a whole (``ImportFileError``) leaves nothing behind. Rows are written in chunks of
    ``BATCH``, each chunk in one transaction with its audit row, so an interrupted import's committed rows are
    accounted for; a rerun finishes the file (rows already stored are unchanged).

    To go on exactly where an interrupted run stopped (the uploads from the browser), a caller passes
    ``checkpoint(report, last_line)``, called inside each chunk's transaction, and on the rerun the report it
    kept (``report``) and the last line it recorded (``after_line``): the lines up to it are read, not
    imported again, so each row counts once."""
    path = Path(path)
    if not path.is_file():
        raise ImportFileError("no such file", path=path)
    report = report or ImportReport(file=name or path.name, sha256=tabular.sha256_of(path))
    write_scope = access.scope_for(actor, access.PLACES_WRITE) if actor is not None and not isinstance(actor, str) else None
    seen: dict[str, int] = {}

    def counted():
        for line, rec in iter_records(path, encoding=encoding):
            if line <= after_line:
                _remember(rec, line, seen)
                continue
            report.rows += 1
            yield line, rec

    def write(batch):
        if checkpoint is None:
            return _import_batch(batch, report, actor, write_scope, seen)
        with transaction.atomic():
            _import_batch(batch, report, actor, write_scope, seen)
            checkpoint(report, batch[-1][0])

    in_batches(counted(), BATCH, write, lambda: progress(report) if progress else None)
    audit.record("resident.import", actor=actor, object_type="import", object_id=report.sha256[:16],
                 object_repr=report.file,
                 after={"file": report.file, "sha256": report.sha256, "rows": report.rows,
                        "created": report.created, "updated": report.updated, "unchanged": report.unchanged,
                        "households_created": report.households_created, "errors": report.bad})
    if progress:
        progress(report)
    return report


def _import_batch(batch, report: ImportReport, actor, write_scope, seen: dict[str, int]) -> None:
    # 1. Validate each row on its own.
    valid: list[tuple[int, dict, str, str]] = []
    for line, rec in batch:
        try:
            fields = _checked(rec)
        except ActionError as exc:
            report.errors.append(RowError(line, exc.field, str(exc)))
            continue
        idn = fields["id_number"]
        if idn in seen:
            report.errors.append(RowError(line, "id_number", f"same ID number as line {seen[idn]}"))
            continue
        seen[idn] = line
        valid.append((line, fields, rec["address"].strip().strip("/"), rec["household"].strip()))
    if not valid:
        return
    with transaction.atomic():
        # 2. Resolve units by path.
        units = {a.path: a for a in Area.objects.filter(path__in={v[2] for v in valid})}
        rows = []
        for line, fields, addr, number in valid:
            unit = units.get(addr)
            if unit is None:
                report.errors.append(RowError(line, "address", f"no such building unit: {addr}"))
            elif unit.kind != "unit":
                report.errors.append(RowError(line, "address", f"{addr} is a {unit.kind}, not a building unit"))
            elif write_scope is not None and not write_scope.contains(unit):
                report.errors.append(RowError(line, "address", "outside your jurisdiction"))
            elif len(number) > 20:
                report.errors.append(RowError(line, "household", "door number longer than 20 characters"))
            else:
                rows.append((line, fields, unit, number))
        if not rows:
            return
        created0, updated0, hh0 = report.created, report.updated, report.households_created
        # 3. Households: fetch existing, create the missing ones in bulk.
        keys = {(u.pk, n) for _, _, u, n in rows}
        hh = {(h.unit_id, h.number): h for h in Household.objects.filter(
            unit_id__in={k[0] for k in keys}, number__in={k[1] for k in keys})}
        unit_by_id = {u.pk: u for _, _, u, _ in rows}
        new_hh = []
        for unit_id, number in sorted(keys - set(hh)):
            h = Household(number=number)
            h.set_scope_from(unit_by_id[unit_id])
            new_hh.append(h)
        if new_hh:
            Household.objects.bulk_create(new_hh, batch_size=1000)
            report.households_created += len(new_hh)
            hh.update({(h.unit_id, h.number): h for h in Household.objects.filter(
                unit_id__in={h.unit_id for h in new_hh}, number__in={h.number for h in new_hh})})
        # 4. Residents: insert new, update changed, leave identical ones alone.
        existing = {r.id_number: r for r in Resident.objects.filter(id_number__in=[f["id_number"] for _, f, _, _ in rows])}
        creates, updates, audits = [], [], []
        delta: dict[int, int] = defaultdict(int)
        now = clock.now()
        for line, fields, unit, number in rows:
            h = hh[(unit.pk, number)]
            full = {k: fields.get(k, _default(k)) for k in RESIDENT_FIELDS}
            old = existing.get(fields["id_number"])
            if old is None:
                r = Resident(household=h, **full)
                r.set_scope_from(h)
                creates.append(r)
                for i in h.scope_dict().values():
                    delta[i] += 1
                continue
            changed = {k: v for k, v in full.items() if getattr(old, k) != v}
            moved = old.household_id != h.pk
            if not changed and not moved:
                report.unchanged += 1
                continue
            before = {k: masked(k, getattr(old, k)) for k in changed}
            if moved:
                before["household"] = old.household_id
                for i in old.scope_dict().values():
                    delta[i] -= 1
                for i in h.scope_dict().values():
                    delta[i] += 1
                old.household = h
                old.set_scope_from(h)
            for k, v in changed.items():
                setattr(old, k, v)
            updates.append(old)
            after = {k: masked(k, v) for k, v in changed.items()} | ({"household": h.pk} if moved else {})
            e = AuditEntry(at=now, actor=None if actor is None or isinstance(actor, str) else actor,
                           actor_name=audit.actor_name(actor), action="resident.update", object_type="resident",
                           object_id=str(old.pk), object_repr=old.audit_repr(), before=audit._plain(before),
                           after=audit._plain(after), reason=f"import {report.file} line {line}")
            e.set_scope_from(old)
            audits.append(e)
        if creates:
            Resident.objects.bulk_create(creates, batch_size=1000)
            report.created += len(creates)
        if updates:
            Resident.objects.bulk_update(updates, list(RESIDENT_FIELDS) + ["household"] + [f"{lv}" for lv in LEVELS],
                                         batch_size=500)
            report.updated += len(updates)
        if creates or updates:
            stamps.bump("residents")  # bulk writes send no signals
        if audits:
            AuditEntry.objects.bulk_create(audits, batch_size=500)
        _apply_population(delta)
        if creates or updates or new_hh:
            # the chunk's own audit row, committed with its rows: an import stopped later still accounts for them
            audit.record("resident.import_rows", actor=actor, object_type="import", object_id=report.sha256[:16],
                         object_repr=report.file, reason=f"import {report.file} lines {rows[0][0]}-{rows[-1][0]}",
                         after={"file": report.file, "sha256": report.sha256, "lines": [rows[0][0], rows[-1][0]],
                                "created": report.created - created0, "updated": report.updated - updated0,
                                "households_created": report.households_created - hh0,
                                "created_ids": [r.pk for r in creates if r.pk is not None]})


def _checked(rec: dict) -> dict:
    """A row's resident fields, validated and normalised (ActionError on the first problem)."""
    data = {k: rec[k] for k in RESIDENT_FIELDS if k in rec and (rec[k] != "" or k in REQUIRED)}
    for req in REQUIRED:
        if not rec.get(req):
            raise ActionError(gettext("required"), field=req)
    return check_resident(data)


def _remember(rec: dict, line: int, seen: dict[str, int]) -> None:
    """A line an interrupted run imported: its ID number noted as a straight run would have (a later line with
    the same number is still reported as a repeat)."""
    try:
        seen.setdefault(_checked(rec)["id_number"], line)
    except ActionError:
        pass


def _default(key: str):
    return {"phone": "", "treatment": "", "pregnant_due": None, "lives_alone": False, "disability": False,
            "chronic_illness": False}.get(key)


def _apply_population(delta: dict[int, int]) -> None:
    from django.db.models import F

    by_delta: dict[int, list[int]] = defaultdict(list)
    for area_id, d in delta.items():
        if area_id and d:
            by_delta[d].append(area_id)
    for d, area_ids in by_delta.items():
        Area.objects.filter(pk__in=area_ids).update(population=F("population") + d)
