"""`cordon policy check|show|list`."""
from __future__ import annotations

import argparse
import subprocess
import sys

from cordon.policy import cli
from cordon.policy.pack import PACKS_DIR


def run(argv):
    parser = argparse.ArgumentParser(prog="cordon policy")
    cli.add_arguments(parser)
    return cli.run(parser.parse_args(argv))


def test_check_ok(capsys):
    assert run(["check", str(PACKS_DIR / "ninth-edition.yaml")]) == 0
    out = capsys.readouterr().out
    assert out.startswith("ok: ninth-edition") and "levels high, medium, low" in out


def test_check_errors(tmp_path, capsys):
    f = tmp_path / "bad.yaml"
    text = (PACKS_DIR / "twenty-measures.yaml").read_text(encoding="utf-8")
    f.write_text(text.replace("      clean_days: 5\n", "      clean_days: -5\n", 1), encoding="utf-8")
    assert run(["check", str(f)]) == 1
    lines = capsys.readouterr().out.splitlines()
    line_no = next(i for i, x in enumerate(f.read_text(encoding="utf-8").splitlines(), 1) if "clean_days: -5" in x)
    assert lines == [f"{f}:{line_no}: levels.high.exit.clean_days: must be at least 1 (got -5)"]


def test_check_missing_file(capsys):
    assert run(["check", "/nonexistent/pack.yaml"]) == 1


def test_show_both_languages(capsys):
    assert run(["show", "ninth-edition", "--lang", "en"]) == 0
    out = capsys.readouterr().out
    assert "7 clean days + a negative full round on day 7 -> medium" in out
    assert "when entered from high-risk area: 3 clean days -> low" in out
    assert "close_contact close contact: 7 days centralized" in out
    assert "no quarantine; 2 tests within 3 days, at least 24 h apart" in out
    assert "#5 nine-prohibitions-5" in out
    assert run(["show", "twenty-measures", "--sources"]) == 0
    out = capsys.readouterr().out
    assert "连续5天无新增 + 第5天全员核酸阴性 -> low 低风险区" in out and "来源" in out


def test_list(capsys):
    assert run(["list"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("ninth-edition (default)") and any(x.startswith("twenty-measures") for x in out)


def test_policy_core_imports_no_django():
    code = ("import sys; import cordon.policy.cli, cordon.policy.areas, cordon.policy.persons, "
            "cordon.policy.guardrails, cordon.policy.pack; "
            "print(any(m == 'django' or m.startswith('django.') for m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
