"""Every bench ends with one JSON line that carries the machine's calibration loop time."""
from __future__ import annotations

import json

from cordon.bench import common


def test_emit_prints_table_then_json_with_calibration(capsys, monkeypatch):
    monkeypatch.setattr(common, "calibration_s", lambda: 1.234)
    common.emit("demo", [("round (s)", 4.5)], {"seconds": 4.5, "ratio": 1.2})
    out = capsys.readouterr().out.strip().splitlines()
    last = json.loads(out[-1])
    assert last == {"bench": "demo", "seconds": 4.5, "ratio": 1.2, "peak_rss_mb": last["peak_rss_mb"],
                    "calibration_s": 1.234}
    assert any("calibration" in line and "1.234" in line for line in out[:-1])


def test_calibration_loop_is_timed():
    assert 0 < common.calibration_s() < 120


def test_keyworkers_bench_runs_the_parts_named():
    import argparse

    import pytest

    from cordon.bench import keyworkers

    def names(parts):
        p = argparse.ArgumentParser()
        keyworkers.add_arguments(p)
        return [m.__name__.rsplit(".", 1)[-1] for m in keyworkers.chosen(p.parse_args(["--parts", parts]))]

    assert names("") == list(keyworkers.PARTS)
    assert names("checks") == ["_keyworkers_checks"]
    assert names("feed, overdue") == ["_keyworkers_overdue", "_keyworkers_feed"]  # in the bench's order
    with pytest.raises(SystemExit):
        names("check")
