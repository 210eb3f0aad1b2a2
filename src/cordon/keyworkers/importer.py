"""Key workers registered in bulk from a CSV or XLSX file (``cordon import keyworkers FILE``, the "Files in"
page): one row per worker, the resident by ID number; a bad row is reported (line, field, reason) and the good
ones are registered, each through ``do_register_key_worker``."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

from cordon.core.actions import ActionError
from cordon.keyworkers.actions import do_register_key_worker
from cordon.keyworkers.models import Employer
from cordon.places.importer import ImportFileError, ImportReport, RowError, iter_records
from cordon.places.models import Area, Resident

COLUMNS = {
    "id_number": ("id_number", "身份证号", "身份证号码"),
    "group": ("group", "人群", "类别"),
    "employer": ("employer", "单位", "工作单位"),
    "workplace": ("workplace", "工作地点"),
    "registered_on": ("registered_on", "登记日期"),
}
REQUIRED = ("id_number", "group", "employer")

__all__ = ["COLUMNS", "REQUIRED", "ImportFileError", "ImportReport", "import_key_workers"]


def report_for(path: Path) -> ImportReport:
    """The residents' import report (rows, created, errors by line, field and reason; ``write_errors``)."""
    return ImportReport(file=path.name)


def _row(rec: dict, actor) -> dict:
    """A row's records looked up -> do_register_key_worker's arguments; ActionError(field) on the first fault
    (a resident outside a user's jurisdiction is not told apart from none)."""
    from cordon.core import access

    people = Resident.objects.all() if actor is None or isinstance(actor, str) else \
        Resident.objects.for_user(actor, access.KEYWORKERS_WRITE)
    person = people.filter(id_number=rec["id_number"].upper()).first()
    if person is None:
        raise ActionError("no resident with this ID number", field="id_number")
    employer = Employer.objects.filter(name=rec["employer"]).first()
    if employer is None:
        raise ActionError("no such employer", field="employer")
    workplace = None
    if rec.get("workplace"):
        workplace = Area.objects.filter(path=rec["workplace"].strip("/")).first()
        if workplace is None:
            raise ActionError("no such area", field="workplace")
    on = None
    if rec.get("registered_on"):
        try:
            on = dt.date.fromisoformat(rec["registered_on"])
        except ValueError:
            raise ActionError("not a date (YYYY-MM-DD)", field="registered_on") from None
    return {"person": person, "group": rec["group"], "employer": employer, "workplace": workplace,
            "registered_on": on}


def import_key_workers(path, *, actor=None) -> ImportReport:
    """Register every good row (each in its own transaction); the file as a whole is refused first
    (ImportFileError) when it cannot be read or lacks a required column."""
    from cordon.core import access

    path = Path(path)
    report = report_for(path)
    for line, rec in iter_records(path, COLUMNS, REQUIRED):
        report.rows += 1
        try:
            do_register_key_worker(**_row(rec, actor), actor=actor, reason=f"file {path.name} line {line}")
        except ActionError as exc:
            report.errors.append(RowError(line, exc.field or "", str(exc)))
        except (access.Forbidden, access.NotFound):
            report.errors.append(RowError(line, "employer", "not allowed for this user (employer or area)"))
        else:
            report.created += 1
    return report
