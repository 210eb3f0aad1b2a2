"""The pack's playbook library (工作指引): the built-in content, its schema and line-numbered errors."""
from __future__ import annotations

import argparse

import pytest

from cordon.policy import cli
from cordon.policy.pack import PACKS_DIR, load_pack, validate

NINTH = (PACKS_DIR / "ninth-edition.yaml").read_text(encoding="utf-8")
LIBRARY = ("seal_unit", "lift_unit", "door_sampling", "sealed_delivery", "sealed_emergency", "keyplace_positive",
           "hotline_medical", "hotline_supplies", "hotline_release", "volunteer_briefing")
TASKS = ("transfer", "investigation", "contact_tracing", "designation", "disinfection", "area_round")


def _line(text: str, needle: str, after: str = "", nth: int = 1) -> int:
    """The line of the nth occurrence of needle after the first line holding `after`."""
    lines = text.splitlines()
    start = next(i for i, x in enumerate(lines) if after in x) if after else 0
    return [i for i, x in enumerate(lines[start:], start + 1) if needle in x][nth - 1]


def _bad(old: str, new: str, after: str = "playbooks:") -> str:
    head, _, tail = NINTH.partition(after)
    assert old in tail, old
    return head + after + tail.replace(old, new, 1)


def test_ninth_edition_library():
    p = load_pack("ninth-edition")
    assert tuple(k for k in p.playbooks if not k.startswith("task_")) == LIBRARY
    seal = p.playbook("seal_unit")
    assert seal.audience == ("staff", "volunteer")
    assert [s.key for s in seal.steps] == ["confirm_notice", "post_notice", "tell_households", "list_special_needs",
                                           "assign_volunteer", "no_hard_barriers"]
    assert seal.step("post_notice").unverified and not seal.step("tell_households").unverified
    assert seal.step("tell_households").text.zh == "逐户告知足不出户要求及上门服务安排"
    assert p.playbook("hotline_medical").audience == ("hotline",)
    for pb in p.playbooks.values():  # every step in both languages
        assert all(s.text.zh and s.text.en for s in pb.steps)
    assert p.playbook("nope") is None


@pytest.mark.parametrize("name", ["ninth-edition", "twenty-measures"])
def test_every_task_has_its_default_playbook(name):
    p = load_pack(name)
    for key in TASKS:
        task = p.tasks[key]
        pb = p.playbook(task.playbook_key)
        assert pb.key == f"task_{key}"
        assert [s.text for s in pb.steps] == list(task.playbook)
        assert [s.key for s in pb.steps] == [f"s{i}" for i in range(1, len(task.playbook) + 1)]


def test_digest_follows_the_wording():
    p = load_pack("ninth-edition")
    a = p.playbook("seal_unit").digest
    assert len(a) == 12 and a == p.playbook("seal_unit").digest
    assert a != p.playbook("lift_unit").digest


@pytest.mark.parametrize("old,new,field,reason,needle", [
    ("      - key: post_notice\n", "      - key: confirm_notice\n", "playbooks.seal_unit.steps[1].key",
     "'confirm_notice' appears twice in this playbook", ("- key: confirm_notice", 2)),
    ("    audience: [staff, volunteer]\n", "    audience: [staff, visitors]\n", "playbooks.seal_unit.audience[1]",
     "'visitors' is not one of: staff, volunteer, hotline, sampling, medical, driver", "audience: [staff, visitors]"),
    ("    audience: [staff, volunteer]\n", "    audience: []\n", "playbooks.seal_unit.audience",
     "needs at least 1 item(s)", "audience: []"),
    ("        text: {zh: 确认风险区公告已发布，核对单元地址与划定范围一致, en: check the risk-area notice is published and the unit matches the designation}\n",
     "        text: {zh: 确认风险区公告已发布}\n", "playbooks.seal_unit.steps[0].text.en", "required key missing",
     "text: {zh: 确认风险区公告已发布}"),
    ("      - key: post_notice\n", "      - key: Post-Notice\n", "playbooks.seal_unit.steps[1].key",
     "'Post-Notice' does not match [a-z][a-z0-9_]*", "key: Post-Notice"),
    ("  seal_unit:\n", "  task_transfer:\n", "playbooks.task_transfer",
     "'task_transfer' is the name of task 'transfer''s own checklist; choose another key", "task_transfer:"),
    ("        text: {zh: 逐户告知足不出户要求及上门服务安排, en: \"tell every household: nobody leaves home; services come to the door\"}\n",
     "        text: {zh: 逐户告知, en: tell them}\n        unverified: true\n", "playbooks.seal_unit.steps[2].source",
     "an unverified step says where it comes from (a source)", "- key: tell_households"),
    ("    steps:\n      - key: confirm_notice", "    steps: a list\n    old_steps:\n      - key: confirm_notice",
     "playbooks.seal_unit.steps", "expected a list, got text", "steps: a list"),
])
def test_bad_playbook_line_numbered(old, new, field, reason, needle):
    text = _bad(old, new)
    errors = validate(text)
    needle, nth = needle if isinstance(needle, tuple) else (needle, 1)
    line = _line(text, needle, after="playbooks:", nth=nth)
    assert (errors[0].line, errors[0].field, errors[0].reason) == (line, field, reason), errors


def test_playbook_without_source_or_steps():
    text = _bad("    source: \"ninth §高风险区: 封控措施，足不出户、上门服务; seed: 以单元(楼栋)为单位落实管理措施\"\n", "")
    errors = validate(text)
    line = _line(text, "seal_unit:", after="playbooks:") + 1
    assert [(e.line, e.field, e.reason) for e in errors] == [(line, "playbooks.seal_unit.source", "required key missing")]


def test_cordon_policy_check_reports_playbook_errors(tmp_path, capsys):
    f = tmp_path / "bad.yaml"
    f.write_text(_bad("      - key: post_notice\n", "      - key: confirm_notice\n"), encoding="utf-8")
    parser = argparse.ArgumentParser()
    cli.add_arguments(parser)
    assert cli.run(parser.parse_args(["check", str(f)])) == 1
    line = _line(f.read_text(encoding="utf-8"), "- key: confirm_notice", after="playbooks:", nth=2)
    assert capsys.readouterr().out.splitlines() == [
        f"{f}:{line}: playbooks.seal_unit.steps[1].key: 'confirm_notice' appears twice in this playbook"]
    assert cli.run(parser.parse_args(["check", "ninth-edition"])) == 0
    assert "16 playbooks (69 steps)" in capsys.readouterr().out
