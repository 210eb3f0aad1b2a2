"""A shipped configuration file with one edit, loaded the way the app loads it: for the tests of the line-numbered
errors of each app's configuration (care's triage.yaml, hotline's desk.yaml, supplies' supplies.yaml)."""
from __future__ import annotations

from pathlib import Path

import pytest

from cordon.policy.schema import Invalid


def broken(tmp_path, shipped: Path, load, old: str, new: str):
    """Copy ``shipped`` with its first ``old`` replaced by ``new``, load it with ``load`` (which must refuse it) and
    return (the error lines, the copy's path, the line ``old`` stood on)."""
    text = shipped.read_text(encoding="utf-8")
    assert old in text
    f = tmp_path / shipped.name
    f.write_text(text.replace(old, new, 1), encoding="utf-8")
    line = text[:text.index(old)].count("\n") + 1
    with pytest.raises(Invalid) as exc:
        load(f)
    return str(exc.value).splitlines()[1:], f, line
