"""``cordon import KIND FILE``: the same pipelines the pages use."""
import sys
import time
from pathlib import Path


def add_arguments(p):
    p.add_argument("kind", choices=["residents"], help="what the file holds")
    p.add_argument("file")
    p.add_argument("--as", dest="as_user", default=None, help="import as this user (their jurisdiction applies)")
    p.add_argument("--errors", default=None, help="where to write the error report (default FILE.errors.csv)")


def run(args) -> int:
    from django.contrib.auth import get_user_model

    from cordon.places.importer import ImportFileError, import_residents

    actor = "cli"
    if args.as_user:
        try:
            actor = get_user_model().objects.get(username=args.as_user)
        except get_user_model().DoesNotExist:
            print(f"error: no user {args.as_user!r}", file=sys.stderr)
            return 1
    t0 = time.monotonic()

    def progress(rep):
        print(f"\r  {rep.rows:,} rows read, {rep.ok:,} kept, {len(rep.errors):,} errors", end="", file=sys.stderr)

    try:
        report = import_residents(args.file, actor=actor, progress=progress)
    except ImportFileError as exc:
        print(f"\nerror: {exc}", file=sys.stderr)
        return 2
    print(file=sys.stderr)
    print(f"{report.file}: {report.rows} rows in {time.monotonic() - t0:.1f}s: {report.created} created, "
          f"{report.updated} updated, {report.unchanged} unchanged, {len(report.errors)} bad rows")
    if report.errors:
        out = Path(args.errors or f"{args.file}.errors.csv")
        report.write_errors(out)
        for e in report.errors[:20]:
            print(f"  line {e.line}: {e.field}: {e.reason}")
        if len(report.errors) > 20:
            print(f"  ... {len(report.errors) - 20} more")
        print(f"error report: {out}")
    return 0 if not report.errors else 1
