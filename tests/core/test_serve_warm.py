"""``cordon serve`` imports the URL conf in its master before the fork (``commands.serve.warm``): each worker
starts with the routes loaded instead of importing them on its first request, and inherits no database
connection."""
from __future__ import annotations

import json
import os
import subprocess
import sys

PROBE = """
import json, sys
import django
django.setup()
from django.db import connections
from cordon.commands import serve
before = "cordon.config.urls" in sys.modules
if sys.argv[1] == "warm":
    serve.warm()
print(json.dumps([before, "cordon.config.urls" in sys.modules, "cordon.phone.api" in sys.modules,
                  [c.alias for c in connections.all(initialized_only=True) if c.connection is not None]]))
"""


def _probe(tmp_path, how: str) -> list:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "cordon.config.settings", "CORDON_HOME": str(tmp_path)}
    r = subprocess.run([sys.executable, "-c", PROBE, how], env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout.strip().splitlines()[-1])


def test_the_master_imports_the_routes_before_the_fork(tmp_path):
    assert _probe(tmp_path, "cold") == [False, False, False, []]  # lazily imported: by the first request
    assert _probe(tmp_path, "warm") == [False, True, True, []]
