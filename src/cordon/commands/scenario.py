"""``cordon scenario run FILE.yaml``: a scenario through the real actions on a throwaway database."""
from __future__ import annotations

import json
import os
import sys
import tempfile


def add_arguments(p):
    sub = p.add_subparsers(dest="action", required=True)
    r = sub.add_parser("run", help="run a scenario, print JSON to stdout")
    r.add_argument("file")
    r.add_argument("--keep-db", default=None, help="keep the scenario's database in this folder")


def before_django(args) -> None:
    # A throwaway embedded database, whatever the deployment's settings say.
    os.environ.pop("DATABASE_URL", None)
    home = args.keep_db or tempfile.mkdtemp(prefix="cordon-scenario-")
    os.environ["CORDON_HOME"] = os.path.abspath(home)
    os.environ.pop("CORDON_TODAY", None)
    args._home = home


def run(args) -> int:
    try:
        return _run(args)
    finally:
        if not args.keep_db:  # the throwaway home goes, whether the scenario ran or was refused
            import shutil

            from django.db import connections

            connections.close_all()
            shutil.rmtree(args._home, ignore_errors=True)


def _run(args) -> int:
    from django.core.management import call_command

    from cordon.scenario import runner
    from cordon.scenario.spec import ScenarioError, parse

    from cordon.tabular import FileError, read_text

    runner.load_plugins()
    try:
        text = read_text(args.file)  # UTF-8 (or GB18030/UTF-16); a binary file is refused naming its line
    except FileError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    try:
        sc = parse(text)
    except ScenarioError as exc:
        print(f"{args.file}:{exc.line}: {exc.reason}", file=sys.stderr)
        return 2
    call_command("migrate", interactive=False, verbosity=0)
    out = runner.run(sc)
    json.dump(out, sys.stdout, ensure_ascii=False)
    sys.stdout.write("\n")
    return 0
