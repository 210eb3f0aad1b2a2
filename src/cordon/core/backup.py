"""Backups of the configured database: ``cordon backup FILE`` / ``cordon restore FILE`` (docs/deployment.md).

- Embedded SQLite: SQLite's online backup API (``sqlite3.Connection.backup``), page by page, while the
  servers keep running: the copy is a consistent snapshot of one moment, checked (``quick_check``) and written
  as one self-contained file (rollback journal, no ``-wal``), under a temporary name renamed into place.
  Restore copies a checked backup back through the same API into the live database file (readers see the
  old or the new database, never a mix), then compares the restored tables (schema and row count of each)
  with the backup's.
- PostgreSQL: ``pg_dump -Fc`` (the custom format, restorable with ``pg_restore``); restore runs
  ``pg_restore --clean --if-exists --no-owner --single-transaction`` into the configured database (all or
  nothing). Both need the PostgreSQL client programs on the PATH, of the server's major version or newer.

Each run writes an audit row into the database it leaves behind (``database.backup``, ``database.restore``).
"""
from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

from cordon.tabular import sha256_of

SQLITE_MAGIC = b"SQLite format 3\x00"


class BackupError(Exception):
    """A backup or restore that cannot be done (one line, for the CLI)."""


def _db():
    from django.conf import settings

    return settings.DATABASES["default"]


def vendor() -> str:
    return "postgresql" if _db()["ENGINE"].endswith("postgresql") else "sqlite"


def _audit(action: str, after: dict) -> None:
    from django.db import connections

    from cordon.core import audit

    connections.close_all()  # the file under the ORM's connection may have been replaced
    audit.record(action, actor="cli", object_type="database", object_id=after.get("sha256", "")[:16],
                 object_repr=after.get("file", ""), after=after, reason=f"cordon {action.split('.')[1]}")


# ---------------------------------------------------------------------------------------------- SQLite
def _sqlite_tables(con: sqlite3.Connection) -> dict[str, tuple[str, int]]:
    """{table: (its CREATE statement, its row count)} for every table of the database."""
    out = {}
    for name, sql in con.execute("SELECT name, sql FROM sqlite_master WHERE type = 'table' "
                                 "AND name NOT LIKE 'sqlite_%' ORDER BY name").fetchall():
        out[name] = (sql, con.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0])
    return out


def _check_sqlite_file(path: Path) -> None:
    with open(path, "rb") as fh:
        if fh.read(16) != SQLITE_MAGIC:
            raise BackupError(f"{path}: not an SQLite database file")
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        ok = con.execute("PRAGMA quick_check").fetchone()[0]
        if ok != "ok":
            raise BackupError(f"{path}: damaged database ({ok})")
        if not con.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'django_migrations'"
                           ).fetchone():
            raise BackupError(f"{path}: not a Cordon database (no django_migrations table)")
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{path}: unreadable database ({exc})") from None
    finally:
        con.close()


def backup_sqlite(dest: Path, *, progress=None) -> dict:
    src_path = Path(_db()["NAME"])
    if not src_path.exists():
        raise BackupError(f"{src_path}: no database to back up (run cordon migrate first)")
    tmp = dest.with_name(f".{dest.name}.partial")
    tmp.unlink(missing_ok=True)
    src = sqlite3.connect(src_path, timeout=30)
    try:
        dst = sqlite3.connect(tmp)
        try:
            def step(_status, remaining, total):
                if progress:
                    progress(total - remaining, total)

            src.backup(dst, pages=4096, progress=step)
            dst.execute("PRAGMA journal_mode = DELETE")  # one self-contained file
            ok = dst.execute("PRAGMA quick_check").fetchone()[0]
            tables = _sqlite_tables(dst)
        finally:
            dst.close()
    finally:
        src.close()
    if ok != "ok":
        tmp.unlink(missing_ok=True)
        raise BackupError(f"the copy failed its check ({ok}); nothing written to {dest}")
    os.replace(tmp, dest)
    return {"file": dest.name, "vendor": "sqlite", "bytes": dest.stat().st_size, "sha256": sha256_of(dest),
            "tables": len(tables), "rows": sum(n for _, n in tables.values())}


def sqlite_has_data(path: Path) -> bool:
    if not path.exists() or path.stat().st_size == 0:
        return False
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return bool(con.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'").fetchone()[0])
    except sqlite3.DatabaseError:
        return True  # something is there that is not an empty database: do not overwrite it silently
    finally:
        con.close()


def restore_sqlite(src_file: Path, *, force: bool, progress=None) -> dict:
    from django.db import connections

    _check_sqlite_file(src_file)
    target = Path(_db()["NAME"])
    if sqlite_has_data(target) and not force:
        raise BackupError(f"{target} already holds a database; pass --force to overwrite it with {src_file}")
    connections.close_all()
    target.parent.mkdir(parents=True, exist_ok=True)
    src = sqlite3.connect(f"file:{src_file}?mode=ro", uri=True)
    try:
        want = _sqlite_tables(src)
        dst = sqlite3.connect(target, timeout=30)
        try:
            def step(_status, remaining, total):
                if progress:
                    progress(total - remaining, total)

            src.backup(dst, pages=4096, progress=step)
            dst.execute("PRAGMA journal_mode = WAL")  # the embedded database's own mode (settings)
            got = _sqlite_tables(dst)
            ok = dst.execute("PRAGMA quick_check").fetchone()[0]
        finally:
            dst.close()
    finally:
        src.close()
    if ok != "ok" or got != want:
        differ = sorted(t for t in set(want) | set(got) if want.get(t) != got.get(t))
        raise BackupError(f"the restored database differs from {src_file} ({ok}; tables {', '.join(differ[:5])})")
    return {"file": src_file.name, "vendor": "sqlite", "sha256": sha256_of(src_file), "tables": len(got),
            "rows": sum(n for _, n in got.values())}


# ---------------------------------------------------------------------------------------------- PostgreSQL
def _pg_args_env() -> tuple[list[str], dict]:
    db = _db()
    env = dict(os.environ)
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = db["PASSWORD"]
    return ["-h", str(db["HOST"]), "-p", str(db["PORT"]), "-U", str(db["USER"])], env


def _tool(name: str) -> str:
    path = shutil.which(name)
    if not path:
        raise BackupError(f"{name} not found: install the PostgreSQL client programs (see docs/deployment.md)")
    return path


def _run(cmd: list[str], env: dict) -> None:
    r = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if r.returncode:
        msg = (r.stderr.strip().splitlines() or [f"exit {r.returncode}"])[-1]
        raise BackupError(f"{Path(cmd[0]).name} failed: {msg}")


def backup_postgres(dest: Path) -> dict:
    args, env = _pg_args_env()
    tmp = dest.with_name(f".{dest.name}.partial")
    tmp.unlink(missing_ok=True)
    try:
        _run([_tool("pg_dump"), "-Fc", *args, "-d", _db()["NAME"], "-f", str(tmp)], env)
    except BackupError:
        tmp.unlink(missing_ok=True)
        raise
    os.replace(tmp, dest)
    return {"file": dest.name, "vendor": "postgresql", "bytes": dest.stat().st_size, "sha256": sha256_of(dest)}


def restore_postgres(src_file: Path, *, force: bool) -> dict:
    from django.db import connections

    args, env = _pg_args_env()
    pg_restore = _tool("pg_restore")
    r = subprocess.run([pg_restore, "-l", str(src_file)], env=env, capture_output=True, text=True)
    if r.returncode:
        raise BackupError(f"{src_file}: not a pg_dump -Fc archive")
    if not force:
        raise BackupError(f"restoring replaces every table of database {_db()['NAME']}; "
                          "stop the servers and workers, then pass --force")
    connections.close_all()
    _run([pg_restore, "--clean", "--if-exists", "--no-owner", "--single-transaction", "--exit-on-error",
          *args, "-d", _db()["NAME"], str(src_file)], env)
    return {"file": src_file.name, "vendor": "postgresql", "sha256": sha256_of(src_file)}


# ---------------------------------------------------------------------------------------------- entry points
def backup(dest, *, force: bool = False, progress=None) -> dict:
    dest = Path(dest)
    if dest.exists() and not force:
        raise BackupError(f"{dest} exists; pass --force to overwrite it")
    if dest.parent and not dest.parent.exists():
        raise BackupError(f"{dest.parent}: no such folder")
    out = backup_postgres(dest) if vendor() == "postgresql" else backup_sqlite(dest, progress=progress)
    _audit("database.backup", out)
    return out


def restore(src_file, *, force: bool = False, progress=None) -> dict:
    src_file = Path(src_file)
    if not src_file.is_file():
        raise BackupError(f"{src_file}: no such file")
    if vendor() == "postgresql":
        out = restore_postgres(src_file, force=force)
    else:
        out = restore_sqlite(src_file, force=force, progress=progress)
    _audit("database.restore", out)
    return out
