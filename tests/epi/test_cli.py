"""`cordon epi rt` / `cordon epi doubling` end to end through cordon.cli.main (no database)."""
from __future__ import annotations

import json

import pytest

from cordon.cli import main

from ._data import COLUMNS, DATA, SHANGHAI, needs_data, read_dicts

pytestmark = needs_data

KEYS = ["t_start", "t_end", "mean", "std", "q025", "q05", "q25", "median", "q75", "q95", "q975"]


def run(capsys, *argv):
    rc = main(["epi", *map(str, argv)])
    out, err = capsys.readouterr()
    return rc, out, err


def json_lines(out: str) -> list[dict]:
    return [json.loads(line) for line in out.splitlines() if line.strip()]


@pytest.mark.parametrize(
    "expected,args",
    [
        ("expected_Example1_R_fullprec.csv", ["--si-distr", DATA / "Flu2009_si_distr.csv"]),
        ("expected_Example3_R_fullprec.csv", ["--mean-si", "2.6", "--std-si", "1.5"]),
        ("expected_Example3_R_fullprec.csv", []),  # 2.6 / 1.5 are the defaults
    ],
)
def test_rt_matches_epiestim(capsys, expected, args):
    rc, out, err = run(capsys, "rt", DATA / "Flu2009_incidence.csv", *args, "--window", 7,
                       "--mean-prior", 5, "--std-prior", 5)
    assert rc == 0, err
    rows = json_lines(out)
    exp = read_dicts(DATA / expected)
    assert len(rows) == len(exp) == 25
    for got, e in zip(rows, exp):
        assert list(got)[: len(KEYS)] == KEYS
        assert (got["t_start"], got["t_end"]) == (int(e["t_start"]), int(e["t_end"]))
        assert (got["date_start"], got["date_end"]) == (e["date_start"], e["date_end"])
        for col, key in COLUMNS.items():
            assert got[key] == pytest.approx(float(e[col]), rel=1e-9, abs=0)


def test_rt_local_imported_without_dates(tmp_path, capsys):
    f = tmp_path / "inc.csv"
    f.write_text("local,imported\n0,2\n1,0\n2,1\n3,0\n2,0\n4,1\n5,0\n6,0\n4,0\n", encoding="utf-8")
    rc, out, err = run(capsys, "rt", f, "--window", 3)
    assert rc == 0, err
    rows = json_lines(out)
    assert [(r["t_start"], r["t_end"]) for r in rows] == [(s, s + 2) for s in range(2, 8)]
    assert all(list(r) == KEYS for r in rows)  # no date keys without a date column


def test_rt_column_option_on_shanghai(capsys):
    if not SHANGHAI.exists():
        pytest.skip("Shanghai data not available")
    rc, out, err = run(capsys, "rt", SHANGHAI, "--column", "new_local_infections", "--mean-si", 3.5, "--std-si", 2)
    assert rc == 0, err
    rows = json_lines(out)
    assert len(rows) == 292 - 7
    assert rows[0]["date_start"] == "2022-02-27"
    april = [r for r in rows if r["date_end"] == "2022-04-30"][0]
    assert april["q975"] < 1  # the wave was shrinking by the end of April


def test_doubling(tmp_path, capsys):
    f = tmp_path / "inc.csv"
    f.write_text("date,I\n" + "".join(f"2022-04-{d:02d},{2 ** (d - 1)}\n" for d in range(1, 9)), encoding="utf-8")
    rc, out, err = run(capsys, "doubling", f, "--window", 4)
    assert rc == 0, err
    rows = json_lines(out)
    assert len(rows) == 5
    assert rows[0]["kind"] == "doubling" and rows[0]["time"] == pytest.approx(1.0)
    assert rows[-1]["date_end"] == "2022-04-08"


def test_doubling_zero_window_is_null(tmp_path, capsys):
    f = tmp_path / "inc.csv"
    f.write_text("I\n0\n1\n2\n4\n", encoding="utf-8")
    rc, out, err = run(capsys, "doubling", f, "--window", 3)
    assert rc == 0, err
    rows = json_lines(out)
    assert rows[0]["time"] is None and rows[0]["note"]
    assert rows[1]["time"] == pytest.approx(1.0)


@pytest.mark.parametrize(
    "content,needles",
    [
        ("t,I\n1,1\n2,3\n3,-2\n4,5\n5,1\n6,1\n7,1\n8,1\n9,1\n", ["line 4", "'I'", "negative"]),
        ("t,cases\n1,1\n2,3\n", ["line 1", "missing column", "'I'", "local"]),
        ("t,local\n1,1\n2,3\n", ["line 1", "missing column 'imported'"]),
        ("I\n1\n2\nabc\n4\n5\n6\n7\n8\n9\n", ["line 4", "'I'", "not a number"]),
        ("I\n1\n2\n3\n2.5\n6\n7\n8\n9\n", ["line 5", "whole number"]),
        ("I\n1\n2\n\n3\n2\n6\n7\n8\n9\n", ["line 4", "blank line between data rows"]),
        ("local,imported\n1,0\n2,\n3,0\n", ["line 3", "'imported'", "empty"]),
        ("I\n1\n2\n3\n", ["too short", "3 day", "8"]),
        ("", ["empty file"]),
        ("I\n", ["no data rows"]),
        ("date,I\n2022-04-01,1\n2022-04-03,2\n", ["line 3", "'date'", "consecutive"]),
        ("date,I\n2022-04-01,1\n04/02/2022,2\n", ["line 3", "'date'", "ISO"]),
    ],
)
def test_rt_bad_input(tmp_path, capsys, content, needles):
    f = tmp_path / "bad.csv"
    f.write_text(content, encoding="utf-8")
    rc, out, err = run(capsys, "rt", f)
    assert rc != 0
    assert out == ""
    for n in needles:
        assert n in err, (n, err)
    assert str(f) in err


@pytest.mark.parametrize(
    "content,needles",
    [
        ("k,w\n0,0.1\n1,0.9\n", ["line 2", "'w'", "start with 0"]),
        ("k,w\n0,0\n1,0.5\n2,0.2\n", ["sum to 1", "0.7"]),
        ("k,w\n0,0\n1,x\n", ["line 3", "'w'", "not a number"]),
        ("k,w\n0,0\n1,1.2\n2,-0.2\n", ["line 4", "negative"]),
        ("k,p\n0,0\n1,1\n", ["line 1", "missing column 'w'"]),
        ("0\n0.5\n0.5\n", None),  # headerless, one number per line: fine
    ],
)
def test_rt_bad_si_distr(tmp_path, capsys, content, needles):
    si = tmp_path / "si.csv"
    si.write_text(content, encoding="utf-8")
    rc, out, err = run(capsys, "rt", DATA / "Flu2009_incidence.csv", "--si-distr", si)
    if needles is None:
        assert rc == 0, err
        assert len(json_lines(out)) == 25
        return
    assert rc != 0 and out == ""
    for n in needles:
        assert n in err, (n, err)


def test_rt_conflicting_options(capsys):
    rc, out, err = run(capsys, "rt", DATA / "Flu2009_incidence.csv", "--si-distr", DATA / "Flu2009_si_distr.csv",
                       "--mean-si", 3)
    assert rc != 0 and "not both" in err


@pytest.mark.parametrize("args,needle", [(["--mean-si", "0.5"], "--mean-si"), (["--std-si", "0"], "--std-si"),
                                         (["--mean-prior", "-1"], "--mean-prior"), (["--window", "0"], "window"),
                                         (["--mean-si", "1e308"], "--mean-si must be more than 1 and at most 100"),
                                         (["--std-si", "1e308"], "--std-si"), (["--mean-si", "nan"], "--mean-si"),
                                         (["--std-prior", "inf"], "--std-prior"),
                                         (["--window", "99999999"], "--window must be from 1 to 365")])
def test_rt_bad_parameters(capsys, args, needle):
    """Absurd numeric options are refused with their bounds, in one line, before any work."""
    rc, out, err = run(capsys, "rt", DATA / "Flu2009_incidence.csv", *args)
    assert rc != 0 and needle in err and out == ""
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_missing_file(capsys, tmp_path):
    rc, out, err = run(capsys, "rt", tmp_path / "nope.csv")
    assert rc != 0 and "no such file" in err


def test_no_subcommand_prints_help(capsys):
    rc, out, err = run(capsys)
    assert rc == 2 and "rt" in out
