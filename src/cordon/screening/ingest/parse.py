"""Reading an import file as text: the columns of each kind (their aliases in the header), the field-by-field
check of a row that names the field and the reason, the whole-chunk regular expression for the canonical
layout, city times, and the file cut into chunks at line ends."""
from __future__ import annotations

import csv
import datetime as dt
import re
from pathlib import Path

from django.db import connection

from cordon import tabular
from cordon.core import clock, ids


MAX_FIELD = 80

SAMPLE_COLUMNS = {
    "id_number": ("id_number", "身份证号", "身份证号码", "证件号码"),
    "barcode": ("barcode", "tube", "试管编码", "管码", "条码"),
    "site": ("site", "采样点"),
    "sampled_at": ("sampled_at", "采样时间"),
}
RESULT_COLUMNS = {
    "barcode": ("barcode", "tube", "试管编码", "管码", "条码"),
    "result": ("result", "检测结果", "结果"),
    "lab": ("lab", "检测机构", "实验室"),
    "reported_at": ("reported_at", "报告时间"),
}
REQUIRED = {"samples": ("id_number", "barcode", "sampled_at"), "results": ("barcode", "result", "reported_at")}
RESULT_WORDS = {"negative": "negative", "positive": "positive", "invalid": "invalid",
                "阴性": "negative", "阳性": "positive", "无效": "invalid"}

_TIME = r"\d{4}-\d\d-\d\d[ T]\d\d:\d\d(?::\d\d)?"
_FREE = r"[^,\"\t\\\r\n]{0,80}"
_BARCODE = re.compile(r"^[A-Za-z0-9-]{4,32}$")
_TIME_RE = re.compile(rf"^{_TIME}$")
# canonical column order, unquoted: one match per line; group 5 (or 5) catches lines needing the slow path
SAMPLE_ROW = re.compile(rf"^(?:(\d{{17}}[\dX]),([A-Za-z0-9-]{{4,32}}),({_FREE}),({_TIME})\r?|([^\n]*))$", re.M)
RESULT_ROW = re.compile(rf"^(?:([A-Za-z0-9-]{{4,32}}),(negative|positive|invalid),({_FREE}),({_TIME})\r?|([^\n]*))$",
                        re.M)


class ImportFileError(tabular.FileError):
    """The file as a whole cannot be imported (missing, wrong type, not text in an accepted encoding, missing
    columns): refused before a batch is opened. ``str``: ``FILE:LINE: reason``."""


def _utf8(buf: bytes) -> bool:
    """A chunk of a file is UTF-8: ``_checked_file`` validated every byte of the file (or made a UTF-8 copy)
    before the import began, and chunks end at line ends, so no chunk is decoded a second time here."""
    return True


class _Times:
    """Validates and converts 'YYYY-MM-DD HH:MM[:SS]' (city time) to the database's text form, cached:
    a round has few distinct minutes."""

    def __init__(self, lo: dt.datetime | None = None, hi: dt.datetime | None = None):
        self.tz = clock.tz()
        self.pg = connection.vendor == "postgresql"
        self.cache: dict[str, str | None] = {}
        self.lo, self.hi = lo, hi
        self.why: dict[str, str] = {}

    def __call__(self, s: str):
        v = self.cache.get(s, 0)
        if v != 0:
            return v
        if len(self.cache) > 500_000:
            self.cache.clear()
        try:
            d = dt.datetime.fromisoformat(s.replace("T", " "))
        except ValueError:
            self.why[s] = f"not a real date and time: {s}"
            self.cache[s] = None
            return None
        d = d.replace(tzinfo=self.tz) if d.tzinfo is None else d.astimezone(self.tz)
        if (self.lo and d < self.lo) or (self.hi and d > self.hi):
            self.why[s] = f"{s} is outside the round's window ({self.lo:%Y-%m-%d} to {self.hi:%Y-%m-%d})"
            self.cache[s] = None
            return None
        v = d.isoformat(sep=" ") if self.pg else d.astimezone(dt.timezone.utc).replace(tzinfo=None).isoformat(sep=" ")
        self.cache[s] = v
        return v


def _header(line: str, kind: str) -> tuple[list[int], bool]:
    """Positions of the canonical columns in the header; True when the layout is the canonical one."""
    cols = SAMPLE_COLUMNS if kind == "samples" else RESULT_COLUMNS
    cells = next(csv.reader([line.lstrip("\ufeff")]), [])
    lookup = {a.lower(): c for c, aliases in cols.items() for a in aliases}
    pos: dict[str, int] = {}
    for i, h in enumerate(cells):
        c = lookup.get(h.strip().lower())
        if c and c not in pos:
            pos[c] = i
    missing = [c for c in REQUIRED[kind] if c not in pos]
    if missing:
        raise ImportFileError("missing columns: " + ", ".join(missing) + " (found: " + ", ".join(cells) + ")")
    order = [pos.get(c, -1) for c in cols]
    return order, order == list(range(len(cols))) and len(cells) == len(cols)


def _barcode_error(bc: str):
    if not bc:
        return "barcode", "required"
    if not _BARCODE.match(bc):
        return "barcode", "4 to 32 letters, digits or '-'"
    return None


def _text_error(field: str, value: str):
    if len(value) > MAX_FIELD or any(ch in value for ch in "\t\\\r\n\x00"):
        return field, f"at most {MAX_FIELD} characters, no tabs, backslashes or NUL bytes"
    return None


def _time_error(field: str, value: str):
    if not value:
        return field, "required"
    if not _TIME_RE.match(value):
        return field, "expected YYYY-MM-DD HH:MM[:SS]"
    return None


def _check_sample(f: list[str]):
    """Field checks of one registration row -> (field, reason) or None. ``f``: id, barcode, site, time."""
    idn, bc, site, t = f
    if not idn:
        return "id_number", "required"
    err = ids.id_number_error(idn)
    if err:
        return "id_number", err
    return _barcode_error(bc) or _text_error("site", site) or _time_error("sampled_at", t)


def _check_result(f: list[str]):
    """Field checks of one result row -> (field, reason) or None. ``f``: barcode, result, lab, time."""
    bc, res, lab, t = f
    bad = _barcode_error(bc)
    if bad:
        return bad
    if res.lower() not in RESULT_WORDS:
        return "result", f"must be negative, positive or invalid (阴性/阳性/无效), got {res[:20]!r}"
    return _text_error("lab", lab) or _time_error("reported_at", t)


def _slow_rows(kind: str, items, order: list[int], errors: list):
    """Field-by-field parse of (line, text) pairs -> good rows [(line, f1, f2, f3, f4)]."""
    width = len(order)
    check = _check_sample if kind == "samples" else _check_result
    good = []
    for line, text in items:
        try:
            cells = next(csv.reader([text]))
        except (csv.Error, StopIteration):
            errors.append((line, "row", "not a CSV row"))
            continue
        need = max(order) + 1
        if len(cells) < need or (len(cells) > need and any(c.strip() for c in cells[need:])):
            errors.append((line, "row", f"expected {need} fields, got {len(cells)}"))
            continue
        f = [cells[i].strip() if i >= 0 else "" for i in order][:width]
        if kind == "samples":
            f[0] = f[0].upper()
        else:
            f[1] = RESULT_WORDS.get(f[1].lower(), f[1])
        bad = check(f)
        if bad:
            errors.append((line, *bad))
            continue
        good.append((line, *f))
    return good


def _parse_text(kind: str, text: str, line0: int, order: list[int], canonical: bool, errors: list):
    """Rows of a chunk of text -> columns (lines, c1, c2, c3, c4); line0 = line number of the first row."""
    if canonical:
        rx = SAMPLE_ROW if kind == "samples" else RESULT_ROW
        found = rx.findall(text)
        if text.endswith("\n"):
            found = found[:-1] if found and found[-1] == ("", "", "", "", "") else found
        slow_items = [(line0 + i, t[4]) for i, t in enumerate(found) if t[0] == "" and t[4].strip()]
        if not slow_items and all(t[0] for t in found):
            lines = range(line0, line0 + len(found))
            cols = list(zip(*found))[:4] if found else [(), (), (), ()]
            return [list(lines), *cols]
        good = [(line0 + i, t[0], t[1], t[2], t[3]) for i, t in enumerate(found) if t[0]]
        good += _slow_rows(kind, slow_items, order, errors)
        good.sort()
    else:
        items = [(line0 + i, ln) for i, ln in enumerate(text.split("\n")) if ln.strip()]
        good = _slow_rows(kind, items, order, errors)
    if not good:
        return [[], [], [], [], []]
    return [list(c) for c in zip(*good)]


def _read_chunks(path: Path, offset: int, chunk_bytes: int):
    """(start offset, end offset, bytes) per chunk, each ending at a line end (the last may not)."""
    with open(path, "rb") as fh:
        fh.seek(offset)
        pos = offset
        rest = b""
        while True:
            block = fh.read(chunk_bytes)
            if not block:
                if rest:
                    yield pos, pos + len(rest), rest
                return
            data = rest + block
            cut = data.rfind(b"\n")
            if cut < 0:
                rest = data
                continue
            body, rest = data[: cut + 1], data[cut + 1:]
            yield pos, pos + len(body), body
            pos += len(body)


def _columns(rows: list) -> list:
    """Rows [(line, f1, f2, f3, f4)] -> columns [lines, c1, c2, c3, c4]."""
    return [list(c) for c in zip(*rows)] if rows else [[], [], [], [], []]
