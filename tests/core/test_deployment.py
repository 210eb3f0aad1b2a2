"""docs/deployment.md followed end to end, as an operator would, through the ``cordon`` command in its own
processes: a fresh PostgreSQL database, ``cordon migrate``, ``cordon citygen``, ``cordon createuser``,
two ``cordon serve`` (gunicorn, each on a free port) and a logged-in page of the city fetched over HTTP from
each, logged in through the login form of one;
then the restore drill (``cordon backup``, a change, ``cordon restore``: the change is gone, the data is
back). The same drill on the embedded SQLite database."""
from __future__ import annotations

import hashlib
import http.cookiejar
import os
import re
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.parse
import urllib.request
import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest

AREAS_CSV = "区,街道,社区,小区,楼栋,单元\n演练区,演练街道,演练社区,演练小区,1号楼,1单元\n"


def write_areas(path: Path) -> Path:
    path.write_text(AREAS_CSV, encoding="utf-8")
    return path


DRIVER = """
import contextlib, io, json, sys
from cordon.cli import main
out = []
for argv in json.loads(sys.argv[1]):
    o, e = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(o), contextlib.redirect_stderr(e):
        try:
            rc = main(argv)
        except SystemExit as exc:
            rc = exc.code if isinstance(exc.code, int) else 1
            e.write("" if isinstance(exc.code, int) else str(exc.code))
    out.append([rc, o.getvalue(), e.getvalue()])
print(json.dumps(out))
"""


def cordon(env: dict, *steps, timeout: int = 300) -> list[tuple[int, str, str]]:
    """Run ``cordon`` commands one after the other in one new process (the steps of a procedure; one Python
    start-up instead of one per command), each ``(argv, expected exit code)`` or an argv expected to succeed.
    Returns (exit code, stdout, stderr) per command."""
    import json

    steps = [s if isinstance(s, tuple) else (s, 0) for s in steps]
    r = subprocess.run([sys.executable, "-c", DRIVER, json.dumps([argv for argv, _ in steps])], env=env,
                       capture_output=True, text=True, timeout=timeout)
    assert r.returncode == 0, r.stderr
    results = [tuple(x) for x in json.loads(r.stdout.strip().splitlines()[-1])]
    for (argv, want), (rc, out, err) in zip(steps, results):
        assert rc == want, f"cordon {' '.join(argv)} exited {rc} (expected {want}):\n{out}\n{err}"
    return results


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def served(env: dict):
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "cordon", "serve", "--host", "127.0.0.1", "--port", str(port),
                             "--workers", "1", "--threads", "2"], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                urllib.request.urlopen(base + "/login/", timeout=5).read()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError("cordon serve did not answer: " + (proc.stdout.read() if proc.poll()
                                                                            is not None else "timeout")) from None
                time.sleep(0.3)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def login(base: str, username: str, password: str) -> urllib.request.OpenerDirector:
    """Log in through the login form (its CSRF token and cookie), as a browser does."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(base + "/login/", timeout=30).read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    data = urllib.parse.urlencode({"csrfmiddlewaretoken": token, "username": username, "password": password,
                                   "next": "/"}).encode()
    req = urllib.request.Request(base + "/login/", data=data, headers={"Referer": base + "/login/"})
    resp = opener.open(req, timeout=30)
    assert resp.url.rstrip("/") == base, f"login did not go through (ended at {resp.url})"
    assert any(c.name == "sessionid" for c in jar)
    return opener


def _pg_server():
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        pytest.skip("DATABASE_URL is not PostgreSQL: the PostgreSQL deployment runs in the PostgreSQL test run")
    u = urllib.parse.urlparse(url)
    try:
        import psycopg

        psycopg.connect(host=u.hostname or "127.0.0.1", port=u.port or 5432, user=u.username or "postgres",
                        password=u.password or None, dbname="postgres", connect_timeout=5).close()
    except Exception as exc:  # noqa: BLE001 - any failure to connect means: not reachable
        pytest.skip(f"PostgreSQL not reachable at {u.hostname}:{u.port or 5432}: {exc}")
    return u


def _admin(u):
    import psycopg

    return psycopg.connect(host=u.hostname or "127.0.0.1", port=u.port or 5432, user=u.username or "postgres",
                           password=u.password or None, dbname="postgres", autocommit=True)


def test_deployment_on_postgresql(tmp_path):
    import psycopg

    u = _pg_server()
    name = f"{(u.path.lstrip('/') or 'cordon')[:30]}_deploy_{uuid.uuid4().hex[:8]}"
    url = u._replace(path="/" + name).geturl()
    env = {**os.environ, "DATABASE_URL": url, "CORDON_HOME": str(tmp_path / "home"),
           "CORDON_SECRET_KEY": "deploy-test-" + uuid.uuid4().hex, "CORDON_ALLOWED_HOSTS": "127.0.0.1"}
    with _admin(u) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        cordon(env, ["migrate", "--quiet"])
        citygen = ["citygen", "--population", "2000", "--seed", "7", "--no-progress"]
        _, (_, _, again), _ = cordon(
            env, citygen, (citygen, 1),  # a second run is refused: the city is there
            ["createuser", "chief", "--role", "commander", "--area", "*", "--password", "chief-pass-2022"])
        assert "already has a city" in again
        with psycopg.connect(url) as db:
            districts = [r[0] for r in db.execute("SELECT name FROM places_area WHERE depth = 0 ORDER BY id")]
            residents = db.execute("SELECT count(*) FROM places_resident").fetchone()[0]
        assert districts and residents == 2000

        # two `cordon serve` processes (as behind nginx): log in on one, the session is good on the other
        with served(env) as one, served(env) as two:
            opener = login(one, "chief", "chief-pass-2022")
            for base in (one, two):
                page = opener.open(base + "/areas/", timeout=30).read().decode()
                assert all(d in page for d in districts), "the area list does not show the generated districts"

        # the restore drill (docs/deployment.md): back up, change, restore, the change is gone
        dump = tmp_path / "cordon.dump"
        (_, out, _), _, _, (_, _, refused), _ = cordon(
            env, ["backup", str(dump), "--no-progress"],
            ["import", "areas", str(write_areas(tmp_path / "areas.csv")), "--no-progress"],
            ["createuser", "intern", "--role", "auditor", "--area", "*", "--password", "intern-pass-2022"],
            (["restore", str(dump)], 1),
            ["restore", str(dump), "--force"])
        assert "postgresql" in out and dump.stat().st_size > 0 and "--force" in refused
        with psycopg.connect(url) as db:
            assert db.execute("SELECT count(*) FROM places_area WHERE name = '演练区'").fetchone()[0] == 0
            assert db.execute("SELECT count(*) FROM auth_user WHERE username = 'intern'").fetchone()[0] == 0
            assert db.execute("SELECT count(*) FROM auth_user WHERE username = 'chief'").fetchone()[0] == 1
            assert db.execute("SELECT count(*) FROM places_resident").fetchone()[0] == 2000
            assert [r[0] for r in db.execute("SELECT name FROM places_area WHERE depth = 0 ORDER BY id")] == districts
            assert db.execute("SELECT action FROM core_auditentry ORDER BY id DESC LIMIT 1").fetchone()[0] == \
                "database.restore"
    finally:
        with _admin(u) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _sqlite_content(path: Path, tables=("places_area", "places_household", "places_resident", "auth_user",
                                        "core_grant")) -> dict:
    con = sqlite3.connect(path)
    try:
        return {t: hashlib.sha256(repr(con.execute(f'SELECT * FROM "{t}" ORDER BY id').fetchall()).encode()
                                  ).hexdigest() for t in tables}
    finally:
        con.close()


def test_backup_restore_drill_on_sqlite(tmp_path):
    db = tmp_path / "home" / "cordon.sqlite3"
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update({"CORDON_HOME": str(tmp_path / "home")})
    backup = tmp_path / "backups" / "cordon-1.sqlite3"
    *_, (_, _, missing) = cordon(
        env, ["migrate", "--quiet"], ["citygen", "--population", "300", "--no-progress"],
        ["createuser", "chief", "--role", "commander", "--area", "*", "--password", "chief-pass-2022"],
        (["backup", str(backup)], 1))
    assert "no such folder" in missing
    original = _sqlite_content(db)

    backup.parent.mkdir()
    # the backup, then the change: a new branch of the tree, a new account
    (_, out, _), (_, _, again), _, _ = cordon(
        env, ["backup", str(backup), "--no-progress"], (["backup", str(backup)], 1),
        ["import", "areas", str(write_areas(tmp_path / "areas.csv")), "--no-progress"],
        ["createuser", "intern", "--role", "auditor", "--area", "*", "--password", "intern-pass-2022"])
    assert "sqlite" in out and backup.read_bytes()[:16] == b"SQLite format 3\x00" and "--force" in again
    with sqlite3.connect(db) as con:  # and one resident gone
        con.execute("DELETE FROM places_resident WHERE id = (SELECT max(id) FROM places_resident)")
    assert _sqlite_content(db) != original

    not_a_backup = tmp_path / "notes.sqlite3"
    not_a_backup.write_bytes(b"not a database at all" * 10)
    (_, _, refused), (_, _, bad), (_, out, _) = cordon(
        env, (["restore", str(backup)], 1), (["restore", str(not_a_backup), "--force"], 1),
        ["restore", str(backup), "--force", "--no-progress"])
    assert "--force" in refused and "not an SQLite database" in bad and "restored the sqlite database" in out

    assert _sqlite_content(db) == original  # the change is gone, the data is back
    con = sqlite3.connect(db)
    try:
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert con.execute("SELECT count(*) FROM places_area WHERE name = '演练区'").fetchone()[0] == 0
        assert con.execute("SELECT action FROM core_auditentry ORDER BY id DESC LIMIT 1").fetchone()[0] == \
            "database.restore"
    finally:
        con.close()
    # restoring onto a machine with no database at all needs no --force
    cordon({**env, "CORDON_HOME": str(tmp_path / "fresh")}, ["restore", str(backup), "--no-progress"])
    assert _sqlite_content(tmp_path / "fresh" / "cordon.sqlite3") == original
