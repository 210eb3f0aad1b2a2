"""Running an import file: the whole-file checks before a batch is opened, then its chunks read, checked and
committed in order. Outside a caller's transaction a file of several chunks is written by a writer thread on
its own connection while the next chunks are read and checked (``_Pipeline``), the chunk-only checks of a
registrations file running ahead on ``SCAN_THREADS`` more (``_scanned_ahead``; numpy lets go of the
interpreter lock); inside a caller's transaction (tests, API batches) everything runs on the caller's
connection (``_Inline``). An error on any thread stops the import; what was committed stays, and a rerun
continues at the batch's offset."""
from __future__ import annotations

import os
import queue
import shutil
import threading
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from django.db import connection, connections

from cordon import tabular


from ..models import ImportBatch

from . import parse
from .batches import Outcome, Progress, SimulatedCrash, _commit_chunk, _finish, _open_batch, _Prep
from .db import _analyze_after
from .parse import ImportFileError, _read_chunks


def _checked_file(path: Path, kind: str, encoding: str | None) -> tuple[tabular.Encoding, Path]:
    """What can refuse a file as a whole, checked before its batch is opened (a refused file leaves nothing):
    type, encoding (over every byte, ``tabular``), header. Returns the encoding (with the sha256, from
    the same read) and the file to read: ``path`` itself when it is UTF-8, else a UTF-8 copy (the byte-level
    reading stays as it is; GB18030 and UTF-16 files are stored as their text, never as replacement marks)."""
    if not path.is_file():
        raise ImportFileError("no such file", path=path)
    if path.suffix.lower() not in (".csv", ".txt"):
        raise ImportFileError("use a CSV file (UTF-8, GB18030/GBK or UTF-16)", path=path)
    enc = tabular.detect(path, encoding, digest=True, error=ImportFileError, nul_everywhere=False)
    src = path if enc.utf8 else tabular.transcode_to_utf8(path, enc)
    try:
        with open(src, "rb") as fh:
            head = fh.readline()
        try:
            parse._header(head.decode("utf-8").rstrip("\r\n"), kind)
        except ImportFileError as exc:
            raise ImportFileError(exc.reason, path=path, line=1) from None
    except BaseException:
        if src != path:
            shutil.rmtree(src.parent, ignore_errors=True)
        raise
    return enc, src


def import_file(path, kind: str, make_writer, *, rnd, actor, progress: bool, chunk_bytes: int,
                stop_after: int | None, encoding: str | None) -> Outcome:
    """Import a CSV file of ``kind`` (registrations into ``rnd``, or results) with the writer that
    ``make_writer(batch)`` makes: checked as a whole, its batch opened (a finished batch changes nothing), its
    chunks committed (``_run_file``)."""
    path = Path(path)
    t0 = time.perf_counter()
    enc, src = _checked_file(path, kind, encoding)
    try:
        b, done = _open_batch(kind, enc.sha256, rnd=rnd, source=path.name, size=path.stat().st_size, actor=actor)
        if done:
            return Outcome(b, already=True)
        return _run_file(src, kind, b, make_writer(b), actor, progress, chunk_bytes, stop_after, t0)
    finally:
        if src != path:
            shutil.rmtree(src.parent, ignore_errors=True)


def _run_file(path: Path, kind: str, b: ImportBatch, writer, actor, progress, chunk_bytes, stop_after, t0):
    with open(path, "rb") as fh:
        head = fh.readline()
    if b"\x00" in head:
        raise ImportFileError(f"{path.name}: binary data, not a CSV text file")
    order, canonical = parse._header(head.decode("utf-8", errors="replace").rstrip("\r\n"), kind)
    offset, lines_done = (b.offset, b.line) if b.offset else (len(head), 1)
    bar = Progress(b.size, f"{kind} {path.name}", enabled=progress)
    chunks = 0
    pipelined = _pipelined(b.size - offset, chunk_bytes)
    sink = (_Pipeline if pipelined else _Inline)(b, writer)
    chunks_in = _read_chunks(path, offset, chunk_bytes)
    # registrations in the canonical layout: the chunk-only part of preparing (checks, ID numbers, times) runs
    # ahead on other threads (numpy lets go of the interpreter lock), the rest here in file order
    ahead = _scanned_ahead(writer, chunks_in, lines_done, order) if (
        canonical and pipelined and hasattr(writer, "scan_chunk")) else None
    try:
        for start, end, buf in (ahead or chunks_in):
            errors: list = []
            if ahead is not None:
                nlines, x = buf
                prep = writer.finish_chunk(x, errors)
            else:
                nlines = buf.count(b"\n") + (0 if buf.endswith(b"\n") else 1)
                prep = writer.prepare_chunk(buf, lines_done + 1, order, canonical, errors)
            # the chunk's people count as registered for the chunks after it (if its commit fails, the
            # import stops and a rerun reads what was committed)
            writer.claim(prep)
            sink.put(start, end, lines_done + nlines, prep, errors)
            lines_done += nlines
            chunks += 1
            bar.show(end, b.rows_ok, b.rows_bad)
            if stop_after is not None and chunks >= stop_after:
                sink.close()
                raise SimulatedCrash(f"stopped after {chunks} chunks (test)")
        sink.close()
    finally:
        if ahead is not None:
            ahead.close()
        sink.abort()
    _analyze_after(kind, b.rows_ok)
    seconds = time.perf_counter() - t0
    _finish(b, actor, seconds)
    bar.show(b.size, b.rows_ok, b.rows_bad, final=True)
    return Outcome(b, seconds=seconds)


def _cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


#: Threads scanning the next chunks of a registrations file (``_scanned_ahead``): one fewer than the cores
#: this process may use, one or two. The reading thread, the writer thread and the database server's backend
#: (which a city round waits on most) need the other cores: on two cores, a second scan thread only takes
#: time from the server's COPY (measured: bench/README.md, screening).
SCAN_THREADS = max(1, min(2, _cpus() - 1))


def _scanned_ahead(writer, chunks, lines_done: int, order):
    """(start, end, (lines, scanned chunk)) per chunk, in order, the scans (``writer.scan_chunk``) running on
    ``SCAN_THREADS`` threads at most that many chunks ahead."""
    with ThreadPoolExecutor(SCAN_THREADS, thread_name_prefix="cordon-import-scan") as pool:
        todo: deque = deque()
        try:
            for start, end, buf in chunks:
                nlines = buf.count(b"\n") + (0 if buf.endswith(b"\n") else 1)
                todo.append((start, end, nlines, pool.submit(writer.scan_chunk, buf, lines_done + 1, order)))
                lines_done += nlines
                if len(todo) > SCAN_THREADS:
                    start, end, nlines, fut = todo.popleft()
                    yield start, end, (nlines, fut.result())
            while todo:
                start, end, nlines, fut = todo.popleft()
                yield start, end, (nlines, fut.result())
        finally:
            for *_, fut in todo:
                fut.cancel()


#: Files (what is left of them) of at least this many chunks are written by a second thread (PostgreSQL).
PIPELINE_CHUNKS = 3


def _pipelined(remaining: int, chunk_bytes: int) -> bool:
    """Write on a second connection while the next chunk is read and checked: PostgreSQL (the server
    writes on its own core), not inside a caller's transaction (a second connection would not see it)."""
    if connection.in_atomic_block or remaining < PIPELINE_CHUNKS * chunk_bytes:
        return False
    return connection.vendor == "postgresql" or (connection.vendor == "sqlite" and not connection.is_in_memory_db())


def _commit_prepared(b: ImportBatch, writer, start, end, lines_done, prep: _Prep, errors) -> None:
    _commit_chunk(b, start, end, lines_done, prep.ok, prep.dup, errors,
                  (lambda: writer.write(prep)) if prep.ok else (lambda: None))


class _Inline:
    """Each prepared chunk is committed at once, on this thread's connection."""

    def __init__(self, b: ImportBatch, writer):
        self.b, self.writer = b, writer
        writer.begin()

    def put(self, *item) -> None:
        _commit_prepared(self.b, self.writer, *item)

    def close(self) -> None:
        pass

    def abort(self) -> None:
        self.writer.end()


class _Pipeline:
    """Prepared chunks are committed in order by a writer thread on its own connection, while the reading
    thread checks the next chunk (numpy and the database server work meanwhile; at most one chunk waits).
    Each chunk is still one transaction that moves the batch's offset, so a crash loses nothing and a
    rerun continues where the committed chunks end. An error in the writer stops the import."""

    def __init__(self, b: ImportBatch, writer):
        self.b, self.writer = b, writer
        self.q: "queue.Queue" = queue.Queue(maxsize=1)
        self._full = queue.Full
        self.error: BaseException | None = None
        self.stop = False
        self.thread = threading.Thread(target=self._run, name="cordon-import-writer", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            self.writer.begin()
            try:
                while not self.stop:
                    item = self.q.get()
                    if item is None or self.stop:
                        break
                    _commit_prepared(self.b, self.writer, *item)
            finally:
                self.writer.end()
        except BaseException as e:  # handed to the reading thread
            self.error = e
        finally:
            connections.close_all()

    def _check(self) -> None:
        if self.error is not None:
            raise self.error
        if not self.thread.is_alive():
            raise RuntimeError("the import's writer thread stopped")

    def put(self, *item) -> None:
        self._put(item)

    def _put(self, item) -> None:
        while True:
            self._check()
            try:
                self.q.put(item, timeout=0.2)
                return
            except self._full:
                continue

    def close(self) -> None:
        """Wait until every chunk handed over is committed (raises the writer's error)."""
        if self.thread.is_alive():
            self._put(None)
        self.thread.join()
        if self.error is not None:
            raise self.error

    def abort(self) -> None:
        if self.thread.is_alive():
            self.stop = True
            try:
                self.q.put_nowait(None)
            except self._full:
                pass
            self.thread.join()
