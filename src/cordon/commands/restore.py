"""``cordon restore FILE [--force]``: put a ``cordon backup`` back as the configured database (``core.backup``).

Refuses to overwrite a database that holds data without ``--force``. Stop ``cordon serve`` and
``cordon worker`` first (docs/deployment.md, restore drill).
"""


def add_arguments(p):
    p.add_argument("file", help="a file written by cordon backup")
    p.add_argument("--force", action="store_true", help="overwrite the current database")
    p.add_argument("--no-progress", action="store_true", help="no progress on stderr")


def run(args) -> int:
    from cordon.commands.backup import perform
    from cordon.core.backup import restore

    out = perform(restore, args)
    if out is None:
        return 1
    extra = f" ({out['tables']} tables, {out['rows']:,} rows, checked against the backup)" if "tables" in out else ""
    print(f"restored the {out['vendor']} database from {args.file}{extra}")
    return 0
