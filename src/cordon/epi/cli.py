"""``cordon epi``: reproduction number and doubling time from a CSV of daily counts (no Django).

    cordon epi rt FILE.csv [--mean-si 2.6 --std-si 1.5 | --si-distr FILE] [--window 7]
                           [--mean-prior 5 --std-prior 5]
    cordon epi doubling FILE.csv [--window 7] [--level 0.95]

FILE has a header with either ``I`` (total daily cases) or ``local`` and ``imported``, and optionally
``date`` (ISO dates, one row per consecutive day).  Output is JSON Lines: one JSON object per window
per line on stdout.  Warnings go to stderr.  Bad input exits with status 2 and a message naming the
file, line and column.
"""
from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import json
import math
import os
import sys
from dataclasses import dataclass

import numpy as np

from cordon.tabular import FileError, read_text

from .rt import EpiInputError, doubling_times, estimate_r

DEFAULT_MEAN_SI = 2.6
DEFAULT_STD_SI = 1.5


class CsvInputError(ValueError):
    pass


@dataclass
class IncidenceTable:
    path: str
    local: np.ndarray | None  # with imported, when the file has local/imported columns
    imported: np.ndarray | None
    total_i: np.ndarray | None  # when the file has a single I column
    dates: list[dt.date] | None

    @property
    def n(self) -> int:
        arr = self.total_i if self.total_i is not None else self.local
        return 0 if arr is None else int(arr.size)

    @property
    def total(self) -> np.ndarray:
        if self.total_i is not None:
            return self.total_i
        return self.local + self.imported


def _non_negative(where: str, text: str, empty: str, what: str) -> float:
    """A cell's finite, non-negative number, or a CsvInputError naming ``where`` and what is wrong."""
    if text == "":
        raise CsvInputError(f"{where}: {empty}")
    try:
        value = float(text)
    except ValueError:
        raise CsvInputError(f"{where}: not a number: {text!r}") from None
    if not math.isfinite(value):
        raise CsvInputError(f"{where}: not a finite number: {text!r}")
    if value < 0:
        raise CsvInputError(f"{where}: negative {what} {text}")
    return value


def _parse_count(path: str, line: int, col: str, cell: str) -> float:
    text = cell.strip()
    where = f"{path}: line {line}, column '{col}'"
    value = _non_negative(where, text, "empty cell (a daily count is required)", "count")
    if value != int(value):
        raise CsvInputError(f"{where}: not a whole number of cases: {text}")
    return value


def _text(path: str) -> str:
    """The file's text (UTF-8, GB18030 or UTF-16, detected over the whole file; a binary file is refused)."""
    if not os.path.isfile(path):
        raise CsvInputError(f"{path}: no such file")
    try:
        return read_text(path)
    except FileError as exc:
        raise CsvInputError(str(exc)) from None


def _read_rows(path: str) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """Header (stripped) and data rows with their 1-based line numbers. A blank line between data rows is
    an error (a day without its row would shift every later day); blank lines before the header and at the
    end are ignored."""
    text = _text(path)
    try:
        reader = csv.reader(io.StringIO(text, newline=""))
        rows = []
        header = None
        blank = None  # first blank line since the last data row
        for row in reader:
            line = reader.line_num
            if not row or all(c.strip() == "" for c in row):
                if header is not None and blank is None:
                    blank = line
                continue
            if header is None:
                header = [c.strip() for c in row]
                continue
            if blank is not None:
                raise CsvInputError(f"{path}: line {blank}: blank line between data rows (every day needs its "
                                    f"row; write 0 for a day without cases)")
            rows.append((line, row))
    except csv.Error as exc:
        raise CsvInputError(f"{path}: line {reader.line_num}: malformed CSV: {exc}") from None
    if header is None:
        raise CsvInputError(f"{path}: empty file (expected a header with 'I' or 'local,imported')")
    return header, rows


def read_incidence_csv(path: str, column: str | None = None) -> IncidenceTable:
    """Read a daily-count CSV (columns ``I`` or ``local,imported``; optional ``date``).

    ``column`` names another column to read as the total incidence ``I`` (e.g. ``new_local_infections``).
    """
    header, rows = _read_rows(path)
    lower = {h.lower(): i for i, h in enumerate(header)}
    has_local, has_imported = "local" in lower, "imported" in lower
    if column is not None:
        if column.lower() not in lower:
            raise CsvInputError(f"{path}: line 1: missing column '{column}' (found: {', '.join(header)})")
        cols = [header[lower[column.lower()]]]
    elif has_local != has_imported:
        missing = "imported" if has_local else "local"
        raise CsvInputError(
            f"{path}: line 1: missing column '{missing}' (columns 'local' and 'imported' go together; "
            f"found: {', '.join(header)})"
        )
    elif has_local:
        cols = ["local", "imported"]
    elif "i" in lower:
        cols = ["I"]
    else:
        raise CsvInputError(
            f"{path}: line 1: missing column: need 'I' or 'local' and 'imported' (found: {', '.join(header)})"
        )
    date_key = "date" if "date" in lower else ("dates" if "dates" in lower else None)
    if not rows:
        raise CsvInputError(f"{path}: no data rows after the header")

    values: dict[str, list[float]] = {c: [] for c in cols}
    dates: list[dt.date] | None = [] if date_key else None
    for line, row in rows:
        for c in cols:
            idx = lower[c.lower()]
            cell = row[idx] if idx < len(row) else ""
            values[c].append(_parse_count(path, line, c, cell))
        if dates is not None:
            idx = lower[date_key]
            cell = (row[idx] if idx < len(row) else "").strip()
            where = f"{path}: line {line}, column '{header[idx]}'"
            try:
                d = dt.date.fromisoformat(cell)
            except ValueError:
                raise CsvInputError(f"{where}: not an ISO date (YYYY-MM-DD): {cell!r}") from None
            if dates and d != dates[-1] + dt.timedelta(days=1):
                raise CsvInputError(
                    f"{where}: dates must be consecutive days; expected {dates[-1] + dt.timedelta(days=1)}, got {d}"
                )
            dates.append(d)
    if len(cols) == 1:
        return IncidenceTable(path, None, None, np.asarray(values[cols[0]]), dates)
    return IncidenceTable(path, np.asarray(values["local"]), np.asarray(values["imported"]), None, dates)


def read_si_distr_csv(path: str) -> np.ndarray:
    """Read a discrete serial interval: a CSV with a ``w`` column (EpiEstim's ``k,w`` files) or one number per line.

    Checks, naming the line: numbers only, ``w_0 == 0``, no negative value, sum within 0.01 of 1.
    """
    text = _text(path)
    try:
        reader = csv.reader(io.StringIO(text, newline=""))
        raw = [(reader.line_num, row) for row in reader if row and any(c.strip() for c in row)]
    except csv.Error as exc:
        raise CsvInputError(f"{path}: line {reader.line_num}: unreadable CSV: {exc}") from None
    if not raw:
        raise CsvInputError(f"{path}: empty serial interval file")

    def is_number(s: str) -> bool:
        try:
            float(s)
            return True
        except ValueError:
            return False

    first = [c.strip() for c in raw[0][1]]
    if all(is_number(c) for c in first):
        if len(first) != 1:
            raise CsvInputError(
                f"{path}: line {raw[0][0]}: without a header the file must have one number per line "
                f"(or give a header with a 'w' column)"
            )
        col_idx, col_name, data = 0, "w", raw
    else:
        names = [c.lower() for c in first]
        if "w" in names:
            col_idx = names.index("w")
        elif len(names) == 1:
            col_idx = 0
        else:
            raise CsvInputError(f"{path}: line {raw[0][0]}: missing column 'w' (found: {', '.join(first)})")
        col_name, data = first[col_idx], raw[1:]
    if not data:
        raise CsvInputError(f"{path}: no serial interval values")
    w = []
    for line, row in data:
        where = f"{path}: line {line}, column '{col_name}'"
        cell = row[col_idx].strip() if col_idx < len(row) else ""
        v = _non_negative(where, cell, "empty cell", "probability")
        if not w and v != 0:
            raise CsvInputError(
                f"{where}: the serial interval must start with 0 (probability of a zero-day interval), got {cell}"
            )
        w.append(v)
    total = math.fsum(w)
    if abs(total - 1) > 0.01:
        raise CsvInputError(f"{path}: column '{col_name}': serial interval must sum to 1 (within 0.01); it sums to {total:.6g}")
    return np.asarray(w)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="epi_command", metavar="SUBCOMMAND")
    rt = sub.add_parser(
        "rt",
        help="instantaneous reproduction number (Cori et al. 2013, as EpiEstim estimate_R)",
        description="Estimate R on sliding windows from daily counts. Prints one JSON object per line.",
    )
    rt.add_argument("file", metavar="FILE.csv", help="daily counts: columns I, or local and imported; optional date")
    rt.add_argument("--mean-si", type=float, default=None, help=f"mean serial interval in days (default {DEFAULT_MEAN_SI})")
    rt.add_argument("--std-si", type=float, default=None, help=f"sd of the serial interval (default {DEFAULT_STD_SI})")
    rt.add_argument("--si-distr", metavar="FILE", default=None, help="discrete serial interval (column w, k = 0, 1, ...; w_0 = 0)")
    rt.add_argument("--column", default=None, help="read this column as the total daily count I (e.g. new_local_infections)")
    rt.add_argument("--window", type=int, default=7, help="window length in days (default 7)")
    rt.add_argument("--mean-prior", type=float, default=5.0, help="prior mean of R (default 5)")
    rt.add_argument("--std-prior", type=float, default=5.0, help="prior sd of R (default 5)")
    rt.set_defaults(epi_func=_run_rt)

    db = sub.add_parser(
        "doubling",
        help="doubling / halving time on sliding windows (log-linear regression)",
        description="Doubling or halving time of total daily counts on sliding windows. Prints one JSON object per line.",
    )
    db.add_argument("file", metavar="FILE.csv", help="daily counts: columns I, or local and imported; optional date")
    db.add_argument("--column", default=None, help="read this column as the total daily count I (e.g. new_local_infections)")
    db.add_argument("--window", type=int, default=7, help="window length in days (default 7, at least 3)")
    db.add_argument("--level", type=float, default=0.95, help="confidence level (default 0.95)")
    db.set_defaults(epi_func=_run_doubling)
    parser.set_defaults(epi_parser=parser)


def _err(msg: str) -> int:
    print(f"cordon epi: error: {msg}", file=sys.stderr)
    return 2


def _emit(rows) -> None:
    out = sys.stdout
    try:
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False, allow_nan=False))
            out.write("\n")
        out.flush()
    except BrokenPipeError:  # e.g. piped into `head`
        try:
            sys.stdout = open(os.devnull, "w")
        except OSError:
            pass


#: Sane ranges of the numeric options (days; R): a value outside is a typing mistake, refused before any work.
BOUNDS = {
    "mean_si": (1.0, 100.0, "--mean-si must be more than 1 and at most 100 days"),
    "std_si": (0.0, 100.0, "--std-si must be more than 0 and at most 100 days"),
    "mean_prior": (0.0, 1000.0, "--mean-prior must be more than 0 and at most 1000"),
    "std_prior": (0.0, 1000.0, "--std-prior must be more than 0 and at most 1000"),
}
MAX_WINDOW = 365


def _out_of_bounds(args: argparse.Namespace) -> str | None:
    for name, (lo, hi, why) in BOUNDS.items():
        v = getattr(args, name, None)
        if v is not None and not (lo < v <= hi):  # NaN fails too
            return f"{why} (got {v:g})"
    return None


def _run_rt(args: argparse.Namespace) -> int:
    if args.si_distr is not None and (args.mean_si is not None or args.std_si is not None):
        return _err("give either --si-distr or --mean-si/--std-si, not both")
    if not 1 <= args.window <= MAX_WINDOW:
        return _err(f"--window must be from 1 to {MAX_WINDOW} days (got {args.window})")
    bad = _out_of_bounds(args)
    if bad:
        return _err(bad)
    try:
        table = read_incidence_csv(args.file, args.column)
        if table.n < args.window + 1:
            return _err(
                f"{args.file}: series too short: {table.n} day(s); --window {args.window} needs at least "
                f"{args.window + 1} days (windows start on day 2)"
            )
        if args.si_distr is not None:
            si = dict(method="non_parametric_si", si_distr=read_si_distr_csv(args.si_distr))
        else:
            mean_si = DEFAULT_MEAN_SI if args.mean_si is None else args.mean_si
            std_si = DEFAULT_STD_SI if args.std_si is None else args.std_si
            si = dict(method="parametric_si", mean_si=mean_si, std_si=std_si)
        if table.total_i is not None:
            inc = dict(incidence=table.total_i)
        else:
            inc = dict(local=table.local, imported=table.imported)
        res = estimate_r(
            **inc, **si, window=args.window, mean_prior=args.mean_prior, std_prior=args.std_prior, dates=table.dates
        )
    except (CsvInputError, EpiInputError) as exc:
        return _err(str(exc))
    for w in res.warnings:
        print(f"cordon epi: warning: {w}", file=sys.stderr)
    _emit(res.rows())
    return 0


def _run_doubling(args: argparse.Namespace) -> int:
    if not 0 < args.level < 1:
        return _err(f"--level must be between 0 and 1 (got {args.level})")
    if not 3 <= args.window <= MAX_WINDOW:
        return _err(f"--window must be from 3 to {MAX_WINDOW} days (got {args.window})")
    try:
        table = read_incidence_csv(args.file, args.column)
        if table.n < args.window:
            return _err(f"{args.file}: series too short: {table.n} day(s); --window {args.window} needs {args.window}")
        ests = doubling_times(table.total, args.window, level=args.level)
    except (CsvInputError, EpiInputError) as exc:
        return _err(str(exc))
    keys = ("growth_rate", "growth_rate_lo", "growth_rate_hi", "kind", "time", "time_lo", "time_hi")
    rows = []
    for i, est in enumerate(ests):
        t_start, t_end = i + 1, i + args.window
        if est is None:
            row = {"t_start": t_start, "t_end": t_end, "n": args.window, **{k: None for k in keys},
                   "level": args.level, "note": "zero count in window"}
        else:
            row = est.as_dict()
        if table.dates is not None:
            row["date_start"] = table.dates[t_start - 1].isoformat()
            row["date_end"] = table.dates[t_end - 1].isoformat()
        rows.append(row)
    _emit(rows)
    return 0


def run(args: argparse.Namespace) -> int:
    func = getattr(args, "epi_func", None)
    if func is None:
        args.epi_parser.print_help()
        return 2
    return int(func(args))
