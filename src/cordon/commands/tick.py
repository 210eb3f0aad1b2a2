"""``cordon tick [--date D]``: the day-start tick (level changes fall due, flags, observation ends)."""
import datetime as dt
import json


def add_arguments(p):
    p.add_argument("--date", default=None, help="the day to start (default: today, city time)")


def run(args) -> int:
    from cordon.cases.actions import do_escalate_overdue
    from cordon.core import clock
    from cordon.core.jobs import day_start

    day = dt.date.fromisoformat(args.date) if args.date else clock.today()
    out = day_start(day, actor="tick")
    out["escalated_tasks"] = do_escalate_overdue(actor="tick")
    print(json.dumps(out, ensure_ascii=False))
    return 0
