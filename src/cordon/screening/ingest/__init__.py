"""Bulk ingestion of sample registrations and tube results (CSV files and API batches).

The parts: ``parse`` (columns, field-by-field checks, city times, chunks of a file), ``scan`` (the
vectorised byte scanner of canonical chunks), ``index`` (the resident index), ``batches`` (batches, chunk
commits, error report, progress), ``db`` (database helpers), ``pipeline`` (running a file: inline, or on
threads), ``samples`` and ``results`` (the two writers and their entry points), ``rows`` (API batches).

One pipeline for the CLI (``cordon import samples|results FILE``), the API and the demo:

- **Streaming.** The file is read in chunks of ``CHUNK_BYTES`` cut at a line end; memory does not grow with
  the file. Quoted fields are understood, but a quoted field may not contain a line break.
- **Validation per row.** A row that is not kept is stored as a ``RowError`` (line, field, reason); the error
  report CSV is written from those rows (``write_error_report``). Well-formed rows are recognised by one
  regular expression over the whole chunk (C speed); the others go through a field-by-field check that
  names the field and the reason.
- **Idempotent by batch.** A file's batch key is its sha256; an API batch brings its own key. A finished
  batch imported again changes nothing.
- **Crash-safe.** Each chunk is written in one transaction that also moves the batch's byte offset and line
  (compare-and-set on the offset, so two processes never write the same chunk). A killed import, rerun with
  the same file, continues at the offset: every row ends up stored exactly once. On PostgreSQL a chunk's
  commit does not wait for the WAL flush (a server crash can lose the last chunks, with their offset); the
  batch's finishing commit waits, so a finished import is on disk.
- **No per-row queries.** ID numbers are resolved against an in-memory index of the residents (sorted
  17-digit keys as uint64; ~25 bytes per resident), built from the database by a streaming read and kept
  per process and on disk for the next process (``ResidentIndex``: trusted while the residents' change
  stamp, id range and the index's token stand still; the bulk load of a city builds it), so a chunk is
  resolved with one vectorised ``searchsorted``. People already registered in the round are a bitmap over
  resident ids, read from the round's ``Registered`` blocks when an import starts.
- **Threads.** Outside a caller's transaction (the CLI, the demo, the benchmark) a file of several chunks is
  written by a second thread on its own connection while the next chunks are read and checked
  (``_Pipeline``), the chunk-only checks of a registrations file running ahead on ``SCAN_THREADS`` more
  (``_scanned_ahead``; numpy lets go of the interpreter lock; one on two cores, so that the database
  server's backend keeps a core); inside a caller's transaction (tests, API
  batches) everything runs on the caller's connection.
- **Bulk writes.** Registrations are stored per tube (``Sample``: a run of lines with the same barcode, site
  and time becomes one row listing its people): binary ``COPY`` assembled for the whole chunk in a few
  vectorised passes on PostgreSQL, ``executemany`` on SQLite. With each chunk, in the same transaction: its
  people set in the round's ``Registered`` bitmaps (blocks locked, so two imports into one round never both
  register a person) and its rows counted per unit and day in ``SampleTally`` (coverage reads those). After
  a large import the planner's statistics are refreshed (PostgreSQL).
  Results (``_ResultWriter``): the first report of a tube wins, the rest are duplicates. A canonical chunk
  is checked in vectorised passes (``_Scan``); its tubes are checked in memory against the chunk and the
  batch's earlier chunks, and against the table by one read of the chunk's barcode range (or a probe by
  its barcodes); only new tubes are written, straight into the table: binary ``COPY`` assembled in a few
  vectorised passes on PostgreSQL, ``executemany`` on SQLite. A unique violation (another import stored a
  tube meanwhile) undoes that write in a savepoint and writes the chunk again through a staging table with
  ``INSERT ... ON CONFLICT DO NOTHING RETURNING line``.
"""
from __future__ import annotations

from .batches import SimulatedCrash, write_error_report
from .db import id_in
from .index import ResidentIndex
from .parse import ImportFileError, _header, _utf8
from .pipeline import _Pipeline
from .results import _ResultWriter, import_results
from .rows import import_rows
from .samples import _SampleWriter, import_samples

# what other modules import, and the parts the tests reach through the package
__all__ = ["ImportFileError", "ResidentIndex", "SimulatedCrash", "id_in", "import_results", "import_rows",
           "import_samples", "write_error_report", "_Pipeline", "_ResultWriter", "_SampleWriter", "_header", "_utf8"]
