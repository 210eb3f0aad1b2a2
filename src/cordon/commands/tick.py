"""``cordon tick [--date D]``: the day-start tick (level changes fall due, flags, observation ends)."""
import datetime as dt
import json


def add_arguments(p):
    p.add_argument("--date", default=None, help="the day to start (default: today, city time)")


def run(args) -> int:
    from cordon.core import clock
    from cordon.zones.actions import tick

    day = dt.date.fromisoformat(args.date) if args.date else clock.today()
    print(json.dumps(tick(day, actor="tick"), ensure_ascii=False))
    return 0
