"""Residents uploaded from the browser (``core.uploads``): the importer of ``cordon import residents FILE``,
with a checkpoint committed with each chunk (the last line, the counts, the error report's length), so a run
taken over after a crash goes on after the last committed chunk and every row counts once."""
from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from cordon.core import access, uploads
from cordon.places.importer import COLUMNS, REQUIRED, ImportReport, import_residents

_COUNTS = ("rows", "created", "updated", "unchanged", "households_created")


def _run(u, path, actor) -> dict:
    cp = dict(u.checkpoint or {})
    errors = uploads.ErrorReport(u)
    errors.keep(cp.get("report_bytes", 0))
    report = ImportReport(file=u.name, sha256=u.sha256, errors_before=cp.get("bad", 0),
                          **{k: cp.get(k, 0) for k in _COUNTS})
    if not u.total and path.suffix.lower() != ".xlsx":
        uploads.checkpoint(u, measure="rows", total=uploads.count_lines(path))
    written = [0]

    def checkpoint(rep, last_line):
        size = errors.add(rep.errors[written[0]:])
        written[0] = len(rep.errors)
        uploads.checkpoint(u, measure="rows", done=rep.rows, checkpoint={
            "line": last_line, "bad": rep.bad, "report_bytes": size, **{k: getattr(rep, k) for k in _COUNTS}})

    import_residents(path, actor=actor, report=report, after_line=cp.get("line", 0), checkpoint=checkpoint,
                     progress=lambda rep: uploads.paused(), name=u.name)
    if u.total < report.rows:
        uploads.checkpoint(u, total=report.rows)
    return {**{k: getattr(report, k) for k in _COUNTS}, "bad": report.bad}


def register() -> None:
    uploads.register(uploads.Kind(
        name="residents", label=_("Residents"), capability=access.PLACES_WRITE, run=_run, order=10,
        help=_("CSV or XLSX; one row per resident; a resident already stored (same ID number) is updated."),
        columns=tuple(COLUMNS[c][0] for c in REQUIRED)))
