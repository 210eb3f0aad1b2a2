"""``cordon backup FILE [--force]``: a consistent copy of the configured database (``core.backup``).

The embedded SQLite database is copied with SQLite's online backup API while the servers keep running;
on PostgreSQL this runs ``pg_dump -Fc`` (docs/deployment.md also covers continuous archiving there).
"""
import sys


def add_arguments(p):
    p.add_argument("file", help="where to write the backup")
    p.add_argument("--force", action="store_true", help="overwrite FILE if it exists")
    p.add_argument("--no-progress", action="store_true", help="no progress on stderr")


def progress_printer(enabled: bool):
    state = {"last": -1}

    def show(done: int, total: int) -> None:
        pct = int(100 * done / total) if total else 100
        if enabled and pct // 10 != state["last"]:
            state["last"] = pct // 10
            print(f"  {pct:3d}% of {total:,} pages", file=sys.stderr, flush=True)

    return show


def perform(fn, args) -> dict | None:
    """``fn`` (core.backup's backup or restore) on the command's file and flags; None after printing its
    refusal."""
    from cordon.core.backup import BackupError

    try:
        return fn(args.file, force=args.force, progress=progress_printer(not args.no_progress))
    except BackupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return None


def run(args) -> int:
    from cordon.core.backup import backup

    out = perform(backup, args)
    if out is None:
        return 1
    extra = f", {out['tables']} tables, {out['rows']:,} rows" if "tables" in out else ""
    print(f"backup of the {out['vendor']} database written to {args.file}: {out['bytes']:,} bytes{extra}, "
          f"sha256 {out['sha256']}")
    return 0
