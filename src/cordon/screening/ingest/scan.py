"""The byte scanner: a chunk of a canonical file (four unquoted fields a line) checked as numpy arrays of line
starts, ends and commas, with field gathers, barcode, text-length and time checks; and the keys that cut the
kept lines into tube runs. A line the scanner does not take goes to the field-by-field path (``parse``)."""
from __future__ import annotations

import numpy as np

from .parse import MAX_FIELD


def _table(chars: bytes) -> np.ndarray:
    t = np.zeros(256, dtype=bool)
    t[np.frombuffer(chars, dtype=np.uint8)] = True
    return t


_DIGIT = _table(b"0123456789")
# barcode bytes, and 0: the padding of a gathered field (``_Scan.field``; a real 0 byte sends a line to the
# field-by-field path)
_BC_OK0 = _table(b"\x00ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-")
# bytes that send a line to the field-by-field path: quotes, and what COPY's text format would escape
_SPECIAL_BYTES = (b'"', b"\t", b"\\", b"\r", b"\x00")
#: positions of digits in 'YYYY-MM-DD HH:MM:SS'
_T_DIGITS = np.array([0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15], dtype=np.int64)


def _within(pos: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """How many of the sorted positions ``pos`` fall in [lo, hi) per line."""
    return np.searchsorted(pos, hi) - np.searchsorted(pos, lo)


class _Scan:
    """A chunk of a canonical file as line arrays: starts, ends (no line break), the three commas of a
    4-field line, and ``ok``: the line has 4 fields and nothing that needs the field-by-field path."""

    def __init__(self, buf: bytes):
        a = self.a = np.frombuffer(buf, dtype=np.uint8)
        n = self.n = len(a)
        self._pad = None  # the chunk and some zero bytes (``gather``)
        nl = np.flatnonzero(a == 10)
        ends = nl if (n and len(nl) and nl[-1] == n - 1) or not n else np.append(nl, n)
        starts = np.empty_like(ends)
        if len(ends):
            starts[0] = 0
            starts[1:] = ends[:-1] + 1
        self.cr = bool(len(ends)) and b"\r" in buf
        if self.cr:  # CRLF: the CR belongs to the line end
            ends = ends - ((ends > starts) & (a[np.maximum(ends - 1, 0)] == 13))
        self.starts, self.ends = starts, ends
        # bytes that send a line to the field-by-field path: most chunks have none (a quick test first)
        special = (np.flatnonzero((a == 34) | (a == 9) | (a == 92) | (a == 13) | (a == 0))
                   if any(c in buf for c in _SPECIAL_BYTES) else np.zeros(0, dtype=np.int64))
        commas = np.flatnonzero(a == 44)
        self.blank = ends == starts
        ok = (_within(commas, starts, ends) == 3) & ~self.blank
        if len(special):
            ok &= _within(special, starts, ends) == 0
        if len(commas) >= 3:
            fi = np.searchsorted(commas, starts).clip(0, max(0, len(commas) - 3))
            self.c1, self.c2, self.c3 = commas[fi], commas[fi + 1], commas[fi + 2]
        else:
            ok[:] = False
            self.c1 = self.c2 = self.c3 = starts
        self.ok = ok

    def field(self, pos: np.ndarray, length: np.ndarray, width: int) -> np.ndarray:
        """(lines, width) bytes of a field of ``length`` bytes from ``pos``, zero past its end. The bytes of a
        valid field (4..32 letters, digits, '-') never include 0, so the rows compare as keys."""
        width = max(1, width)
        out = self.gather(pos, width)
        out *= np.arange(width)[None, :] < length[:, None]
        return out

    def gather(self, pos: np.ndarray, width: int) -> np.ndarray:
        """(lines, width) bytes from ``pos`` on (zero past the chunk's end): rows of a sliding window over the
        chunk, copied row by row (no index array of lines x width)."""
        if self._pad is None or len(self._pad) < self.n + width:
            self._pad = np.concatenate([self.a, np.zeros(max(64, width), dtype=np.uint8)])
        return np.lib.stride_tricks.sliding_window_view(self._pad, width)[np.clip(pos, 0, self.n)]

    def barcode(self, pos: np.ndarray, length: np.ndarray, ok: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """A barcode field (``length`` bytes from ``pos``) of each line: ``ok`` and the field is 4 to 32 of
        [A-Za-z0-9-]; and its bytes (``field``: zero past its end, as wide as the longest of the ``ok`` lines)."""
        ok = ok & (length >= 4) & (length <= 32)
        key = self.field(pos, length, int(length[ok].max()) if ok.any() else 4)
        return ok & _BC_OK0[key].all(axis=1), key

    def short_text(self, lo: np.ndarray, hi: np.ndarray, ok: np.ndarray) -> np.ndarray:
        """``ok`` and the text field [lo, hi) has at most ``MAX_FIELD`` characters (counted only where it has
        more bytes than that)."""
        ok = ok.copy()
        long = np.flatnonzero(ok & (hi - lo > MAX_FIELD))
        if len(long):
            ok[long] &= self.chars(lo[long], hi[long]) <= MAX_FIELD
        return ok

    def chars(self, lo, hi) -> np.ndarray:
        """UTF-8 characters in [lo, hi) (the chunk is valid UTF-8)."""
        cont = np.flatnonzero((self.a & 0xC0) == 0x80)
        return (hi - lo) - _within(cont, lo, hi)

    def check_time(self, lo, hi) -> tuple[np.ndarray, np.ndarray]:
        """'YYYY-MM-DD HH:MM[:SS]' in [lo, hi): (well-formed mask, S19 keys)."""
        ln = hi - lo
        b = self.gather(lo, 19)
        ok = (ln == 16) | (ln == 19)
        ok &= _DIGIT[b[:, _T_DIGITS[:10]]].all(axis=1)
        ok &= (b[:, 4] == 45) & (b[:, 7] == 45) & ((b[:, 10] == 32) | (b[:, 10] == 84)) & (b[:, 13] == 58)
        long = ln == 19
        ok &= ~long | ((b[:, 16] == 58) & _DIGIT[b[:, 17]] & _DIGIT[b[:, 18]])
        b[~long, 16:] = 0
        return ok, np.ascontiguousarray(b).view("S19").ravel()

    def text(self, i: int) -> str:
        return bytes(self.a[self.starts[i]:self.ends[i]]).decode("utf-8", errors="replace")

    def runs(self, keep: np.ndarray, data=None) -> bytes:
        """The kept lines (indices, ascending) of ``data`` (default the chunk) joined, one per line."""
        if not len(keep):
            return b""
        mv = memoryview(self.a if data is None else data)
        if self.cr:
            s, e = self.starts[keep], self.ends[keep]
        else:
            brk = np.flatnonzero(np.diff(keep) != 1)
            s = self.starts[keep[np.concatenate(([0], brk + 1))]]
            e = self.ends[keep[np.concatenate((brk, [len(keep) - 1]))]]
        return b"\n".join([mv[x:y] for x, y in zip(s.tolist(), e.tolist())]) + b"\n"


_T_ALL = np.append(_T_DIGITS, [17, 18])
_T_POW = 10 ** np.arange(len(_T_ALL) - 1, -1, -1, dtype=np.int64)


def _time_numbers(keys: np.ndarray) -> np.ndarray:
    """Well-formed time keys (``_Scan.check_time``: S19, seconds zero when absent) as numbers YYYYMMDDHHMMSS."""
    if not len(keys):
        return np.zeros(0, dtype=np.int64)
    d = keys.view(np.uint8).reshape(-1, 19)[:, _T_ALL].astype(np.int64) - 48
    np.maximum(d, 0, out=d)
    return d @ _T_POW


def _tube_starts(*keys: np.ndarray) -> np.ndarray:
    """Positions where a new tube run starts among kept lines (in file order): any of the lines' keys
    (barcode, site, time: fixed-width rows of bytes, zero past the field's end) differs from the line
    before it."""
    n = len(keys[0])
    new = np.zeros(n, dtype=bool)
    new[:1] = True
    for k in keys:
        v = np.ascontiguousarray(k).view(f"V{k.shape[1]}").ravel() if k.ndim == 2 else k
        new[1:] |= v[1:] != v[:-1]
    return np.flatnonzero(new)
