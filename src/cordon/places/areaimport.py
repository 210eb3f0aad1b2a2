"""The city's own address tree from CSV or XLSX: ``cordon import areas FILE``.

One row per node, columns district, street, community, compound, building, unit (headers in English or
Chinese: 区, 街道, 社区, 小区, 楼栋, 单元 and the usual variants). A row names a path from the district
down; trailing cells may be empty (a community with no compounds yet), inner ones may not. Rows repeat
their ancestors (a unit row names its district, street, ...), and every node on a row's path is created
if missing (``places.actions.do_ensure_areas``: in bulk, each with its ``area.create`` audit row).

Every bad row is reported (line, field, reason) while good rows are kept; re-importing the same file
creates nothing. The file is read by the residents importer's reader (``places.importer.iter_records``:
CSV in UTF-8, GB18030 or UTF-16, or XLSX), through ``_records`` only.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from cordon import tabular
from cordon.core import access, audit
from cordon.core.actions import ActionError
from cordon.core.models import LEVELS
from cordon.places.importer import ImportFileError, ImportReport, RowError, in_batches, iter_records
from cordon.places.models import Area

#: Canonical column -> accepted header spellings (English and Chinese).
COLUMNS = {
    "district": ("district", "区", "区县", "区/县", "区(县)", "区（县）", "县区"),
    "street": ("street", "街道", "街道/乡镇", "乡镇", "乡镇街道", "街道(乡镇)", "街道（乡镇）"),
    "community": ("community", "社区", "社区/村", "村", "居委会", "社区(村)", "社区（村）"),
    "compound": ("compound", "小区", "小区/组", "组", "院落", "小区(组)", "小区（组）"),
    "building": ("building", "楼栋", "楼", "楼号", "楼宇", "楼栋号"),
    "unit": ("unit", "单元", "单元号"),
}
REQUIRED = tuple(COLUMNS)
assert REQUIRED == tuple(LEVELS)
BATCH = 5000
NAME_MAX = Area._meta.get_field("name").max_length
PATH_MAX = Area._meta.get_field("path").max_length


@dataclass
class AreaImportReport(ImportReport):
    """``rows`` read, ``created`` nodes (and by kind), ``unchanged`` rows whose whole path already existed."""

    created_by_kind: dict[str, int] = field(default_factory=lambda: {lv: 0 for lv in LEVELS})


def _records(path: Path):
    """(line, {level: text}) per data row: the one place this importer reads files."""
    return iter_records(path, COLUMNS, REQUIRED)


def check_row(rec: dict) -> tuple[str, ...]:
    """The row's path as names, district first; ActionError(field, reason) for the first problem."""
    names = [str(rec.get(lv) or "").strip() for lv in LEVELS]
    depth = max((i for i, n in enumerate(names) if n), default=-1) + 1
    if depth == 0:
        raise ActionError("required", field="district")
    for i, name in enumerate(names[:depth]):
        level = LEVELS[i]
        if not name:
            raise ActionError(f"required when {LEVELS[depth - 1]} is given", field=level)
        if "/" in name:
            raise ActionError("must not contain /", field=level)
        if len(name) > NAME_MAX:
            raise ActionError(f"must be at most {NAME_MAX} characters, got {len(name)}", field=level)
        if any(ord(c) < 32 or ord(c) == 127 for c in name):
            raise ActionError("must not contain control characters", field=level)
    parts = tuple(names[:depth])
    if len("/".join(parts)) > PATH_MAX:
        raise ActionError(f"the whole path must be at most {PATH_MAX} characters", field=LEVELS[depth - 1])
    return parts


def import_areas(path, *, actor=None, progress=None) -> AreaImportReport:
    """Import the tree in ``path``. ``actor`` None or a text means the system (the CLI run by the operator); a
    user may only add nodes inside their jurisdiction."""
    path = Path(path)
    if not path.is_file():
        raise ImportFileError("no such file", path=path)
    report = AreaImportReport(file=path.name, sha256=tabular.sha256_of(path))
    user = actor if actor is not None and not isinstance(actor, str) else None
    write_scope = access.scope_for(user, access.PLACES_WRITE) if user is not None else None
    reason = f"import {report.file}"

    def checked():
        for line, rec in _records(path):
            report.rows += 1
            try:
                parts = check_row(rec)
            except ActionError as exc:
                report.errors.append(RowError(line, exc.field, str(exc)))
                continue
            yield line, parts

    in_batches(checked(), BATCH, lambda batch: _import_batch(batch, report, actor, write_scope, reason),
               lambda: progress(report) if progress else None)
    report.errors.sort(key=lambda e: e.line)
    audit.record("area.import", actor=actor, object_type="import", object_id=report.sha256[:16],
                 object_repr=report.file,
                 after={"file": report.file, "sha256": report.sha256, "rows": report.rows,
                        "created": report.created, "created_by_kind": report.created_by_kind,
                        "unchanged": report.unchanged, "errors": len(report.errors)})
    if progress:
        progress(report)
    return report


def _import_batch(batch, report: AreaImportReport, actor, write_scope, reason: str) -> None:
    from cordon.places.actions import do_ensure_areas

    prefixes = sorted({"/".join(parts[: d + 1]) for _, parts in batch for d in range(len(parts))})
    existing: dict[str, Area] = {}
    for i in range(0, len(prefixes), 5000):
        existing.update((a.path, a) for a in Area.objects.filter(path__in=prefixes[i: i + 5000]))
    keep = []
    for line, parts in batch:
        paths = ["/".join(parts[: d + 1]) for d in range(len(parts))]
        if paths[-1] in existing:
            report.unchanged += 1
            continue
        if write_scope is not None:
            known = [existing[p] for p in paths if p in existing]
            if not (write_scope.everything if not known else write_scope.contains(known[-1])):
                report.errors.append(RowError(line, LEVELS[len(known)], "outside your jurisdiction"))
                continue
        keep.append(parts)
    if not keep:
        return
    created = do_ensure_areas(keep, actor=actor, reason=reason, write_scope=write_scope)
    report.created += len(created)
    for area in created.values():
        report.created_by_kind[area.kind] += 1
    # rows whose path a row before them in this batch had already created count as unchanged
    report.unchanged += len(keep) - len({p for p in keep if "/".join(p) in created})
