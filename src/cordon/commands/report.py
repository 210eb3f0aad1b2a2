"""``cordon report daily --date D --format pdf|html|json --out FILE``: the daily close (日清日结).

City-wide by default; ``--as USER`` limits it to that user's jurisdiction, ``--district ID`` to a district.
HTML and PDF carry links back to every record (``--base-url``, default http://127.0.0.1:8000/); JSON carries
the records' ids.
"""
from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path


def add_arguments(p):
    sub = p.add_subparsers(dest="report", metavar="REPORT", required=True)
    d = sub.add_parser("daily", help="the daily close of a day")
    d.add_argument("--date", default=None, help="YYYY-MM-DD (default: today)")
    d.add_argument("--format", choices=["pdf", "html", "json"], default="pdf")
    d.add_argument("--out", default=None, help="output file (default: daily-DATE.FORMAT; '-' for stdout)")
    d.add_argument("--as", dest="as_user", default=None, help="only this user's jurisdiction")
    d.add_argument("--district", type=int, default=None, help="only this district (area id)")
    d.add_argument("--base-url", default="http://127.0.0.1:8000/", help="where the links point")
    d.add_argument("--language", default="zh-hans", choices=["zh-hans", "en"])


def run(args) -> int:
    from django.contrib.auth import get_user_model

    from cordon.core import access, clock
    from cordon.places.models import Area
    from cordon.situation import daily
    from cordon.situation.registry import SituationScope

    try:
        day = dt.date.fromisoformat(args.date) if args.date else clock.today()
    except ValueError:
        print(f"error: --date must be YYYY-MM-DD (got {args.date!r})", file=sys.stderr)
        return 2
    district = None
    if args.district is not None:
        district = Area.objects.filter(pk=args.district, kind="district").first()
        if district is None:
            print(f"error: no district with id {args.district}", file=sys.stderr)
            return 2
    if args.as_user:
        User = get_user_model()
        user = User.objects.filter(username=args.as_user).first()
        if user is None:
            print(f"error: no user {args.as_user!r}", file=sys.stderr)
            return 2
        if not access.has_perm(user, access.EXPORT):
            print(f"error: {args.as_user!r} may not export reports (capability {access.EXPORT!r}, "
                  "docs/permissions.md)", file=sys.stderr)
            return 2
        view = SituationScope.for_user(user, district=district, days=14)
        if district is not None and not access.scope_for(user, access.VIEW).contains(district):
            print("error: that district is outside the user's jurisdiction", file=sys.stderr)
            return 2
    else:
        view = SituationScope.city(days=14)
        view.district = district
    body = daily.render(view, day, args.format, base_url=args.base_url, language=args.language)
    out = args.out or f"daily-{day.isoformat()}.{args.format}"
    if out == "-":
        sys.stdout.buffer.write(body)
        return 0
    Path(out).write_bytes(body)
    print(f"daily close {day}: {out} ({len(body):,} bytes, {args.format})")
    return 0
