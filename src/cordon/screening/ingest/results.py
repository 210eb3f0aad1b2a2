"""Tube results (``_ResultWriter``): the first report of a tube wins. A canonical chunk is checked in
vectorised passes (``scan._Scan``); its tubes are checked in memory against the chunk and the batch's earlier
chunks, and against the table by one read of the chunk's barcode range (or a probe by its barcodes); only new
tubes are written, straight into the table: binary ``COPY`` assembled by numpy on PostgreSQL,
``executemany`` on SQLite. A unique violation (another import stored a tube meanwhile) undoes that write in a
savepoint and writes the chunk again through a staging table with ``ON CONFLICT DO NOTHING``."""
from __future__ import annotations

from dataclasses import dataclass
from itertools import repeat

import numpy as np
from django.db import IntegrityError, connection, transaction
from django.db.models import F

from ..models import BatchKind, ImportBatch, Round, RoundStatus, RowError, Sample, TubeResult
from . import parse
from .batches import Outcome, _Prep
from .db import _COPY_END, _COPY_HEAD, _be, _pg_micros, _runs, _SqlitePragmas, id_in
from .parse import _columns, _parse_text, _slow_rows, _Times
from .pipeline import import_file
from .scan import _Scan, _time_numbers


@dataclass
class _Tubes:
    """A chunk's results for tubes new to the table, ready to write (``_ResultWriter``)."""

    lines: np.ndarray              # line of each row (duplicates found when written are reported by line)
    barcodes: np.ndarray           # the rows' barcodes (sorted, S32): claimed by the batch for later chunks
    copy: bytes = b""              # PostgreSQL: binary COPY data (``_ResultWriter.COLUMNS``)
    flat: list = None              # SQLite: barcode, result, lab, UTC time, line of each row, one list

    def rows(self, batch_id: int):
        f = self.flat
        return zip(f[0::5], f[1::5], f[2::5], f[3::5], repeat(batch_id), f[4::5])


_WORDS = [np.frombuffer(w, dtype=np.uint64)[0] for w in (b"negative", b"positive", b"invalid,")]


class _ResultWriter:
    """Checks and writes tube results for one batch. The first report of a tube wins: a chunk's rows are
    checked in memory against the chunk itself and the batch's earlier chunks, and against the table (one
    read of the chunk's barcode range, or a probe by the chunk's barcodes); only tubes new to the table are
    written, straight into it (binary ``COPY`` on PostgreSQL, ``executemany`` on SQLite). Should another
    import store one of them meanwhile (unique violation), the chunk is written again, in a savepoint,
    through a staging table with ``ON CONFLICT DO NOTHING`` (what it keeps decides the duplicates)."""

    DUPLICATE = "tube already has a result (first report kept)"
    CLOSED = "tube of a closed round: the round takes no more results (reopen it first)"
    COLUMNS = "barcode, result, lab, reported_at, batch_id, line"
    ROWS_PER_INSERT = 200  # SQLite (1000 parameters a statement)

    def __init__(self, batch: ImportBatch):
        self.batch = batch
        self.pg = connection.vendor == "postgresql"
        self.times = _Times()
        self._pragmas = _SqlitePragmas()
        self.claimed: list[np.ndarray] = []   # sorted barcodes (S32) written by this run's earlier chunks
        self._shut: np.ndarray | None = None  # sorted barcodes (S32) of closed rounds' tubes without a result
        self._bytewise = None

    def begin(self):
        connection.ensure_connection()  # the writer thread connects while the first chunk is checked
        self._pragmas.begin()

    def end(self):
        self._pragmas.end()

    # ------------------------------------------------------------------------------------- reading thread
    def prepare_chunk(self, buf: bytes, line0: int, order, canonical: bool, errors: list) -> _Prep:
        """A chunk of the file -> _Prep (``fast``: the new tubes as ``_Tubes``). Canonical layout and valid
        UTF-8: vectorised, the other lines field by field; else all field by field."""
        fast = None
        if canonical and buf and parse._utf8(buf):
            fast, slow_items = self._scan(buf, line0, errors)
            rows = self.prepare(_columns(_slow_rows("results", slow_items, order, errors)), errors)[0]
        else:
            cols = _parse_text("results", buf.decode("utf-8", errors="replace"), line0, order, canonical, errors)
            rows = self.prepare(cols, errors)[0]
        return self._select(fast, rows or [], errors)

    def prepare(self, cols, errors: list):
        """Field-by-field rows (columns) -> ([(line, barcode, result, lab, converted time)], 0)."""
        lines, bc, res, lab, t = cols
        if not lines:
            return None, 0
        ts = [self.times(x) for x in t]
        shut = self.closed_tubes(np.array([b.encode("utf-8") for b in bc], dtype="S32"))
        rows = []
        for ln, b_, r_, l_, t_, raw, closed in zip(lines, bc, res, lab, ts, t, shut.tolist()):
            if t_ is None:
                errors.append((ln, "reported_at", self.times.why.get(raw, "invalid time")))
            elif closed:
                errors.append((ln, "barcode", self.CLOSED))
            else:
                rows.append((ln, b_, r_, l_, t_))
        return rows, 0

    def closed_tubes(self, barcodes: np.ndarray) -> np.ndarray:
        """Which of ``barcodes`` (S32) are tubes of a closed round still without a result: a closed round takes
        no more results. The tubes are read once per import (none to read while no round is closed)."""
        if self._shut is None:
            closed = sorted(Round.objects.filter(status=RoundStatus.CLOSED).values_list("pk", flat=True))
            found: list[str] = []
            if closed:
                smp, res = Sample._meta.db_table, TubeResult._meta.db_table
                cond, param = id_in("s.round_id", closed)
                with connection.cursor() as c:
                    c.execute(f"SELECT DISTINCT s.barcode FROM {smp} s WHERE {cond} AND NOT EXISTS "
                              f"(SELECT 1 FROM {res} t WHERE t.barcode = s.barcode)", [param])
                    found = [r[0] for r in c.fetchall()]
            self._shut = np.array(sorted(b.encode("utf-8") for b in found), dtype="S32")
        if not len(self._shut) or not len(barcodes):
            return np.zeros(len(barcodes), dtype=bool)
        return np.isin(barcodes, self._shut)

    def _scan(self, buf: bytes, line0: int, errors: list):
        """Vectorised check of a canonical chunk -> ((scan, line indices, lines, barcodes, time of each row
        as an index into the converted times, converted times), other lines as (line, text)). A line is
        taken here when it has ``RESULT_ROW``'s fast form and a real time; any other goes field by field."""
        sc = _Scan(buf)
        st, en, c1, c2, c3 = sc.starts, sc.ends, sc.c1, sc.c2, sc.c3
        ok, g = sc.barcode(st, c1 - st, sc.ok)
        w = np.ascontiguousarray(sc.gather(c1 + 1, 8)).view(np.uint64).ravel()  # "invalid" with its comma
        ok &= (((w == _WORDS[0]) | (w == _WORDS[1])) & (c2 - c1 == 9)) | (w == _WORDS[2])
        ok = sc.short_text(c2 + 1, c3, ok)
        tok, tkeys = sc.check_time(c3 + 1, en)
        ok &= tok
        fast = np.flatnonzero(ok)
        slow = np.flatnonzero(~ok & ~sc.blank)
        slow_items = [(line0 + int(i), t) for i in slow.tolist() if (t := sc.text(i)).strip()]
        # times: converted once per distinct value (a file has few distinct minutes); 'T' or ' ', seconds
        # or not, the same value converts the same
        tk = tkeys[fast]
        _, first, inv = np.unique(_time_numbers(tk), return_index=True, return_inverse=True)
        inv = inv.ravel()
        tvals = [self.times(tk[i].decode("ascii")) for i in first.tolist()]
        good = np.array([v is not None for v in tvals], dtype=bool)
        if len(fast) and not good.all():
            bad = ~good[inv]
            for i in np.flatnonzero(bad).tolist():
                t = tk[i].decode("ascii")
                self.times(t)
                errors.append((line0 + int(fast[i]), "reported_at", self.times.why.get(t, "invalid time")))
            fast, inv = fast[~bad], inv[~bad]
        bcs = np.ascontiguousarray(g[fast]).view(f"S{g.shape[1]}").ravel().astype("S32")
        return (sc, fast, line0 + fast, bcs, inv, tvals), slow_items

    def _select(self, fast, rows: list, errors: list) -> _Prep:
        """Keep the first report of each tube new to the table -> _Prep; the others are duplicates."""
        nf = len(fast[1]) if fast is not None else 0
        if not nf and not rows:
            return _Prep()
        lines = fast[2] if nf else np.zeros(0, dtype=np.int64)
        bcs = fast[3] if nf else np.zeros(0, dtype="S32")
        if rows:  # the field-by-field rows join in, in line order
            lines = np.concatenate([lines, np.array([r[0] for r in rows], dtype=np.int64)])
            bcs = np.concatenate([bcs, np.array([r[1].encode("ascii") for r in rows], dtype="S32")])
            order = np.argsort(lines, kind="stable")
            uniq, first, inv = np.unique(bcs[order], return_index=True, return_inverse=True)
            first = order[first]
            inv = inv.ravel()[np.argsort(order)]
        else:
            uniq, first, inv = np.unique(bcs, return_index=True, return_inverse=True)
            inv = inv.ravel()
        known = self._claimed(uniq)
        if not known.all():
            known[~known] = self._stored(uniq[~known])
        dup = known[inv]
        later = np.ones(len(lines), dtype=bool)
        later[first] = False
        dup |= later
        ndup = int(dup.sum())
        if ndup:
            errors.extend((ln, "barcode", self.DUPLICATE) for ln in lines[dup].tolist())
        shut = self.closed_tubes(uniq) & ~known   # (field-by-field rows were checked by ``prepare``)
        closed = shut[inv] & ~dup
        if closed.any():
            errors.extend((ln, "barcode", self.CLOSED) for ln in lines[closed].tolist())
        keep = ~dup & ~closed
        n = int(keep.sum())
        if not n:
            return _Prep(dup=ndup)
        tubes = _Tubes(lines=lines[keep], barcodes=uniq[~known & ~shut])
        slow = [r for r, k in zip(rows, keep[nf:].tolist()) if k]
        kf = keep[:nf]
        sc, idx, flines, tinv, tvals = (fast[0], fast[1][kf], fast[2][kf], fast[4][kf], fast[5]) if nf else \
            (None, np.zeros(0, dtype=np.int64), None, None, [])
        if self.pg:
            tubes.copy = b"".join([_COPY_HEAD, self._copy_binary(sc, idx, flines, tinv, tvals),
                                   *(self._binary_row(*r) for r in slow), _COPY_END])
        else:
            flat = [None] * (5 * n)
            k = len(idx)
            if k:
                f = sc.runs(idx).decode("utf-8").replace("\n", ",").split(",")
                flat[0:5 * k:5], flat[1:5 * k:5], flat[2:5 * k:5] = f[0:4 * k:4], f[1:4 * k:4], f[2:4 * k:4]
                flat[3:5 * k:5] = np.array(tvals, dtype=object)[tinv].tolist()
                flat[4:5 * k:5] = flines.tolist()
            for i, (ln, bc, res, lab, ts) in enumerate(slow, start=k):
                flat[5 * i:5 * i + 5] = bc, res, lab, ts, ln
            tubes.flat = flat
        return _Prep(ok=n, dup=ndup, fast=tubes)

    def _copy_binary(self, sc, idx: np.ndarray, lines: np.ndarray, tinv, tvals: list) -> bytes:
        """Binary COPY rows of the vectorised lines, built in a few vectorised passes: the barcode, result
        and lab bytes go from the chunk to their places, with the lengths, time, batch and line around
        them."""
        n = len(idx)
        if not n:
            return b""
        st, c1, c2, c3 = sc.starts[idx], sc.c1[idx], sc.c2[idx], sc.c3[idx]
        bl, rl, ll = c1 - st, c2 - c1 - 1, c3 - c2 - 1
        size = 42 + bl + rl + ll  # 6 fields: count, 6 lengths, the three texts, 8 + 4 + 4 bytes of numbers
        o = np.zeros(n, dtype=np.int64)
        np.cumsum(size[:-1], out=o[1:])
        out = np.empty(int(o[-1] + size[-1]), dtype=np.uint8)
        # the three texts of each line (the chunk's bytes but the commas and what lies between the lines)...
        cnt = np.empty((n, 6), dtype=np.int64)
        cnt[:, 0], cnt[:, 1], cnt[:, 2], cnt[:, 3], cnt[:, 4] = bl, 1, rl, 1, ll
        cnt[:-1, 5] = st[1:] - c3[:-1]
        cnt[-1, 5] = sc.n - c3[-1]
        src = _runs((1, 0, 1, 0, 1, 0), cnt)
        # ...go to their places in the rows: after 6 bytes, 4 and 4, with 28 to follow
        cnt = np.empty((n, 7), dtype=np.int64)
        cnt[:, 0], cnt[:, 1], cnt[:, 2], cnt[:, 3], cnt[:, 4], cnt[:, 5], cnt[:, 6] = 6, bl, 4, rl, 4, ll, 28
        dst = _runs((0, 1, 0, 1, 0, 1, 0), cnt)
        out[dst] = sc.a[st[0]:][src]
        # the rest of each row, in row order: field count and barcode length, result length, lab length,
        # then the time, batch and line with their lengths
        micros = np.array([_pg_micros(v) if v is not None else 0 for v in tvals], dtype=np.int64)
        fixed = np.empty((n, 42), dtype=np.uint8)
        fixed[:, 0:2] = (0, 6)
        fixed[:, 2:6] = _be(bl, 4)
        fixed[:, 6:10] = _be(rl, 4)
        fixed[:, 10:14] = _be(ll, 4)
        fixed[:, 14:18] = (0, 0, 0, 8)
        fixed[:, 18:26] = _be(micros[tinv], 8)
        fixed[:, 26:30] = (0, 0, 0, 4)
        fixed[:, 30:34] = np.frombuffer(int(self.batch.pk).to_bytes(4, "big", signed=True), dtype=np.uint8)
        fixed[:, 34:38] = (0, 0, 0, 4)
        fixed[:, 38:42] = _be(lines, 4)
        out[~dst] = fixed.ravel()
        return out.tobytes()

    def _binary_row(self, ln: int, bc: str, res: str, lab: str, ts: str) -> bytes:
        """One binary COPY row (``COLUMNS``) of a field-by-field row."""
        b, r, la = bc.encode("utf-8"), res.encode("utf-8"), lab.encode("utf-8")
        return b"".join((b"\x00\x06", len(b).to_bytes(4, "big"), b, len(r).to_bytes(4, "big"), r,
                         len(la).to_bytes(4, "big"), la, b"\x00\x00\x00\x08",
                         _pg_micros(ts).to_bytes(8, "big", signed=True), b"\x00\x00\x00\x04",
                         int(self.batch.pk).to_bytes(4, "big", signed=True), b"\x00\x00\x00\x04",
                         int(ln).to_bytes(4, "big", signed=True)))

    def _claimed(self, uniq: np.ndarray) -> np.ndarray:
        """Which of the sorted barcodes this run's earlier chunks hold."""
        hit = np.zeros(len(uniq), dtype=bool)
        for part in self.claimed:
            i = np.searchsorted(part, uniq).clip(0, len(part) - 1)
            hit |= part[i] == uniq
        return hit

    def _stored(self, uniq: np.ndarray) -> np.ndarray:
        """Which of the sorted barcodes already have a result in the table (committed by any import). A
        file's barcodes come mostly in order, so the rows in the chunk's barcode range are few and read at
        once (when the column sorts as bytes); otherwise the table is probed with the barcodes themselves."""
        if not len(uniq):
            return np.zeros(0, dtype=bool)
        table = TubeResult._meta.db_table
        have = None
        with connection.cursor() as c:
            if self._ordered(c):
                limit = 2 * len(uniq) + 1000
                c.execute(f"SELECT barcode FROM {table} WHERE barcode >= %s AND barcode <= %s LIMIT %s",
                          [uniq[0].decode("ascii"), uniq[-1].decode("ascii"), limit])
                got = c.fetchall()
                if len(got) < limit:
                    have = [r[0] for r in got]
            if have is None:
                have, values = [], [u.decode("ascii") for u in uniq.tolist()]
                for i in range(0, len(values), 100_000):
                    cond, param = id_in("barcode", values[i:i + 100_000])
                    c.execute(f"SELECT barcode FROM {table} WHERE {cond}", [param])
                    have += [r[0] for r in c.fetchall()]
        if not have:
            return np.zeros(len(uniq), dtype=bool)
        return np.isin(uniq, np.array([h.encode("utf-8") for h in have]))

    def _ordered(self, c) -> bool:
        """Does the barcode column sort barcodes ([A-Za-z0-9-]) as bytes (so a byte-order range of them is a
        range of the index)? SQLite: yes (BINARY). PostgreSQL: asked once (C-like collations do). A wrong
        answer costs speed, not correctness: a tube missed here fails the chunk's COPY, written again."""
        if self._bytewise is None:
            if not self.pg:
                self._bytewise = True
            else:
                sample = ["-", "-0", "0", "0-", "09", "0A", "0a", "9", "A", "A-", "AA", "Aa", "B", "Z", "a", "a-",
                          "aB", "ab", "b", "z"]
                c.execute("SELECT array_agg(x ORDER BY x) FROM unnest(%s::varchar[]) AS x", [sample])
                self._bytewise = list(c.fetchone()[0]) == sorted(sample)
        return self._bytewise

    def claim(self, prep: _Prep) -> None:
        """The chunk's new tubes count as reported for the chunks after it. The claimed barcodes are kept
        as a few sorted arrays of growing size (a part is merged into the one before it once that one is no
        longer twice its size): a chunk is looked up in a handful of arrays, and no array is sorted again."""
        if prep.fast is None or not len(prep.fast.barcodes):
            return
        parts = self.claimed
        parts.append(prep.fast.barcodes)
        while len(parts) > 1 and len(parts[-2]) <= 2 * len(parts[-1]):
            new = parts.pop()  # disjoint from the others: only barcodes no part held were claimed
            parts[-1] = np.insert(parts[-1], np.searchsorted(parts[-1], new), new)

    # ------------------------------------------------------------------------------------- writing
    def write(self, prep: _Prep) -> None:
        """Write a chunk's new tubes (inside the chunk's transaction); API batches: ``prep.slow``."""
        if prep.fast is not None:
            db = connection.Database
            # another import's tubes: stored since the chunk was checked (unique violation), or being stored
            # in another order (a deadlock, this side chosen to give way)
            clash = (IntegrityError, db.IntegrityError) + ((db.errors.DeadlockDetected,) if self.pg else ())
            try:
                with transaction.atomic():  # a savepoint: a clash undoes only this
                    self._insert(prep.fast)
            except clash:
                self._insert_on_conflict(prep.fast)
        if prep.slow and prep.slow[0]:
            self._insert_on_conflict(self._tubes_of(prep.slow[0]))

    def _tubes_of(self, rows: list) -> _Tubes:
        """API batches: field-by-field rows as they are (duplicates are left to ``_insert_on_conflict``)."""
        t = _Tubes(lines=np.array([r[0] for r in rows], dtype=np.int64), barcodes=np.zeros(0, dtype="S32"))
        if self.pg:
            t.copy = b"".join([_COPY_HEAD, *(self._binary_row(*r) for r in rows), _COPY_END])
        else:
            t.flat = [x for ln, bc, res, lab, ts in rows for x in (bc, res, lab, ts, ln)]
        return t

    def _insert(self, t: _Tubes) -> None:
        table = TubeResult._meta.db_table
        if self.pg:
            sql = f"COPY {table} ({self.COLUMNS}) FROM STDIN (FORMAT binary)"
            with connection.cursor() as c, c.cursor.copy(sql) as cp:
                cp.write(t.copy)
            return
        # SQLite: many rows a statement (the statements, not the rows, cost most)
        connection.ensure_connection()
        raw, flat, k = connection.connection, t.flat, self.ROWS_PER_INSERT
        n = len(flat) // 5
        head = f"INSERT INTO {table} (barcode, result, lab, reported_at, line, batch_id) VALUES "
        one = f"(?,?,?,?,?,{int(self.batch.pk)})"
        m = n // k * k
        if m:
            raw.executemany(head + ",".join([one] * k), (flat[i:i + 5 * k] for i in range(0, 5 * m, 5 * k)))
        if m < n:
            raw.execute(head + ",".join([one] * (n - m)), flat[5 * m:])

    def _insert_on_conflict(self, t: _Tubes) -> None:
        """Write through a staging table, keeping what does not conflict (the first line of a tube within
        ``t``); the rest become duplicates of the batch."""
        table = TubeResult._meta.db_table
        stage = "screening_stage_tube"
        with connection.cursor() as c:
            if self.pg:
                c.execute(f"CREATE TEMP TABLE IF NOT EXISTS {stage} (barcode text, result text, lab text, "
                          f"reported_at timestamptz, batch_id int, line int) ON COMMIT DELETE ROWS")
                c.execute(f"TRUNCATE {stage}")
                with c.cursor.copy(f"COPY {stage} ({self.COLUMNS}) FROM STDIN (FORMAT binary)") as cp:
                    cp.write(t.copy)
            else:
                c.execute(f"CREATE TEMP TABLE IF NOT EXISTS {stage} (barcode text, result text, lab text, "
                          f"reported_at text, batch_id int, line int)")
                c.execute(f"DELETE FROM {stage}")
                connection.connection.executemany(f"INSERT INTO {stage} ({self.COLUMNS}) VALUES (?,?,?,?,?,?)",
                                                  t.rows(self.batch.pk))
            c.execute(f"INSERT INTO {table} ({self.COLUMNS}) SELECT {self.COLUMNS} FROM {stage} WHERE true "
                      f"ORDER BY barcode, line ON CONFLICT (barcode) DO NOTHING RETURNING line")
            kept = {r[0] for r in c.fetchall()}
        dups = [ln for ln in t.lines.tolist() if ln not in kept]
        if dups:
            RowError.objects.bulk_create([RowError(batch_id=self.batch.pk, line=ln, field="barcode",
                                                   reason=self.DUPLICATE) for ln in dups], batch_size=2000)
            ImportBatch.objects.filter(pk=self.batch.pk).update(
                rows_ok=F("rows_ok") - len(dups), rows_bad=F("rows_bad") + len(dups),
                rows_duplicate=F("rows_duplicate") + len(dups))
            self.batch.rows_ok -= len(dups)
            self.batch.rows_bad += len(dups)
            self.batch.rows_duplicate += len(dups)


RESULT_CHUNK_BYTES = 4 << 20


def import_results(path, *, actor=None, progress: bool = False, chunk_bytes: int = RESULT_CHUNK_BYTES,
                   stop_after: int | None = None, encoding: str | None = None) -> Outcome:
    """Import a lab's results CSV (tubes of any round; registrations may come later)."""
    return import_file(path, BatchKind.RESULTS, _ResultWriter, rnd=None, actor=actor, progress=progress,
                       chunk_bytes=chunk_bytes, stop_after=stop_after, encoding=encoding)
