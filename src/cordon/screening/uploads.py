"""Registrations and results uploaded from the browser (``core.uploads``): the importers of ``cordon import
samples|results FILE`` (``screening.ingest``). They are crash-safe already: the batch (keyed by the file's
sha256) keeps its byte offset, committed with each chunk, so a run taken over after a crash goes on from it and
every row counts once; the page's progress reads that offset."""
from __future__ import annotations

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from cordon.core import access, uploads
from cordon.core.actions import ActionError

from .ingest import import_results, import_samples, write_error_report
from .models import ImportBatch, Round, RoundStatus
from .queries import access_round


def _fields(user) -> dict:
    rounds = Round.objects.for_user(user).filter(status=RoundStatus.OPEN).order_by("-on", "-id")[:100]
    return {"round": forms.TypedChoiceField(
        label=_("Round (registrations)"), required=False, coerce=int, empty_value=None,
        choices=[("", "---------")] + [(r.pk, f"{r.on} {r.name}") for r in rounds])}


def _check_samples(user, data: dict) -> dict:
    if not data.get("round"):
        raise ActionError(gettext("choose the round the registrations belong to"), field="round")
    try:
        r = access_round(user, data["round"], write=True)
    except (access.NotFound, access.Forbidden):
        raise ActionError(gettext("no such round in your jurisdiction"), field="round") from None
    if r.status != RoundStatus.OPEN:
        raise ActionError(gettext("the round is closed"), field="round")
    return {"round": r.pk}


def _outcome(u, out) -> dict:
    b = out.batch
    if b.rows_bad:
        write_error_report(b, uploads.report_path(u))
    uploads.checkpoint(u, measure="bytes", total=b.size, done=b.size)
    return {"rows": b.rows_ok + b.rows_bad, "kept": b.rows_ok, "duplicates": b.rows_duplicate, "bad": b.rows_bad,
            "batch": b.pk, "already": out.already}


def _run_samples(u, path, actor) -> dict:
    rnd = Round.objects.get(pk=u.options["round"])
    uploads.checkpoint(u, measure="bytes", total=u.size)
    return _outcome(u, import_samples(path, round=rnd, actor=actor, progress=False))


def _run_results(u, path, actor) -> dict:
    uploads.checkpoint(u, measure="bytes", total=u.size)
    return _outcome(u, import_results(path, actor=actor, progress=False))


def _progress(u):
    b = ImportBatch.objects.filter(kind=u.kind, key=u.sha256).values_list("offset", "size").first()
    return (b[0], b[1]) if b else None


def register() -> None:
    uploads.register(uploads.Kind(
        name="samples", label=_("Screening registrations"), capability=access.SCREENING_WRITE, run=_run_samples,
        order=20, options=("round",), form_fields=_fields, check_options=_check_samples, progress=_progress,
        help=_("CSV: one row per person sampled, into an open round (the same file as cordon import samples).")))
    uploads.register(uploads.Kind(
        name="results", label=_("Screening results"), capability=access.SCREENING_WRITE, run=_run_results,
        order=30, progress=_progress,
        help=_("CSV: one row per tube (the same file as cordon import results).")))
