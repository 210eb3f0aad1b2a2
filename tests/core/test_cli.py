"""The operator commands: createuser, tick, worker (one pass), bench listing."""
from __future__ import annotations

import json

import pytest
from django.utils import translation

from cordon.cli import main
from cordon.core.models import AuditEntry, Grant, JobRun


@pytest.mark.django_db
def test_createuser_binds_role_to_area(city, capsys):
    assert main(["createuser", "li", "--role", "street_officer", "--area", "城关区/皋兰路街道",
                 "--password", "long-enough-pass"]) == 0
    g = Grant.objects.get(user__username="li")
    assert g.role == "street_officer" and g.area.path == "城关区/皋兰路街道"
    assert AuditEntry.objects.filter(action="user.create", object_repr="li").count() == 1
    with translation.override("zh-hans"):
        assert main(["createuser", "li", "--role", "auditor", "--area", "*", "--password", "long-enough-pass"]) == 1
    assert "用户 'li' 已存在" in capsys.readouterr().err
    assert main(["createuser", "wang", "--role", "pilot", "--area", "*", "--password", "long-enough-pass"]) == 1
    with pytest.raises(SystemExit, match="no area"):
        main(["createuser", "zhao", "--role", "auditor", "--area", "城关区/无", "--password", "long-enough-pass"])


@pytest.mark.django_db
def test_tick_and_worker_once(city, capsys, monkeypatch):
    monkeypatch.setenv("CORDON_TODAY", "2022-11-20")
    assert main(["tick", "--date", "2022-11-20"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["date"] == "2022-11-20" and out["areas"]["evaluated"] == 0 and out["orders"] == 0
    assert main(["worker", "--once"]) == 0
    assert main(["worker", "--once"]) == 0  # the same day is not run twice
    assert JobRun.objects.filter(name="day_start", key="2022-11-20").count() == 1


def test_bench_lists_benchmarks(capsys):
    assert main(["bench", "nope"]) == 2
    assert "citygen" in capsys.readouterr().out


@pytest.mark.django_db
def test_pack_use_is_dated_and_audited(capsys):
    assert main(["pack", "use", "twenty-measures", "--from", "2022-11-11", "--reason", "二十条"]) == 0
    assert main(["pack", "use", "no-such", "--from", "2022-11-11", "--reason", "x"]) == 1
    assert main(["pack", "show"]) == 0
    assert "from 2022-11-11: twenty-measures" in capsys.readouterr().out
    assert AuditEntry.objects.filter(action="policy.set_pack").count() == 1
