"""A real killed import: ``cordon import samples`` runs as its own process on a file database, is killed
(SIGKILL, no clean-up of any kind) once some chunks are committed, and is run again: every row of the file
ends up stored exactly once, the tally and the batch agree, and the batch is finished."""
from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time

import numpy as np
import pytest

SETUP = """
import django, os
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cordon.config.settings")
django.setup()
from django.core.management import call_command
call_command("migrate", interactive=False, verbosity=0)
from cordon.citygen import City
from cordon.citygen.screening import write_round
from cordon.places.bulk import load_city
from cordon.screening import actions
load_city(6000, seed=3, progress=False)
city = City(6000, seed=3)
f = write_round(city, {out!r}, duplicate_rate=0.01, malformed_rate=0.01, late_rate=0.0, seed=5)
r = actions.do_create_round(name="全员核酸", on=city.today, coverage="city", actor="test")
print(r.pk, f.samples, f.sample_good, f.sample_duplicates + f.sample_malformed)
"""


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX signals")
def test_killed_import_process_resumes_with_every_row_once(tmp_path):
    db = tmp_path / "kill.sqlite3"
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{db}", "CORDON_HOME": str(tmp_path)}
    out = subprocess.run([sys.executable, "-c", SETUP.format(out=str(tmp_path))], env=env, capture_output=True,
                         text=True, timeout=300, check=True).stdout.split()
    round_id, samples, good, bad = int(out[0]), out[1], int(out[2]), int(out[3])
    cmd = [sys.executable, "-m", "cordon", "import", "samples", samples, "--round", str(round_id),
           "--no-progress", "--chunk-kb", "4"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    killed_at = None
    deadline = time.monotonic() + 120
    try:
        while proc.poll() is None and time.monotonic() < deadline:
            try:
                with sqlite3.connect(db, timeout=0.2) as c:
                    row = c.execute("SELECT offset, size FROM screening_importbatch WHERE kind = 'samples'").fetchone()
            except sqlite3.OperationalError:  # busy: the importer is committing
                row = None
            if row and 0 < row[0] < row[1] // 2:
                proc.send_signal(signal.SIGKILL)
                killed_at = row[0]
                break
            time.sleep(0.005)
    finally:
        if proc.poll() is None and killed_at is None:
            proc.kill()
        proc.wait(timeout=30)
    assert killed_at is not None, "the import ended before it could be killed"
    assert proc.returncode == -signal.SIGKILL
    with sqlite3.connect(db) as c:
        status, offset, ok = c.execute("SELECT status, offset, rows_ok FROM screening_importbatch").fetchone()
        stored = len(_people(c))
    assert status == "running" and 0 < offset < os.path.getsize(samples)
    assert stored == ok > 0  # what was committed is exactly what the batch says

    again = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert again.returncode == (1 if bad else 0), again.stderr  # 1: the file had bad rows (reported)
    assert "rows kept" in again.stdout
    with sqlite3.connect(db) as c:
        status, ok, nbad = c.execute("SELECT status, rows_ok, rows_bad FROM screening_importbatch").fetchone()
        regs = _people(c)
        stored, people = len(regs), len(set(regs))
        tally = c.execute("SELECT sum(n) FROM screening_sampletally").fetchone()[0]
        lines = c.execute("SELECT count(DISTINCT line) FROM screening_rowerror").fetchone()[0]
    assert status == "done"
    assert stored == people == ok == good == tally
    assert nbad == bad == lines


def _people(c) -> list[int]:
    """Resident ids of every registration stored (tubes' people: int64 bytes on SQLite)."""
    return [int(x) for (blob,) in c.execute("SELECT people FROM screening_sample")
            for x in np.frombuffer(blob, dtype="<i8")]
