"""No import cycle at module level: every module of ``cordon`` imports cleanly when it is the first one
imported after Django is set up (a cycle shows as an ImportError naming a partially initialized module).

One subprocess sets Django up, then forks a child per module, so each child starts from the same fresh
state (only what ``django.setup()`` loads: settings, apps and models) and imports one module first."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import cordon

SRC = Path(cordon.__file__).parent
SKIP = {"cordon.__main__"}  # runs the CLI when imported


def modules() -> list[str]:
    out = []
    for p in sorted(SRC.rglob("*.py")):
        rel = p.relative_to(SRC.parent).with_suffix("")
        if "migrations" in rel.parts:
            continue
        name = ".".join(rel.parts[:-1] if rel.name == "__init__" else rel.parts)
        if name not in SKIP:
            out.append(name)
    return out


CHILD = textwrap.dedent("""
    import importlib, os, sys, traceback
    import django
    django.setup()
    failed = []
    for name in sys.argv[1:]:
        pid = os.fork()
        if pid == 0:
            try:
                importlib.import_module(name)
            except BaseException:
                traceback.print_exc()
                os._exit(1)
            os._exit(0)
        _, status = os.waitpid(pid, 0)
        if status != 0:
            failed.append(name)
    print("FAILED " + " ".join(failed))
    sys.exit(1 if failed else 0)
""")


def test_every_module_imports_first():
    names = modules()
    assert "cordon.situation.api" in names and "cordon.config.api" in names
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "cordon.config.settings"}
    r = subprocess.run([sys.executable, "-c", CHILD, *names], capture_output=True, text=True, env=env,
                       timeout=600)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-6000:]
