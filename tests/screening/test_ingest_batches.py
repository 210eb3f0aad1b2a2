"""``screening.ingest.batches``: a batch is opened once per key and finished with one audit row; a chunk's
commit moves the batch's offset only from where this import left it (another process that moved it stops
this one, nothing of the chunk written); the error report lists the bad rows in line order."""
from __future__ import annotations

import csv

import pytest

from cordon.core.actions import ActionError
from cordon.core.models import AuditEntry
from cordon.screening.ingest.batches import _commit_chunk, _finish, _open_batch, write_error_report
from cordon.screening.models import BatchKind, BatchStatus, ImportBatch, RowError

pytestmark = pytest.mark.django_db


def _open():
    return _open_batch(BatchKind.RESULTS, "k" * 64, rnd=None, source="lab.csv", size=100, actor="test")


def test_a_batch_is_opened_once_and_finished_once():
    b, done = _open()
    assert not done and b.status == BatchStatus.RUNNING and (b.offset, b.rows_ok) == (0, 0)
    again, done = _open()
    assert again.pk == b.pk and not done
    _finish(b, "test", 1.0)
    _finish(b, "test", 1.0)
    assert ImportBatch.objects.get(pk=b.pk).status == BatchStatus.DONE
    assert AuditEntry.objects.filter(action="screening.import_results", object_id=b.pk).count() == 1
    assert _open()[1] is True


def test_a_chunk_commits_only_from_the_offset_this_import_left():
    b, _ = _open()
    wrote = []
    _commit_chunk(b, 10, 40, 3, 2, 1, [(3, "barcode", "required")], lambda: wrote.append(1))
    assert (b.offset, b.line, b.rows_ok, b.rows_bad, b.rows_duplicate) == (40, 3, 2, 1, 1) and wrote == [1]
    ImportBatch.objects.filter(pk=b.pk).update(offset=70)  # another process went on meanwhile
    with pytest.raises(ActionError) as exc:
        _commit_chunk(b, 40, 70, 6, 3, 0, [(5, "result", "bad")], lambda: wrote.append(2))
    assert exc.value.field == "batch" and wrote == [1] and b.offset == 40
    stored = ImportBatch.objects.get(pk=b.pk)
    assert (stored.offset, stored.rows_ok, stored.rows_bad) == (70, 2, 1)
    assert list(RowError.objects.filter(batch=b).values_list("line", flat=True)) == [3]


def test_error_report_lists_bad_rows_in_line_order(tmp_path):
    b, _ = _open()
    _commit_chunk(b, 0, 50, 9, 5, 0, [(8, "result", "must be negative"), (2, "barcode", "required")], lambda: None)
    out = tmp_path / "errors.csv"
    assert write_error_report(b, out) == 2
    with open(out, encoding="utf-8-sig", newline="") as fh:
        assert list(csv.reader(fh)) == [["line", "field", "reason"], ["2", "barcode", "required"],
                                        ["8", "result", "must be negative"]]
