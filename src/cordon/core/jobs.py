"""The day-start jobs, in order. ``cordon tick`` and ``cordon worker`` run them; the scenario runner too."""
from __future__ import annotations

import datetime as dt
import importlib

DAY_START_JOBS = [
    ("areas", "cordon.zones.actions:do_tick"),          # level changes fall due, #3 flags, observation ends
    ("orders", "cordon.cases.actions:do_release_due"),  # orders that have ended are released
    ("care_tasks", "cordon.care.actions:do_sync_proactive_tasks"),  # special-group needs inside seals
    ("supplies", "cordon.supplies.actions:do_close_day"),  # yesterday's stock reconciled per warehouse
    ("passes", "cordon.passes.actions:do_sync_passes"),  # passes suspended / active again by their holders
    ("keyplaces", "cordon.keyplaces.actions:do_flag_untested"),  # people inside a closed loop past their test
]


#: The jobs run every few minutes: name -> the action called with ``(now, actor=...)``.
NOW_JOBS = {
    "escalate": "cordon.cases.actions:do_escalate_overdue",            # response tasks past their deadline
    "hotline_escalate": "cordon.hotline.actions:do_escalate_overdue",  # tickets past their deadline
    "screening_close": "cordon.screening.actions:do_close_complete_rounds",  # rounds whose results are all in
    "upload_files": "cordon.core.actions:do_delete_upload_files",  # uploaded files past their retention
    "notify": "cordon.core.notify:job",                                # notifications not yet sent, retried
    "orders_escalate": "cordon.command.actions:do_escalate_orders",    # orders unacknowledged or overdue
}


def resolve(ref: str):
    """The function a ``"module:function"`` reference names (imported when a job runs: the apps sit above core)."""
    module, func = ref.split(":")
    return getattr(importlib.import_module(module), func)


def day_start_steps(on: dt.date, *, actor="system") -> list[tuple[str, object]]:
    """The day start as (step name, callable) pairs, for runners that commit step by step (``core.periodic``)."""
    steps = []
    for name, ref in DAY_START_JOBS:
        fn = resolve(ref)
        steps.append((name, lambda fn=fn: fn(on, actor=actor)))
    return steps


def day_start(on: dt.date, *, actor="system") -> dict:
    out = {"date": on.isoformat()}
    for name, fn in day_start_steps(on, actor=actor):
        out[name] = fn()
    return out
