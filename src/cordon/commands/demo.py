"""``cordon demo``: the one-command trial on the embedded database.

Migrates, generates the synthetic city, creates one demo account per role (printed), runs every app's
demo step so each capability has data to show, then serves the web UI until interrupted.
"""
from __future__ import annotations

import importlib
import os
import sys
import time
from pathlib import Path

DEMO_PASSWORD = "cordon-demo-2022"

#: (username, role, area path or None for the whole city)
DEMO_ACCOUNTS = [
    ("commander", "commander", None),
    ("deputy", "commander", None),          # the second pair of eyes: approves what the commander drafts
    ("district", "district_officer", "城关区"),
    ("street", "street_officer", "城关区/皋兰路街道"),
    ("community", "community_worker", "城关区/皋兰路街道/五泉社区"),
    ("hotline", "hotline_operator", None),
    ("dispatcher", "medical_dispatcher", None),
    ("logistics", "logistics_officer", None),
    ("keyplace", "keyplace_manager", "城关区/皋兰路街道/五泉社区/五泉小区"),
    ("employer", "employer_contact", None),   # a delivery platform's contact: their own riders only
    ("checkpoint", "checkpoint_officer", "城关区"),
    ("volunteer", "volunteer", "城关区/皋兰路街道/五泉社区"),  # the field app's deliveries; a volunteer of the team
    ("auditor", "auditor", None),
]

#: Demo steps of each app, run in order after the city and accounts exist: "module:function".
DEMO_STEPS = [
    "cordon.places.demo:run",
    "cordon.maps.demo:run",
    "cordon.zones.demo:run",
    "cordon.cases.demo:run",
    "cordon.cases.demo:playbooks",
    "cordon.screening.demo:run",
    "cordon.care.demo:run",
    "cordon.hotline.demo:run",
    "cordon.supplies.demo:run",
    "cordon.keyworkers.demo:run",
    "cordon.passes.demo:run",
    "cordon.keyplaces.demo:run",
    "cordon.resources.demo:run",
    "cordon.situation.demo:run",
    "cordon.command.demo:run",
    "cordon.phone.demo:run",
]


def add_arguments(p):
    p.add_argument("--population", type=int, default=50_000)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--no-serve", action="store_true", help="build, then stop")
    p.add_argument("--reset", action="store_true", help="delete the demo database and build it anew")


def before_django(args) -> None:
    if os.environ.pop("DATABASE_URL", None):
        print("note: the demo runs on the embedded database; DATABASE_URL is ignored here", file=sys.stderr)
    home = Path(os.environ.get("CORDON_HOME", Path.cwd() / ".cordon")).resolve()
    os.environ["CORDON_HOME"] = str(home)
    if args.reset:
        for suffix in ("", "-wal", "-shm"):
            (home / f"cordon.sqlite3{suffix}").unlink(missing_ok=True)


def run(args) -> int:
    from django.core.management import call_command

    from cordon.places.models import Area

    t0 = time.monotonic()
    print("Cordon demo: preparing the embedded database ...", flush=True)
    call_command("migrate", interactive=False, verbosity=0)
    if Area.objects.exists():
        print(f"Reusing the existing demo city ({Area.objects.filter(depth=0).count()} districts); "
              "use --reset to build it anew.")
    else:
        from cordon.places.bulk import load_city

        print(f"Generating a synthetic city of {args.population:,} residents (seed {args.seed}) ...", flush=True)
        load_city(args.population, args.seed, progress=True)
        create_accounts()
        run_steps()
    print_accounts()
    print(f"\nField app for phones (sign in as community, street or volunteer; works offline once opened): "
          f"http://{args.host}:{args.port}/app/")
    print(f"Ready in {time.monotonic() - t0:.0f}s.")
    if args.no_serve:
        return 0
    from cordon.commands.serve import serve
    from django.db import connections

    connections.close_all()
    print(f"\nOpen http://{args.host}:{args.port}/  (Ctrl+C to stop)", flush=True)
    serve(args.host, args.port, args.workers)
    return 0


def run_steps() -> None:
    """Every app's demo step, in order. They replay the outbreak's days under a pinned clock; nothing is
    dated after the moment the demo is built (``clock.not_after``)."""
    from cordon.core import clock

    with clock.not_after(clock.now()):
        for step in DEMO_STEPS:
            module, func = step.split(":")
            getattr(importlib.import_module(module), func)()


def create_accounts() -> None:
    from cordon.core.actions import do_create_user
    from cordon.places.models import Area

    for username, role, path in DEMO_ACCOUNTS:
        area = Area.objects.get(path=path) if path else None
        do_create_user(username, DEMO_PASSWORD, role=role, area=area, actor="demo", reason="demo account")


def print_accounts() -> None:
    from cordon.core.models import Grant

    print("\nDemo accounts (password for all: %s)" % DEMO_PASSWORD)
    for g in Grant.objects.select_related("user", "area").filter(user__username__in=[a[0] for a in DEMO_ACCOUNTS]) \
            .order_by("user__id"):
        print(f"  {g.user.username:<11} {g.role:<20} {g.area.path if g.area_id else '全市 whole city'}")
