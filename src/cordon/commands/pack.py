"""``cordon pack use NAME --from DATE --reason R`` / ``cordon pack show``: which policy pack the deployment
applies from which date (audited). ``cordon policy`` checks and prints pack files without a database."""
import datetime as dt
import sys


def add_arguments(p):
    sub = p.add_subparsers(dest="action", required=True)
    u = sub.add_parser("use", help="apply pack NAME (or a pack file) from a date")
    u.add_argument("name")
    u.add_argument("--from", dest="start", required=True, help="YYYY-MM-DD")
    u.add_argument("--reason", required=True)
    sub.add_parser("show", help="the active pack and the history of changes")


def run(args) -> int:
    from cordon.core.actions import ActionError, do_set_pack
    from cordon.core.models import PackSetting
    from cordon.core.packs import active_pack_name

    if args.action == "use":
        try:
            start = dt.date.fromisoformat(args.start)
            s = do_set_pack(args.name, effective_from=start, actor="cli", reason=args.reason)
        except ValueError:
            print(f"error: --from must be a date YYYY-MM-DD, got {args.start!r}", file=sys.stderr)
            return 2
        except ActionError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        print(f"pack {s.pack} applies from {s.effective_from}")
        return 0
    print(f"active today: {active_pack_name()}")
    for s in PackSetting.objects.order_by("effective_from", "id"):
        print(f"  from {s.effective_from}: {s.pack}  ({s.created_by}: {s.reason})")
    return 0
