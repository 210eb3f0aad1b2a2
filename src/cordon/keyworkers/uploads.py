"""Key workers uploaded from the browser (``core.uploads``): the importer of ``cordon import keyworkers FILE``.
The rows are registered one by one (a rerun after a crash finds the registered ones as conflicts, reported)."""
from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from cordon.core import access, uploads
from cordon.keyworkers.importer import COLUMNS, REQUIRED, import_key_workers


def _run(u, path, actor) -> dict:
    rep = import_key_workers(path, actor=actor)
    if rep.errors:
        rep.write_errors(uploads.report_path(u))
    uploads.checkpoint(u, measure="rows", total=rep.rows, done=rep.rows)
    return {"rows": rep.rows, "created": rep.created, "bad": len(rep.errors)}


def register() -> None:
    uploads.register(uploads.Kind(
        name="keyworkers", label=_("Key workers"), capability=access.KEYWORKERS_WRITE, run=_run, order=50,
        help=_("CSV or XLSX; one row per key worker: the resident's ID number, the pack group, the employer's "
               "name, optionally the workplace (area path) and the registration day."),
        columns=tuple(COLUMNS[c][0] for c in REQUIRED)))
