"""Guardrail verdicts: rule ids, actions and messages straight from the pack."""
from __future__ import annotations

import datetime as dt

import pytest

from cordon.policy import guardrails as g
from cordon.policy.pack import PACKS_DIR, load_pack

NINTH = load_pack("ninth-edition")
TWENTY = load_pack("twenty-measures")


@pytest.mark.parametrize("pack", [NINTH, TWENTY])
def test_rule_ids_and_actions_match_policy(pack):
    expected = {
        ("nine-prohibitions-1", "designation_without_link"): "flag",
        ("nine-prohibitions-2", "quarantine_low_area_arrival"): "block",
        ("nine-prohibitions-3", "kept_past_due"): "flag",
        ("nine-prohibitions-4", "order_category_missing"): "block",
        ("nine-prohibitions-4", "order_without_link"): "block",
        ("nine-prohibitions-4", "designation_above_granularity"): "flag",
        ("nine-prohibitions-5", "extension_without_positive"): "block",
        ("nine-prohibitions-6", "care_refused"): "block",
        ("nine-prohibitions-7", "student_low_area_quarantine"): "block",
        ("nine-prohibitions-8", "driver_refused"): "flag",
        ("nine-prohibitions-9", "essential_place_closure"): "flag",
    }
    for (rule, key), action in expected.items():
        assert pack.check(rule, key).action == action
    assert pack.guardrails["nine-prohibitions-8"].in_scope


@pytest.mark.parametrize("pack", [NINTH, TWENTY])
def test_care_refusal_blocked(pack):
    (v,) = g.check_care_closure(pack, outcome="refused", request="R7")
    assert (v.rule, v.action, v.blocks) == ("nine-prohibitions-6", "block", True)
    assert "refused" in v.message_en and "拒绝" in v.message_zh
    assert g.check_care_closure(pack, outcome="completed") == []
    assert g.check_care_dispatch(pack, sealed=True) == []


@pytest.mark.parametrize("pack", [NINTH, TWENTY])
def test_essential_place_closure(pack):
    (v,) = g.check_place_closure(pack, place_kind="pharmacy", area_level="low", place="惠民药店")
    assert (v.rule, v.action) == ("nine-prohibitions-9", "flag")
    assert "惠民药店" in v.message_zh and "低风险区" in v.message_zh and "low-risk area" in v.message_en
    assert g.check_place_closure(pack, place_kind="market", area_level=None) != []
    assert g.check_place_closure(pack, place_kind="market", area_level="high") == []
    assert g.check_place_closure(pack, place_kind="ktv", area_level="low") == []


def test_medium_counts_as_designated_for_place_closure():
    assert g.check_place_closure(NINTH, place_kind="clinic", area_level="medium") == []


def test_kept_past_due_sentence():
    v = g.kept_past_due(NINTH, area="五泉小区/1号楼/1单元", level="high", to="medium", due=dt.date(2022, 11, 16),
                        on=dt.date(2022, 11, 18), reason="流调未完成")
    assert v.message_zh == "五泉小区/1号楼/1单元应于2022-11-16调整为中风险区，至2022-11-18仍维持高风险区（理由：流调未完成）"
    assert v.message_en.startswith("五泉小区/1号楼/1单元 was due to become a medium-risk area on 2022-11-16")
    assert v.as_dict("en")["rule"] == "nine-prohibitions-3"


def test_blocking_helper():
    vs = g.check_designation(NINTH, node_kind="street", level="high")
    assert g.blocking(vs) is None
    assert g.blocking(g.check_order(NINTH, "close_contact", has_link=False)).rule == "nine-prohibitions-4"


def test_messages_come_from_the_pack(tmp_path):
    text = (PACKS_DIR / "ninth-edition.yaml").read_text(encoding="utf-8")
    f = tmp_path / "custom.yaml"
    f.write_text(text.replace("name: ninth-edition", "name: custom").replace(
        '"{person}来自低风险地区，不得对其采取隔离措施"', '"低风险地区来人{person}不隔离"'), encoding="utf-8")
    pack = load_pack(f)
    (v,) = g.check_order(pack, "close_contact", person="P1", arrival_from_level="low")
    assert v.message_zh == "低风险地区来人P1不隔离"


def test_designation_level_must_exist():
    with pytest.raises(ValueError):
        g.check_designation(TWENTY, node_kind="unit", level="medium")


@pytest.mark.parametrize("pack", [NINTH, TWENTY])
def test_driver_refusal_is_a_flag(pack):
    v = g.driver_refused(pack, pass_label="通行证 7", area="城关区/卡口", reason="test_overdue")
    assert (v.rule, v.action, v.check, v.blocks) == ("nine-prohibitions-8", "flag", "driver_refused", False)
    assert "城关区/卡口" in v.message_zh and "refused" in v.message_en
