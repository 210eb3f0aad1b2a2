"""Aggregate daily counts uploaded from the browser (``core.uploads``): ``cordon import counts FILE --name
SERIES`` (``do_import_counts``, one transaction: a run taken over after a crash imports the file again, and a
re-import changes only days that differ, so every row counts once). A city series: the command's to load."""
from __future__ import annotations

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from cordon.core import access, uploads
from cordon.core.actions import ActionError

from .actions import do_import_counts


def _fields(user) -> dict:
    return {"series": forms.CharField(label=_("Series name (aggregate counts)"), required=False, max_length=60)}


def _check(user, data: dict) -> dict:
    series = (data.get("series") or "").strip()
    if not series:
        raise ActionError(gettext("give the series a name (e.g. shanghai-2022)"), field="series")
    return {"series": series}


def _run(u, path, actor) -> dict:
    rep = do_import_counts(path, series=u.options["series"], actor=actor)
    if rep.errors:
        rep.write_errors(uploads.report_path(u))
    uploads.checkpoint(u, measure="rows", total=rep.rows, done=rep.rows)
    return {"rows": rep.rows, "created": rep.created, "updated": rep.updated, "unchanged": rep.unchanged,
            "bad": len(rep.errors), "series": u.options["series"]}


def register() -> None:
    uploads.register(uploads.Kind(
        name="counts", label=_("Aggregate daily counts"), capability=access.COMMAND, run=_run, order=40,
        options=("series",), form_fields=_fields, check_options=_check,
        help=_("CSV of daily counts (the columns of the Shanghai 2022 file) into a named series.")))
