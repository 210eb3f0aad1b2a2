"""The export part of ``cordon bench files``: people under orders as CSV and XLSX, through the contacts page's
own export (``/cases/contacts/export/``, ``web.exports``), read by a city-wide commander.

Seeds ``--export-rows`` orders (``bench/contacts.seed``, the contacts bench's fast bulk insert; every one left
active so the page's list holds them all), then streams each file in full, counting its bytes as a client
would receive them. Figures: rows per second of each format (the goal is 100 000 or more), the file sizes, and
the peak memory while exporting (the goal is under 300 MB; the process's resident memory before the exports,
after the city was built, is reported beside it).
"""
from __future__ import annotations

import datetime as dt
import io
import time

from cordon.bench.common import process_peak_rss_mb, reset_peak


def add_arguments(p) -> None:
    p.add_argument("--export-rows", type=int, default=500_000, help="orders to seed and export")
    p.add_argument("--export-check", type=int, default=20_000,
                   help="open the files with csv and openpyxl and count their rows when they hold at most this many")


def _rss_mb() -> float:
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            return round(next(int(x.split()[1]) for x in fh if x.startswith("VmRSS:")) / 1024, 1)
    except (OSError, StopIteration, ValueError):
        return 0.0


def _peak_mb() -> float:
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            return round(next(int(x.split()[1]) for x in fh if x.startswith("VmHWM:")) / 1024, 1)
    except (OSError, StopIteration, ValueError):
        return process_peak_rss_mb()


def _download(client, url: str, keep: bool) -> tuple[int, int, float, bytes]:
    """(rows the export announced, bytes received, seconds, the file when ``keep``)."""
    t = time.perf_counter()
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    size, kept = 0, io.BytesIO() if keep else None
    for chunk in response.streaming_content:
        size += len(chunk)
        if kept is not None:
            kept.write(chunk)
    seconds = time.perf_counter() - t
    return int(response["X-Rows"]), size, seconds, kept.getvalue() if kept is not None else b""


def _rows_in(data: bytes, fmt: str) -> int:
    import csv

    if fmt == "csv":
        return len(list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))) - 1
    import openpyxl

    return sum(1 for _ in openpyxl.load_workbook(io.BytesIO(data), read_only=True).active.iter_rows()) - 1


def measure(args, vendor: str, city: dict) -> tuple[list[tuple[str, str]], dict]:
    from django.test import Client

    from cordon.bench import contacts
    from cordon.cases.models import OrderStatus, PersonOrder
    from cordon.core import clock
    from cordon.core.actions import do_create_user

    n = args.export_rows
    seeded = contacts.seed(max(1, n // 10), n, args.seed)
    PersonOrder.objects.exclude(status=OrderStatus.ACTIVE).update(status=OrderStatus.ACTIVE, released_on=None)
    contacts._analyze()
    commander, _ = do_create_user("bench_export", "bench-pass-2022", role="commander", area=None, actor="bench",
                                  check_password=False)
    client = Client()
    client.force_login(commander)
    rows, figures = [], {"export_orders": seeded["orders"]}
    before = _rss_mb()
    ok = True
    with clock.frozen(contacts.DAY - dt.timedelta(days=1)):
        client.get("/cases/contacts/export/?format=csv&q=none")  # warm the page's code and connection
        for fmt in ("csv", "xlsx"):
            reset_peak()
            keep = n <= args.export_check
            count, size, seconds, data = _download(client, f"/cases/contacts/export/?format={fmt}", keep)
            peak = _peak_mb()
            rate = round(count / seconds) if seconds else 0
            checked = _rows_in(data, fmt) if keep else None
            ok = ok and count == seeded["orders"] and (checked is None or checked == count)
            rows.append((f"export {fmt.upper()}", f"{count:,} rows, {size / 1e6:,.1f} MB in {seconds:.2f} s: "
                                                  f"{rate:,} rows/s; peak RSS {peak:,.0f} MB"
                                                  + (f"; opened: {checked:,} rows" if checked is not None else "")))
            figures.update({f"export_{fmt}_rows_per_s": rate, f"export_{fmt}_seconds": round(seconds, 3),
                            f"export_{fmt}_mb": round(size / 1e6, 1), f"export_{fmt}_peak_rss_mb": peak})
    rows.append(("export: memory before", f"{before:,.0f} MB resident after the city and the orders were built"))
    figures.update({"export_rss_before_mb": before, "export_ok": ok})
    return rows, figures
