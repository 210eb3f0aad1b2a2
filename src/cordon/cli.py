"""The ``cordon`` command.

Each subcommand lives in its own module with ``add_arguments(parser)`` and ``run(args) -> int``.
Modules of the pure cores (policy, epi) run without Django; the rest get Django set up first.

Errors are one line on stderr and a non-zero exit, never a traceback (``main``): a file refused as a whole
(``tabular.FileError``) as ``FILE:LINE: reason`` (exit 2), a wrong option as ``cordon ...: reason``
(exit 2), anything unexpected as ``cordon: COMMAND: reason`` (exit 1). ``--traceback`` (or
``CORDON_TRACEBACK=1``) lets an unexpected error through with its traceback, for developers.
"""
from __future__ import annotations

import argparse
import importlib
import os
import sys

# name: (module, needs_django, help)
COMMANDS: dict[str, tuple[str, bool, str]] = {
    "demo": ("cordon.commands.demo", True, "build the demo city on the embedded database and serve it"),
    "serve": ("cordon.commands.serve", True, "run the production web server"),
    "migrate": ("cordon.commands.migrate", True, "create or upgrade the database tables"),
    "createuser": ("cordon.commands.createuser", True, "create an account with a role over an area"),
    "import": ("cordon.commands.importer", True, "import records from CSV/XLSX files"),
    "citygen": ("cordon.commands.citygen", True, "generate the synthetic city into the configured database"),
    "backup": ("cordon.commands.backup", True, "back up the configured database to a file"),
    "restore": ("cordon.commands.restore", True, "restore the configured database from a cordon backup file"),
    "report": ("cordon.commands.report", True, "daily close report (PDF/HTML/JSON)"),
    "tick": ("cordon.commands.tick", True, "day start: level changes fall due, guardrail flags"),
    "worker": ("cordon.commands.worker", True, "run the task queue (uploads) and the periodic jobs (day-start tick) until stopped"),
    "scenario": ("cordon.commands.scenario", True, "run a scenario file through the real actions"),
    "bench": ("cordon.bench.runner", True, "run a benchmark (last line: JSON figures)"),
    "policy": ("cordon.policy.cli", False, "check or show a policy pack"),
    "pack": ("cordon.commands.pack", True, "select the deployment's policy pack from a date (audited)"),
    "epi": ("cordon.epi.cli", False, "epidemiology tools (reproduction number)"),
}


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cordon.config.settings")
    import django

    django.setup()


class _Parser(argparse.ArgumentParser):
    """A wrong option or argument is one line too (no usage block: ``cordon COMMAND -h`` shows it)."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: {message} (see {self.prog} -h)\n")


def _one_line(text: str, limit: int = 500) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="cordon", description="Cordon outbreak response command platform")
    parser.add_argument("--traceback", action="store_true", default=bool(os.environ.get("CORDON_TRACEBACK")),
                        help="show the traceback of an unexpected error (also CORDON_TRACEBACK=1)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module, _dj, help_text) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        try:
            mod = importlib.import_module(module)
        except ModuleNotFoundError as exc:  # a command whose module is not installed
            if exc.name != module:
                raise
            continue
        mod.add_arguments(p)
        p.set_defaults(_module=module, _django=_dj)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "_module", None):
        parser.print_help()
        return 2
    from cordon.tabular import FileError

    try:
        mod = importlib.import_module(args._module)
        if hasattr(mod, "before_django"):
            mod.before_django(args)
        if args._django:
            setup_django()
        return int(mod.run(args) or 0)
    except KeyboardInterrupt:
        return 130
    except FileError as exc:  # a file refused as a whole: FILE:LINE: reason
        print(_one_line(str(exc)), file=sys.stderr)
        return 2
    except BrokenPipeError:  # output piped into a reader that stopped (e.g. head)
        return 1
    except Exception as exc:  # noqa: BLE001 - the one place where any command's failure becomes one line
        if args.traceback:
            raise
        print(_one_line(f"cordon: {args.command}: {type(exc).__name__}: {exc}")
              + " (run with --traceback for the details)", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
