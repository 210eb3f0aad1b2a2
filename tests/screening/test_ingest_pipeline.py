"""``screening.ingest.pipeline`` on threads (SQLite and PostgreSQL): a file written by the writer thread while
scan threads check the next chunks stores exactly what the one-thread path stores (tubes, errors, tally,
counts); a failure on the writer thread or on a scan thread stops the import with its error, promptly, every
thread ended, and leaves only whole committed chunks, from which a rerun finishes the file."""
from __future__ import annotations

import shutil
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection, connections, transaction
from django.db.models import Sum

from cordon.citygen import City
from cordon.citygen.screening import write_round
from cordon.places.bulk import load_city
from cordon.screening import actions
from cordon.screening.ingest import ResidentIndex, _SampleWriter, import_results, import_samples
from cordon.screening.ingest import pipeline
from cordon.screening.ingest.pipeline import SCAN_THREADS, _scanned_ahead
from cordon.screening.models import BatchStatus, ImportBatch, RowError, Sample, SampleTally, TubeResult

POP = 800
CHUNK = 4096  # a few dozen chunks


@pytest.fixture
def threaded(monkeypatch):
    """Files of three chunks or more go through the threads on SQLite too (the test database lives in memory,
    shared between the threads' connections), and the imports that ran on them are counted."""
    used = {"n": 0}
    real = pipeline._Pipeline.__init__

    def counting(self, *a, **kw):
        used["n"] += 1
        real(self, *a, **kw)

    monkeypatch.setattr(pipeline._Pipeline, "__init__", counting)
    monkeypatch.setattr(pipeline, "_pipelined", lambda remaining, chunk_bytes:
                        not connection.in_atomic_block and remaining >= pipeline.PIPELINE_CHUNKS * chunk_bytes)
    ResidentIndex._cache.clear()
    yield used
    ResidentIndex._cache.clear()


@pytest.fixture
def made(tmp_path):
    load_city(POP, seed=4, progress=False)
    city = City(POP, seed=4)
    f = write_round(city, tmp_path / "files", positive_rate=0.02, duplicate_rate=0.02, malformed_rate=0.02,
                    late_rate=0.0, missing_rate=0.02, seed=6)
    return city, f


def _round(city, name):
    return actions.do_create_round(name=name, on=city.today, coverage="city", actor="test")


def _copy(path, tmp_path, name):
    """The same rows under another batch key (one blank line more at the end)."""
    out = tmp_path / name
    shutil.copyfile(path, out)
    with open(out, "ab") as fh:
        fh.write(b"\n")
    return out


def _stored(b: ImportBatch) -> dict:
    """What a batch stored, independent of where its chunks were cut: each person's tube, the errors, the
    tally per unit and day, the counts."""
    b.refresh_from_db()
    people = sorted((p, t.barcode, t.site, t.sampled_at) for t in Sample.objects.filter(batch_id=b.pk)
                    for p in t.people)
    tally = SampleTally.objects.filter(round_id=b.round_id).values_list("unit_id", "day").annotate(s=Sum("n"))
    return {"counts": (b.rows_ok, b.rows_bad, b.rows_duplicate), "people": people,
            "errors": sorted(RowError.objects.filter(batch=b).values_list("line", "field", "reason")),
            "tally": sorted(tally)}


def _whole(b: ImportBatch, path) -> None:
    """Only whole committed chunks: the offset is at a line end, and the rows, tally and errors agree."""
    b.refresh_from_db()
    assert b.status == BatchStatus.RUNNING and 0 < b.offset < path.stat().st_size
    assert path.read_bytes()[b.offset - 1:b.offset] == b"\n"
    people = sum(len(t.people) for t in Sample.objects.filter(batch_id=b.pk))
    assert people == b.rows_ok > 0
    assert (SampleTally.objects.filter(round_id=b.round_id).aggregate(n=Sum("n"))["n"] or 0) == b.rows_ok
    assert RowError.objects.filter(batch=b).count() == b.rows_bad


def _promptly(fn, seconds=60):
    """``fn()`` on another thread, which must end within ``seconds`` (an import that hangs fails the test)."""
    def run():
        try:
            return fn()
        finally:
            connections.close_all()

    with ThreadPoolExecutor(1) as pool:
        fut = pool.submit(run)
        return fut.result(timeout=seconds)


def _no_import_threads():
    return not [t for t in threading.enumerate() if t.name.startswith("cordon-import")]


def _single(path, rnd, **kw):
    """The one-thread path: inside a transaction everything runs on the caller's connection."""
    with transaction.atomic():
        return import_samples(path, round=rnd, actor="test", chunk_bytes=CHUNK, **kw).batch


@pytest.mark.django_db(transaction=True)
def test_registrations_on_threads_store_what_one_thread_stores(made, threaded, tmp_path):
    city, f = made
    a = _promptly(lambda: import_samples(f.samples, round=_round(city, "A"), actor="test", chunk_bytes=CHUNK).batch)
    assert threaded["n"] == 1 and _no_import_threads()
    b = _single(_copy(f.samples, tmp_path, "same.csv"), _round(city, "B"))
    assert threaded["n"] == 1
    got, want = _stored(a), _stored(b)
    assert got == want
    assert got["counts"] == (f.sample_good, f.sample_duplicates + f.sample_malformed, got["counts"][2])
    assert got["counts"][2] > 0 and len(got["people"]) == f.sample_good
    assert Sample.objects.filter(batch_id=a.pk).count() == Sample.objects.filter(batch_id=b.pk).count() > 50


@pytest.mark.django_db(transaction=True)
def test_failure_on_the_writer_thread_stops_the_import_cleanly(made, threaded, tmp_path, monkeypatch):
    city, f = made
    rnd = _round(city, "A")
    real = _SampleWriter.write
    calls = {"n": 0}

    def failing(self, prep):
        calls["n"] += 1
        if calls["n"] == 4:
            raise RuntimeError("disk full (test)")
        return real(self, prep)

    monkeypatch.setattr(_SampleWriter, "write", failing)
    with pytest.raises(RuntimeError, match="disk full"):
        _promptly(lambda: import_samples(f.samples, round=rnd, actor="test", chunk_bytes=CHUNK))
    assert _no_import_threads()
    b = ImportBatch.objects.get(kind="samples", round=rnd)
    _whole(b, f.samples)
    monkeypatch.setattr(_SampleWriter, "write", real)
    _promptly(lambda: import_samples(f.samples, round=rnd, actor="test", chunk_bytes=CHUNK))
    b.refresh_from_db()
    assert b.status == BatchStatus.DONE
    assert _stored(b) == _stored(_single(_copy(f.samples, tmp_path, "same.csv"), _round(city, "B")))


@pytest.mark.django_db(transaction=True)
def test_failure_on_a_scan_thread_stops_the_import_cleanly(made, threaded, tmp_path, monkeypatch):
    city, f = made
    rnd = _round(city, "A")
    real = _SampleWriter.scan_chunk
    calls = {"n": 0}
    lock = threading.Lock()

    def failing(self, buf, line0, order):
        with lock:
            calls["n"] += 1
            n = calls["n"]
        if n == 6:
            raise ValueError("unreadable chunk (test)")
        return real(self, buf, line0, order)

    monkeypatch.setattr(_SampleWriter, "scan_chunk", failing)
    with pytest.raises(ValueError, match="unreadable chunk"):
        _promptly(lambda: import_samples(f.samples, round=rnd, actor="test", chunk_bytes=CHUNK))
    assert _no_import_threads() and threaded["n"] == 1
    b = ImportBatch.objects.get(kind="samples", round=rnd)
    _whole(b, f.samples)
    monkeypatch.setattr(_SampleWriter, "scan_chunk", real)
    _promptly(lambda: import_samples(f.samples, round=rnd, actor="test", chunk_bytes=CHUNK))
    assert _stored(b) == _stored(_single(_copy(f.samples, tmp_path, "same.csv"), _round(city, "B")))


@pytest.mark.django_db(transaction=True)
def test_results_on_threads_store_what_one_thread_stores(made, threaded, tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip("results are checked against the table on the reading thread while the writer thread "
                    "writes: two connections to SQLite's shared in-memory test database lock each other's tables")
    city, f = made
    a = _promptly(lambda: import_results(f.results, actor="test", chunk_bytes=512).batch)
    assert threaded["n"] == 1
    got = sorted(TubeResult.objects.filter(batch_id=a.pk).values_list("barcode", "result", "lab", "reported_at",
                                                                       "line"))
    errors = sorted(RowError.objects.filter(batch=a).values_list("line", "field", "reason"))
    TubeResult.objects.all().delete()
    with transaction.atomic():
        b = import_results(_copy(f.results, tmp_path, "same.csv"), actor="test", chunk_bytes=512).batch
    assert threaded["n"] == 1
    assert got == sorted(TubeResult.objects.filter(batch_id=b.pk).values_list("barcode", "result", "lab",
                                                                              "reported_at", "line"))
    assert errors == sorted(RowError.objects.filter(batch=b).values_list("line", "field", "reason"))
    assert (a.rows_ok, a.rows_bad) == (b.rows_ok, b.rows_bad) == (f.tubes_with_result, len(errors))


class _Slow:
    """A writer whose scans finish out of order (later chunks first)."""

    def __init__(self, fail_at=None):
        self.fail_at, self.running, self.most = fail_at, 0, 0
        self.lock = threading.Lock()

    def scan_chunk(self, buf, line0, order):
        import time

        with self.lock:
            self.running += 1
            self.most = max(self.most, self.running)
        try:
            if buf == self.fail_at:
                raise KeyError(buf)
            time.sleep(0.02 if int(buf.split(b",")[0]) % 2 == 0 else 0.001)
            return (line0, buf)
        finally:
            with self.lock:
                self.running -= 1


def test_scans_run_ahead_but_come_back_in_file_order():
    chunks = [(i * 10, i * 10 + 10, b"%d,x\n%d,y\n" % (i, i)) for i in range(12)]
    w = _Slow()
    got = list(_scanned_ahead(w, iter(chunks), 1, [0, 1]))
    assert [(s, e) for s, e, _ in got] == [(s, e) for s, e, _ in chunks]
    assert [x[1] for _, _, x in got] == [(2 + 2 * i, chunks[i][2]) for i in range(12)]
    assert [x[0] for _, _, x in got] == [2] * 12
    assert 1 <= w.most <= SCAN_THREADS
    w = _Slow(fail_at=chunks[5][2])
    out = []
    with pytest.raises(KeyError):
        for item in _scanned_ahead(w, iter(chunks), 1, [0, 1]):
            out.append(item)
    assert len(out) == 5 and _no_import_threads()
