"""Registrations (``_SampleWriter``): a chunk's rows checked, resolved against the resident index, deduplicated
against the round's ``Registered`` bitmaps and the chunk itself, and written per tube (a run of lines with one
barcode, site and time becomes one ``Sample`` row listing its people): binary COPY assembled by numpy on
PostgreSQL, ``executemany`` on SQLite. With each chunk, in its transaction: its people set in the round's
bitmaps (the touched blocks locked) and its rows counted per unit and day in ``SampleTally``."""
from __future__ import annotations

import datetime as dt
from itertools import repeat
from types import SimpleNamespace

import numpy as np
from django.db import connection
from django.utils.translation import gettext

from cordon.core import access, clock, ids
from cordon.core.actions import ActionError

from ..models import BLOCK, BatchKind, ImportBatch, Registered, Round, Sample, SampleTally, encode_ids
from . import parse
from .batches import Outcome, _Prep
from .db import _COPY_END, _COPY_HEAD, _be, _pg_micros, _runs, _SqlitePragmas, id_in
from .index import ResidentIndex
from .parse import _parse_text, _slow_rows, _Times
from .pipeline import import_file
from .scan import _DIGIT, _Scan, _time_numbers, _tube_starts

CHUNK_BYTES = 8 << 20  # ~190 k registrations a chunk: the transient arrays of a chunk stay ~100 MB
NO_RESIDENT = "no resident with this ID number in your jurisdiction"


def tally_rows(round_id: int, units: np.ndarray, days: np.ndarray) -> list[tuple]:
    """A chunk's registrations counted per (unit, day): rows (round, unit, day, n) for ``SampleTally``."""
    if not len(units):
        return []
    base = int(days.min())
    key = units.astype(np.int64) * 65536 + (days - base)
    uk, counts = np.unique(key, return_counts=True)
    off = uk % 65536
    day = [dt.date.fromordinal(base + d) for d in range(int(off.max()) + 1)]  # a round spans a few days
    return list(zip(repeat(round_id), (uk // 65536).tolist(), map(day.__getitem__, off.tolist()), counts.tolist()))


def write_tally(rows: list[tuple]) -> None:
    """Add a chunk's counts (``tally_rows``) to ``SampleTally`` (one bulk insert, in the chunk's transaction)."""
    if not rows:
        return
    table = SampleTally._meta.db_table
    with connection.cursor() as c:
        if connection.vendor == "postgresql":
            text = "".join([f"{r}\t{u}\t{d.isoformat()}\t{n}\n" for r, u, d, n in rows])
            with c.cursor.copy(f"COPY {table} (round_id, unit_id, day, n) FROM STDIN") as cp:
                cp.write(text.encode("ascii"))
        else:
            c.executemany(f"INSERT INTO {table} (round_id, unit_id, day, n) VALUES (%s, %s, %s, %s)", rows)


def register_people(round_id: int, people: np.ndarray) -> None:
    """Set ``people`` (resident ids) in the round's ``Registered`` bitmaps: an import chunk's, or one tube's
    (``actions.do_register_tube``). The touched blocks are locked (created first when new), so another import
    into the same round waits; a person it registered after this import started stops this chunk (nothing of
    it is kept) and the import asks for a rerun, which reads the bitmaps again and reports them as
    duplicates."""
    table = Registered._meta.db_table
    people = np.sort(people)
    blocks = np.unique(people // BLOCK)
    empty = bytes(BLOCK // 8)
    cond, param = id_in("block", blocks.tolist())
    with connection.cursor() as c:
        c.executemany(f"INSERT INTO {table} (round_id, block, bits) VALUES (%s, %s, %s) ON CONFLICT DO NOTHING",
                      [(round_id, b, empty) for b in blocks.tolist()])
        lock = " ORDER BY block FOR UPDATE" if connection.vendor == "postgresql" else ""
        c.execute(f"SELECT block, bits FROM {table} WHERE round_id = %s AND {cond}{lock}", [round_id, param])
        have = {b: np.frombuffer(bytes(bits), dtype=np.uint8) for b, bits in c.fetchall()}
        cut = np.searchsorted(people // BLOCK, blocks, side="right")
        rows, lo = [], 0
        for b, hi in zip(blocks.tolist(), cut.tolist()):
            mask = np.zeros(BLOCK, dtype=bool)
            mask[people[lo:hi] - b * BLOCK] = True
            lo = hi
            new = np.packbits(mask, bitorder="little")
            old = have[b]
            if (old & new).any():
                raise ActionError(gettext("people of this file were registered in the round by another import "
                                          "at the same time; run the import again to continue (they will be "
                                          "reported as duplicates)"), field="batch")
            rows.append(((old | new).tobytes(), round_id, b))
        c.executemany(f"UPDATE {table} SET bits = %s WHERE round_id = %s AND block = %s", rows)


class _SampleWriter:
    """Resolves and writes registration rows for one batch of one round."""

    def __init__(self, rnd: Round, batch: ImportBatch, actor):
        self.round, self.batch = rnd, batch
        self.idx = ResidentIndex.get()
        self.pg = connection.vendor == "postgresql"
        day0 = dt.datetime.combine(rnd.on, dt.time(0), tzinfo=clock.tz())
        self.times = _Times(day0 - dt.timedelta(days=1), day0 + dt.timedelta(days=3))
        self.scope = None
        if actor is not None and not isinstance(actor, str):
            sc = access.scope_for(actor, access.SCREENING_WRITE)
            if not sc.everything:
                self.scope = sc
        self.seen = self._load_seen()
        self._pragmas = _SqlitePragmas()

    def begin(self):
        self._pragmas.begin()

    def end(self):
        self._pragmas.end()

    def _load_seen(self) -> np.ndarray:
        """People registered in the round before this import (committed by any import), as a bitmap over
        resident ids, read from the round's ``Registered`` blocks."""
        seen = np.zeros(self.idx.max_rid + 2, dtype=bool)
        with connection.cursor() as c:
            c.execute(f"SELECT block, bits FROM {Registered._meta.db_table} WHERE round_id = %s", [self.round.pk])
            for block, bits in c.fetchall():
                lo = block * BLOCK
                if lo < len(seen):
                    got = np.unpackbits(np.frombuffer(bytes(bits), dtype=np.uint8), bitorder="little").view(bool)
                    seen[lo:lo + BLOCK] |= got[:len(seen) - lo]
        return seen

    def prepare(self, cols, errors: list):
        """Resolve a chunk's columns; returns (kept row positions, resident ids, unit ids, barcodes, sites,
        times, duplicates)."""
        lines, idn, bc, site, t = cols
        n = len(lines)
        if not n:
            return None, 0
        found, rid, unit = self.idx.lookup(np.array(idn, dtype="S18"))
        ts = [self.times(x) for x in t]
        ts_ok = np.fromiter((x is not None for x in ts), dtype=bool, count=n)
        if self.scope is not None:
            # A person living outside the uploader's jurisdiction is answered exactly as a person who is not a
            # resident at all (the same field and reason, no other check first): no existence oracle.
            found = found & ~self._outside(unit)
        keep = found & ts_ok
        if not keep.all():
            for i in np.flatnonzero(~found).tolist():
                why = ids.id_number_error(idn[i])
                errors.append((lines[i], "id_number", why or NO_RESIDENT))
            for i in np.flatnonzero(found & ~ts_ok).tolist():
                errors.append((lines[i], "sampled_at", self.times.why.get(t[i], "invalid time")))
        sel, ndup = self._dedupe(np.flatnonzero(keep), rid, lines, errors)
        return sel, rid, unit, bc, site, ts, ndup

    def _dedupe(self, sel, rid, lines, errors):
        """Drop people registered before in this round, or earlier in this chunk -> (sel, duplicates)."""
        r = rid[sel]
        first = np.zeros(len(sel), dtype=bool)
        _, first_idx = np.unique(r, return_index=True)
        first[first_idx] = True
        dup = self.seen[r] | ~first
        ndup = int(dup.sum())
        if ndup:
            # the line of the first row of each person repeated within the chunk (for the reason)
            again = first & np.isin(r, r[~first])
            first_line = {rr: lines[i] for i, rr in zip(sel[again].tolist(), r[again].tolist())}
            for i, rr, before in zip(sel[dup].tolist(), r[dup].tolist(), self.seen[r[dup]].tolist()):
                reason = ("person already registered in this round" if before
                          else f"duplicate: same person as line {first_line[rr]}")
                errors.append((lines[i], "id_number", reason))
            sel = sel[~dup]
        return sel, ndup

    def _outside(self, unit: np.ndarray) -> np.ndarray:
        """Mask of units outside the uploader's write scope (None: no limit)."""
        a = self.idx.anc[unit]
        inside = np.zeros(len(unit), dtype=bool)
        for li, lv in enumerate(access.LEVELS):  # the columns of ``ResidentIndex.anc``
            s = self.scope.by_level.get(lv)
            if s:
                inside |= np.isin(a[:, li], np.fromiter(s, dtype=np.int64))
        return ~inside

    def prepare_chunk(self, buf: bytes, line0: int, order, canonical: bool, errors: list) -> _Prep:
        """A chunk of the file -> _Prep. Canonical layout and valid UTF-8: vectorised (``scan_chunk`` then
        ``finish_chunk``); else field by field."""
        if canonical:
            return self.finish_chunk(self.scan_chunk(buf, line0, order), errors)
        cols = _parse_text("samples", buf.decode("utf-8", errors="replace"), line0, order, canonical, errors)
        p = self.prepare(cols, errors)
        prep = _Prep() if p[0] is None else self._slow_prep(p)
        prep.tally = self._tally_of(prep)  # all but the database work is done on the reading thread
        return prep

    def _slow_prep(self, p, prep: _Prep | None = None) -> _Prep:
        """Add field-by-field rows (``prepare``'s result) to ``prep``: their tubes, people, units and days."""
        prep = prep or _Prep()
        sel, rid, unit, bc, site, ts, ndup = p
        prep.ok += len(sel)
        prep.dup += ndup
        if not len(sel):
            return prep
        s = sel.tolist()
        people = rid[sel]
        tubes, run, key = [], [], None
        for i, r in zip(s, people.tolist()):
            k = (bc[i], site[i], ts[i])
            if k != key:
                if run:
                    tubes.append((*key, run))
                key, run = k, []
            run.append(r)
        tubes.append((*key, run))
        prep.slow = tubes
        prep.people = np.concatenate([prep.people, people]) if prep.people is not None else people
        days = np.array([self._day(ts[i]) for i in s], dtype=np.int64)
        prep.units = np.concatenate([prep.units, unit[sel]]) if prep.units is not None else unit[sel]
        prep.days = np.concatenate([prep.days, days]) if prep.days is not None else days
        return prep

    def _tally_of(self, prep: _Prep) -> list[tuple]:
        if prep.units is None or not len(prep.units):
            return []
        return tally_rows(self.round.pk, prep.units, prep.days)

    def scan_chunk(self, buf: bytes, line0: int, order):
        """The part of preparing a chunk that depends on nothing but the chunk (checks, ID numbers resolved,
        times): run for the next chunks by other threads while this one is finished (``finish_chunk``)."""
        x = SimpleNamespace(errors=[], line0=line0, order=order, buf=buf, sc=None)
        if not (buf and parse._utf8(buf)):
            return x
        sc = x.sc = _Scan(buf)
        st, en, c1, c2, c3 = sc.starts, sc.ends, sc.c1, sc.c2, sc.c3
        ok = sc.ok & ((c1 - st) == 18)
        idb = sc.gather(st, 18)
        last = idb[:, 17]
        ok &= _DIGIT[idb[:, :17]].all(axis=1) & (_DIGIT[last] | (last == 88) | (last == 120))
        ok, bkey = sc.barcode(c1 + 1, c2 - c1 - 1, ok)  # the barcode's bytes are also the tubes' key below
        slen = c3 - c2 - 1
        ok = sc.short_text(c2 + 1, c3, ok)
        tok, tkeys = sc.check_time(c3 + 1, en)
        ok &= tok
        fast = x.fast = np.flatnonzero(ok)
        slow = np.flatnonzero(~ok & ~sc.blank)
        x.lines = line0 + fast
        x.idb = idb[fast]
        x.found, x.rid, x.unit = self.idx.lookup(np.ascontiguousarray(x.idb).view("S18").ravel())
        x.tkeys = tkeys[fast]
        x.tnum = _time_numbers(x.tkeys)  # distinct times by number (sorting numbers, not strings)
        _, first, x.inv = np.unique(x.tnum, return_index=True, return_inverse=True)
        x.uniq = x.tkeys[first]
        x.tvals = [self.times(u.decode("ascii")) for u in x.uniq.tolist()]
        tgood = np.array([v is not None for v in x.tvals], dtype=bool)
        x.ts_ok = tgood[x.inv] if len(fast) else np.zeros(0, dtype=bool)
        x.bkey = bkey[fast]
        x.slen = slen[fast]
        x.site_key = sc.field(c2[fast] + 1, x.slen, int(x.slen.max()) if len(fast) else 1)
        x.good = None
        if len(slow):
            items = [(line0 + int(i), t) for i in slow.tolist() if (t := sc.text(i)).strip()]
            x.good = _slow_rows("samples", items, order, x.errors)
        return x

    def finish_chunk(self, x, errors: list) -> _Prep:
        """A scanned chunk (``scan_chunk``) -> _Prep: the steps that depend on the chunks before it (people
        already registered), in file order."""
        errors.extend(x.errors)
        if x.sc is None:
            cols = _parse_text("samples", x.buf.decode("utf-8", errors="replace"), x.line0, x.order, True, errors)
            p = self.prepare(cols, errors)
            prep = _Prep() if p[0] is None else self._slow_prep(p)
            prep.tally = self._tally_of(prep)
            return prep
        sc, fast, lines, found, rid, unit = x.sc, x.fast, x.lines, x.found, x.rid, x.unit
        uniq, inv, tvals, ts_ok = x.uniq, x.inv, x.tvals, x.ts_ok
        if self.scope is not None and len(fast):
            found = found & ~self._outside(unit)  # outside the jurisdiction = not a resident (see prepare)
        keep = found & ts_ok
        if not keep.all():
            for i in np.flatnonzero(~found).tolist():
                idn = bytes(x.idb[i]).decode("ascii")
                errors.append((int(lines[i]), "id_number", ids.id_number_error(idn) or NO_RESIDENT))
            for i in np.flatnonzero(found & ~ts_ok).tolist():
                t = uniq[inv[i]].decode("ascii")
                errors.append((int(lines[i]), "sampled_at", self.times.why.get(t, "invalid time")))
        sel, ndup = self._dedupe(np.flatnonzero(keep), rid, lines, errors)
        kl = fast[sel]
        rk, uk = rid[sel], unit[sel]
        # city-time day of each kept row (the file's times are city time): for the tally
        uday = np.array([dt.date.fromisoformat(u[:10].decode("ascii")).toordinal() if v is not None else 0
                         for u, v in zip(uniq.tolist(), tvals)], dtype=np.int64)
        prep = _Prep(ok=len(sel), dup=ndup, people=rk, units=uk,
                     days=uday[inv[sel]] if len(sel) else np.zeros(0, dtype=np.int64))
        if len(sel):
            tube0 = _tube_starts(x.bkey[sel], x.site_key[sel], x.tnum[sel])
            if self.pg:
                micros = np.array([_pg_micros(v) if v is not None else 0 for v in tvals], dtype=np.int64)
                prep.fast = self._copy_binary(sc, kl, rk, tube0, micros[inv[sel][tube0]])
            else:
                tsv = np.array(tvals, dtype=object)
                prep.fast = self._sqlite_rows(sc, kl, rk, tube0, tsv[inv[sel][tube0]].tolist())
        if x.good:
            cols = [list(c) for c in zip(*x.good)]
            # people kept by the vectorised part count as seen for the rest of the chunk
            mark = rk[~self.seen[rk]]
            self.seen[mark] = True
            try:
                p = self.prepare(cols, errors)
            finally:
                self.seen[mark] = False
            if p[0] is not None:
                self._slow_prep(p, prep)
        prep.tally = self._tally_of(prep)
        return prep

    def _copy_binary(self, sc: "_Scan", kl: np.ndarray, people: np.ndarray, tube0: np.ndarray,
                     micros: np.ndarray) -> bytes:
        """Binary COPY data (``COLUMNS``) of the chunk's tubes, assembled in a few vectorised passes: per tube
        the field count, round and batch, the barcode and site bytes of its first line (``kl``: the kept
        lines; ``tube0``: where each tube's run starts among them), its time (``micros``, one per tube) and
        its people as ``IdList`` stores them (int64 little-endian). The server reads the numbers and bytes as
        they are: no hex, time or text parsing."""
        n, nt = len(kl), len(tube0)
        size = np.diff(np.append(tube0, n))                    # people per tube
        first = kl[tube0]
        b0, s0 = sc.c1[first] + 1, sc.c2[first] + 1
        bl, sl = sc.c2[first] - b0, sc.c3[first] - s0
        # each row: 26 bytes (count, round, batch, barcode length), barcode, 4 (site length), site,
        # 16 (time with its length, people length), people
        cnt = np.empty((nt, 6), dtype=np.int64)
        cnt[:, 0], cnt[:, 1], cnt[:, 2], cnt[:, 3], cnt[:, 4], cnt[:, 5] = 26, bl, 4, sl, 16, 8 * size
        out = np.empty(int(cnt.sum()), dtype=np.uint8)
        lens = np.stack([bl, sl], axis=1).ravel()
        starts = np.stack([b0, s0], axis=1).ravel()
        src = np.repeat(starts - (np.cumsum(lens) - lens), lens) + np.arange(int(lens.sum()))
        out[_runs((0, 1, 0, 1, 0, 0), cnt)] = sc.a[src]
        out[_runs((0, 0, 0, 0, 0, 1), cnt)] = np.ascontiguousarray(people, dtype="<i8").view(np.uint8)
        fixed = np.empty((nt, 46), dtype=np.uint8)
        fixed[:, 0:6] = (0, 6, 0, 0, 0, 8)
        fixed[:, 6:14] = np.frombuffer(int(self.round.pk).to_bytes(8, "big", signed=True), dtype=np.uint8)
        fixed[:, 14:18] = (0, 0, 0, 4)
        fixed[:, 18:22] = np.frombuffer(int(self.batch.pk).to_bytes(4, "big", signed=True), dtype=np.uint8)
        fixed[:, 22:26] = _be(bl, 4)
        fixed[:, 26:30] = _be(sl, 4)
        fixed[:, 30:34] = (0, 0, 0, 8)
        fixed[:, 34:42] = _be(micros, 8)
        fixed[:, 42:46] = _be(8 * size, 4)
        out[_runs((1, 0, 1, 0, 1, 0), cnt)] = fixed.ravel()
        return b"".join([_COPY_HEAD, out.tobytes(), _COPY_END])

    def _sqlite_rows(self, sc: "_Scan", kl: np.ndarray, people: np.ndarray, tube0: np.ndarray, times: list):
        """Rows (round, batch, barcode, site, time, people as int64 bytes) of the chunk's tubes."""
        f = sc.runs(kl[tube0]).decode("utf-8").replace("\n", ",").split(",")
        blob = encode_ids(people)
        ends = np.append(tube0[1:], len(kl)) * 8
        parts = [blob[a:b] for a, b in zip((tube0 * 8).tolist(), ends.tolist())]
        return list(zip(repeat(self.round.pk), repeat(self.batch.pk), f[1::4], f[2::4], times, parts))

    def write(self, prep: _Prep) -> None:
        """Write a chunk's tubes, register its people and add its tally (inside the chunk's transaction)."""
        if prep.people is not None and len(prep.people):
            self._register(prep.people)
        if prep.fast is not None:
            self._write_fast(prep.fast)
        if prep.slow:
            self._write_slow(prep.slow)
        write_tally(self._tally_of(prep) if prep.tally is None else prep.tally)

    def _register(self, people: np.ndarray) -> None:
        register_people(self.round.pk, people)

    def _day(self, ts: str) -> int:
        """City-time day (ordinal) of a converted time (PostgreSQL: city time text; SQLite: UTC text)."""
        d = dt.datetime.fromisoformat(ts)
        if d.tzinfo is None:
            d = d.replace(tzinfo=dt.timezone.utc)
        return d.astimezone(clock.tz()).date().toordinal()

    COLUMNS = "round_id, batch_id, barcode, site, sampled_at, people"
    INSERT = f"INSERT INTO {Sample._meta.db_table} ({COLUMNS}) VALUES (?,?,?,?,?,?)"  # SQLite, raw connection

    def _copy(self, write, options: str = "") -> None:
        """COPY into the tubes table (PostgreSQL)."""
        with connection.cursor() as c, c.cursor.copy(f"COPY {Sample._meta.db_table} ({self.COLUMNS}) FROM STDIN"
                                                     f"{options}") as cp:
            write(cp)

    def _write_fast(self, payload) -> None:
        if self.pg:  # binary COPY data (``_copy_binary``)
            self._copy(lambda cp: cp.write(payload), " (FORMAT binary)")
            return
        connection.ensure_connection()
        connection.connection.executemany(self.INSERT, payload)

    def _write_slow(self, tubes: list) -> None:
        """Tubes of the field-by-field rows: (barcode, site, converted time, [people])."""
        rows = [(self.round.pk, self.batch.pk, bc, site, ts, encode_ids(people)) for bc, site, ts, people in tubes]
        if not self.pg:
            self._write_fast(rows)  # SQLite: the fast path's payload is rows of the same shape
            return
        # converted times carry their offset, so the session's time zone does not matter for them
        def write(cp):
            for row in rows:
                cp.write_row(row)
        self._copy(write)

    def claim(self, prep: _Prep) -> None:
        """Mark a prepared chunk's people as registered in the round (later chunks see them as duplicates)."""
        if prep.people is not None:
            self.seen[prep.people] = True


def import_samples(path, *, round: Round, actor=None, progress: bool = False, chunk_bytes: int = CHUNK_BYTES,
                   stop_after: int | None = None, encoding: str | None = None) -> Outcome:
    """Import a registrations CSV into ``round``; see the package docstring. Safe to rerun at any point.
    ``encoding``: as declared by the operator (default: detected over the whole file)."""
    return import_file(path, BatchKind.SAMPLES, lambda b: _SampleWriter(round, b, actor), rnd=round, actor=actor,
                       progress=progress, chunk_bytes=chunk_bytes, stop_after=stop_after, encoding=encoding)
