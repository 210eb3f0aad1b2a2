"""Files in from the browser: the kinds of file a user may upload, where an upload is kept, and the task that
imports it (``core.tasks.run_upload``, on the queue ``cordon worker`` runs).

Each kind is owned by the app that imports it and registered in its ``AppConfig.ready`` (``register``): residents
(places), registrations and results (screening), aggregate counts (situation). A kind's ``run`` calls the same
importer as ``cordon import KIND FILE`` and goes on from the importer's own checkpoints when a run is taken
over after a crash (screening: the batch's byte offset; residents: the upload's checkpoint, committed with each
chunk), so every row counts once. A kind's ``run`` returns the counts; it writes the rows it did not keep to the
upload's report (``report_path``: CSV, line, field, reason).
"""
from __future__ import annotations

import csv
import hashlib
import os
import traceback
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from cordon.core import access, audit
from cordon.core.errors import ActionError
from cordon.core.models import Upload, UploadStatus

#: A test hook for killed workers: "SECONDS" makes an upload print a line and sleep after its first checkpoint.
PAUSE_ENV = "CORDON_UPLOAD_TEST_PAUSE"


@dataclass
class Kind:
    """A kind of file: its name (``cordon import``'s), its label, the capability the CLI import and the API
    write need for it, and ``run(upload, path, actor) -> counts``. ``options`` names what the form asks besides
    the file ("round", "series"); ``check_options(user, data) -> dict`` checks them (ActionError on the field).
    ``progress(upload) -> (done, total) | None`` reads a run's progress where the importer keeps it."""

    name: str
    label: object
    capability: str
    run: object
    help: object = ""
    options: tuple = ()
    check_options: object = None
    progress: object = None
    form_fields: object = None  # form_fields(user) -> {option: django form field}
    order: int = 0
    columns: tuple = field(default_factory=tuple)


KINDS: dict[str, Kind] = {}


def register(kind: Kind) -> None:
    KINDS[kind.name] = kind


def kinds() -> list[Kind]:
    return sorted(KINDS.values(), key=lambda k: (k.order, k.name))


def kinds_for(user) -> list[Kind]:
    """The kinds the user may upload (holds the kind's capability somewhere)."""
    return [k for k in kinds() if access.has_perm(user, k.capability)]


def visible_to(user):
    """The uploads the user may see: of a kind whose capability they hold, within that capability's scope."""
    q = Q(pk__in=[])
    for cap in {k.capability for k in KINDS.values()}:
        scope = access.scope_for(user, cap)
        if scope.nothing:
            continue
        q |= Q(kind__in=[k.name for k in KINDS.values() if k.capability == cap]) & scope.q()
    return Upload.objects.filter(q)


def home() -> Path:
    return Path(settings.HOME) / "uploads"


def report_path(upload) -> Path:
    """The upload's error report, next to the stored file."""
    return Path(upload.path).parent / "errors.csv"


def store(uploaded, dest: Path) -> tuple[str, int]:
    """Keep an uploaded file (Django's ``UploadedFile``) at ``dest``; returns (sha256, size). A temporary file
    the upload handler hashed as it arrived (``web.uploads.LimitedUploadHandler``, on the same disk) is moved
    into place; anything else is written chunk by chunk and hashed on the way."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    sha256 = getattr(uploaded, "sha256", None)
    if sha256 and hasattr(uploaded, "temporary_file_path"):
        uploaded.file.flush()
        try:
            os.replace(uploaded.temporary_file_path(), dest)
            return sha256, dest.stat().st_size
        except OSError:  # another disk: copied below
            pass
    h, size = hashlib.sha256(), 0
    with open(dest, "wb") as out:
        for chunk in uploaded.chunks(1 << 20):
            h.update(chunk)
            size += len(chunk)
            out.write(chunk)
    return h.hexdigest(), size


def scope_area(user, cap: str):
    """Where an upload of ``user`` under ``cap`` belongs: None for a city-wide grant, else the area of their
    first grant that carries the capability."""
    grants = [g for g in access.grants_of(user) if access.role_has(g.role, cap)]
    if not grants or any(g.area_id is None for g in grants):
        return None
    return sorted(grants, key=lambda g: g.pk)[0].area


def progress(upload) -> tuple[int, int]:
    """(done, total) of an upload: what its importer has committed so far."""
    kind = KINDS.get(upload.kind)
    if upload.status == UploadStatus.RUNNING and kind is not None and kind.progress is not None:
        got = kind.progress(upload)
        if got is not None:
            return got
    return upload.done, upload.total


# ------------------------------------------------------------------------------------------ the task

def _summary(u) -> dict:
    return {"upload": u.pk, "status": u.status, "counts": u.counts, "errors": u.errors}


def run(upload_id: int) -> dict:
    """Import the upload (``core.tasks.run_upload``), or go on with a run a stopped worker left unfinished."""
    from cordon.core import queue

    u = Upload.objects.filter(pk=upload_id).first()
    if u is None or u.status in (UploadStatus.DONE, UploadStatus.FAILED):
        return {"upload": upload_id, "status": u.status if u else "gone"}
    kind = KINDS.get(u.kind)
    Upload.objects.filter(pk=u.pk).update(status=UploadStatus.RUNNING, started=u.started or timezone.now())
    u.refresh_from_db()
    actor = u.user if u.user is not None and u.user.is_active else f"upload {u.pk}"
    try:
        if kind is None:
            raise ActionError(f"no importer for {u.kind!r}", field="kind")
        counts = kind.run(u, Path(u.path), actor)
    except queue.LeaseLost:
        raise  # taken over: the worker that holds the task now finishes it
    except (ActionError, ValueError, OSError) as exc:  # the importers' file errors are ValueErrors
        return _finish(u, UploadStatus.FAILED, message=(str(exc) or type(exc).__name__).replace(u.path, u.name))
    except Exception as exc:
        _finish(u, UploadStatus.FAILED, message="".join(traceback.format_exception_only(exc)).strip())
        raise
    return _finish(u, UploadStatus.DONE, counts=counts)


@transaction.atomic
def _finish(u, status: str, *, counts: dict | None = None, message: str = "") -> dict:
    u.refresh_from_db()
    report = report_path(u)
    errors = int((counts or {}).get("bad", 0))
    Upload.objects.filter(pk=u.pk).update(
        status=status, counts=counts or u.counts, errors=errors, message=message[:4000],
        report=str(report) if errors and report.exists() else "", finished=timezone.now(),
        done=u.total if status == UploadStatus.DONE else u.done)
    u.refresh_from_db()
    audit.record("upload.done" if status == UploadStatus.DONE else "upload.fail", actor=u.user or "worker",
                 obj=u, after={"kind": u.kind, "file": u.name, "sha256": u.sha256, "counts": u.counts,
                               "errors": u.errors, "message": message[:500]}, scope=u)
    return _summary(u)


# ------------------------------------------------------------------------------------------ helpers for kinds

def checkpoint(u, **fields) -> None:
    """Move an upload's progress (inside the importer's transaction for a chunk, so it commits with it), only
    while this worker holds the task (``queue.check_held``: a run taken over commits nothing more)."""
    from cordon.core import queue

    queue.check_held()
    Upload.objects.filter(pk=u.pk).update(**fields)
    for k, v in fields.items():
        setattr(u, k, v)


def paused() -> None:
    """The test hook (``PAUSE_ENV``): sleep once, after the first checkpoint."""
    seconds = os.environ.get(PAUSE_ENV)
    if seconds and not getattr(paused, "done", False):
        import time

        paused.done = True
        print("cordon worker: pausing upload", flush=True)
        time.sleep(float(seconds))


class ErrorReport:
    """The upload's (line, field, reason) CSV, appended chunk by chunk: ``keep(n_bytes)`` first cuts it back to
    what the last checkpoint recorded (rows a killed run wrote after it are written again)."""

    def __init__(self, u):
        self.path = report_path(u)
        self.path.parent.mkdir(parents=True, exist_ok=True)

    def keep(self, size: int) -> None:
        if not self.path.exists() or size == 0:
            with open(self.path, "w", newline="", encoding="utf-8-sig") as fh:
                csv.writer(fh).writerow(["line", "field", "reason"])
        else:
            os.truncate(self.path, size)

    def add(self, errors) -> int:
        """Append (line, field, reason) rows, on disk before the chunk commits; returns the file's size."""
        with open(self.path, "a", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            for e in errors:
                w.writerow([e.line, e.field, e.reason])
            fh.flush()
            os.fsync(fh.fileno())
        return self.path.stat().st_size


def count_lines(path: Path) -> int:
    """Data lines of a text file (its line ends, less the header), read in blocks."""
    n = 0
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            n += block.count(b"\n")
    return max(0, n - 1)
