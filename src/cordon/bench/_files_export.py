"""The export part of ``cordon bench files``: people under orders as CSV and XLSX, through the contacts page's
own export (``/cases/contacts/export/``, ``web.exports``), downloaded by a city-wide commander from the
production server (``cordon serve``, one worker) as a browser would.

Seeds ``--export-rows`` orders (``bench/contacts.seed``, the contacts bench's fast bulk insert; every one left
active so the page's list holds them all), then streams each file in full over HTTP, counting its bytes as they
arrive. Figures: rows per second of each format (the goal is 100 000 or more), the file sizes, and the server
worker's peak resident memory over both exports (the goal is under 300 MB: the worker holds Django and one
file's rows in flight, never the city or the whole file).
"""
from __future__ import annotations

import argparse
import datetime as dt
import io
import os
import time
from pathlib import Path


def add_arguments(p) -> None:
    p.add_argument("--export-rows", type=int, default=500_000, help="orders to seed and export")
    p.add_argument("--export-check", type=int, default=20_000,
                   help="open the files with csv and openpyxl and count their rows when they hold at most this many")


def _download(port: int, session: str, url: str, keep: bool) -> tuple[int, int, float, bytes]:
    """(rows the export announced, bytes received, seconds, the file when ``keep``)."""
    import http.client

    t = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    conn.request("GET", url, headers={"Cookie": f"sessionid={session}"})
    response = conn.getresponse()
    assert response.status == 200, (url, response.status)
    size, kept = 0, io.BytesIO() if keep else None
    while chunk := response.read(1 << 16):
        size += len(chunk)
        if kept is not None:
            kept.write(chunk)
    seconds = time.perf_counter() - t
    conn.close()
    return int(response.getheader("X-Rows")), size, seconds, kept.getvalue() if kept is not None else b""


def _rows_in(data: bytes, fmt: str) -> int:
    import csv

    if fmt == "csv":
        return len(list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))) - 1
    import openpyxl

    return sum(1 for _ in openpyxl.load_workbook(io.BytesIO(data), read_only=True).active.iter_rows()) - 1


def _worker_peak_mb(server_pid: int) -> float:
    """The largest peak resident memory (VmHWM) among the server's worker processes."""
    peak = 0.0
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            text = status.read_text(encoding="ascii", errors="replace")
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in text.splitlines() if ":" in line)
        if fields.get("PPid", "").strip() == str(server_pid) and "VmHWM" in fields:
            peak = max(peak, int(fields["VmHWM"].split()[0]) / 1024)
    return round(peak, 1)


def _database_url() -> str:
    from django.db import connection

    d = connection.settings_dict
    if connection.vendor == "postgresql":
        return f"postgres://{d['USER']}:{d['PASSWORD']}@{d['HOST']}:{d['PORT']}/{d['NAME']}"
    return f"sqlite:///{d['NAME']}"


def measure(args, vendor: str, city: dict) -> tuple[list[tuple[str, str]], dict]:
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django.db import connections

    from cordon.bench import contacts, desk
    from cordon.cases.models import OrderStatus, PersonOrder
    from cordon.core.actions import do_create_user

    n = args.export_rows
    seeded = contacts.seed(max(1, n // 10), n, args.seed)
    PersonOrder.objects.exclude(status=OrderStatus.ACTIVE).update(status=OrderStatus.ACTIVE, released_on=None)
    contacts._analyze()
    commander, _ = do_create_user("bench_export", "bench-pass-2022", role="commander", area=None, actor="bench",
                                  check_password=False)
    session = SessionStore()
    session[SESSION_KEY], session[HASH_SESSION_KEY] = str(commander.pk), commander.get_session_auth_hash()
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session.create()
    url = _database_url()
    connections.close_all()
    port = desk.free_port()
    # the server's clock on the seeded day before the orders end (as the bench's ``clock.frozen`` was)
    day = contacts.DAY - dt.timedelta(days=1)
    os.environ["CORDON_TODAY"] = day.isoformat()
    server = desk.start_server(argparse.Namespace(workers=1, threads=2), url, port, os.devnull)
    rows, figures = [], {"export_orders": seeded["orders"]}
    ok = True
    try:
        desk.wait_ready(port, server)
        _download(port, session.session_key, "/cases/contacts/export/?format=csv&q=none", False)  # warm up
        for fmt in ("csv", "xlsx"):
            keep = n <= args.export_check
            count, size, seconds, data = _download(port, session.session_key,
                                                   f"/cases/contacts/export/?format={fmt}", keep)
            rate = round(count / seconds) if seconds else 0
            checked = _rows_in(data, fmt) if keep else None
            ok = ok and count == seeded["orders"] and (checked is None or checked == count)
            rows.append((f"export {fmt.upper()}", f"{count:,} rows, {size / 1e6:,.1f} MB in {seconds:.2f} s: "
                                                  f"{rate:,} rows/s"
                                                  + (f"; opened: {checked:,} rows" if checked is not None else "")))
            figures.update({f"export_{fmt}_rows_per_s": rate, f"export_{fmt}_seconds": round(seconds, 3),
                            f"export_{fmt}_mb": round(size / 1e6, 1)})
        peak = _worker_peak_mb(server.pid)
    finally:
        os.environ.pop("CORDON_TODAY", None)
        os.killpg(server.pid, 15)
        server.wait(timeout=30)
    rows.append(("export: server worker's peak memory", f"{peak:,.0f} MB (goal: under 300 MB)"))
    figures.update({"export_server_peak_rss_mb": peak, "export_ok": ok})
    return rows, figures
