"""API batches of registrations or results: rows as dicts, checked field by field and written in one
transaction on the caller's connection; the same batch key again changes nothing."""
from __future__ import annotations

import csv
import io
import time

from django.db import transaction
from django.utils.translation import gettext

from cordon.core.actions import ActionError

from ..models import Round
from .batches import Outcome, _commit_chunk, _finish, _open_batch, _Prep
from .parse import RESULT_COLUMNS, SAMPLE_COLUMNS, _slow_rows
from .results import _ResultWriter
from .samples import _SampleWriter


def import_rows(kind: str, key: str, rows: list[dict], *, round: Round | None, actor) -> Outcome:
    """An API batch: ``rows`` are dicts with the canonical column names; line = position + 1 (1-based).
    The whole batch is one transaction; the same key again changes nothing."""
    key = (key or "").strip()
    if not key or len(key) > 80:
        raise ActionError(gettext("a batch key of 1 to 80 characters is required"), field="batch_key")
    cols = list(SAMPLE_COLUMNS if kind == "samples" else RESULT_COLUMNS)
    t0 = time.perf_counter()
    b, done = _open_batch(kind, key, rnd=round, source="api", size=len(rows), actor=actor)
    if done:
        return Outcome(b, already=True)
    errors: list = []
    items = []
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="")
    for i, r in enumerate(rows, start=1):
        buf.seek(0)
        buf.truncate()
        w.writerow([str(r.get(c, "") or "") for c in cols])
        items.append((i, buf.getvalue()))
    good = _slow_rows(kind, items, list(range(len(cols))), errors)
    colsv = [list(c) for c in zip(*good)] if good else [[], [], [], [], []]
    writer = _SampleWriter(round, b, actor) if kind == "samples" else _ResultWriter(b)
    p = writer.prepare(colsv, errors)
    if kind == "samples":
        prep = writer._slow_prep(p) if p[0] is not None else _Prep()
    else:
        ok = len(p[0]) if p and p[0] is not None else 0
        prep = _Prep(ok=ok, slow=p if ok else None)
    with transaction.atomic():
        _commit_chunk(b, 0, len(rows), len(rows), prep.ok, prep.dup, errors,
                      (lambda: writer.write(prep)) if prep.ok else (lambda: None))
        _finish(b, actor, time.perf_counter() - t0)
    return Outcome(b, seconds=time.perf_counter() - t0)
