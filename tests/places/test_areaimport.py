"""``cordon import areas FILE``: the city's own address tree, bad rows reported, idempotent, audited."""
from __future__ import annotations

import csv

import pytest

from cordon.core.models import LEVELS, AuditEntry
from cordon.places.areaimport import import_areas
from cordon.places.importer import ImportFileError
from cordon.places.models import Area

pytestmark = pytest.mark.django_db

HEADER_ZH = ("区", "街道", "社区", "小区", "楼栋", "单元")
ROWS = [
    ["城关区", "皋兰路街道", "五泉社区", "五泉小区", "1号楼", "1单元"],       # line 2
    ["城关区", "皋兰路街道", "五泉社区", "五泉小区", "1号楼", "2单元"],       # line 3
    ["城关区", "皋兰路街道", "五泉社区", "五泉小区", "2号楼", "1单元"],       # line 4
    ["城关区", "皋兰路街道", "白银路社区", "", "", ""],                      # line 5: a community, no compound yet
    ["城关区", "", "白银路社区", "", "", ""],                                # line 6: gap -> street
    ["城关区", "皋兰路街道", "东/岗", "", "", ""],                           # line 7: slash -> community
    ["", "", "", "", "", ""],                                               # blank line: skipped
    ["七里河区", "西园街道", "", "", "", ""],                                # line 9
    ["城关区", "皋兰路街道", "五泉社区", "五泉小区", "1号楼", "x" * 81],      # line 10: too long -> unit
    ["", "西园街道", "", "", "", ""],                                        # line 11: no district
    ["城关区", "皋兰路街道", "五泉社区", "五泉小区", "1号楼", "1单元"],       # line 12: repeats line 2
]


def write_csv(path, rows, header=HEADER_ZH, encoding="utf-8-sig"):
    with open(path, "w", newline="", encoding=encoding) as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    return path


def _tree():
    return {a.path: a for a in Area.objects.all()}


def test_good_rows_kept_bad_rows_reported(tmp_path):
    from cordon.core import stamps

    (before,) = stamps.read("areas")
    rep = import_areas(write_csv(tmp_path / "a.csv", ROWS), actor="cli")
    assert stamps.read("areas") == (before + 1,)  # pages keyed on the tree render afresh
    assert [(e.line, e.field) for e in rep.errors] == [(6, "street"), (7, "community"), (10, "unit"),
                                                       (11, "district")]
    assert "required when community is given" in rep.errors[0].reason
    assert rep.rows == 10 and rep.created == 12
    assert rep.created_by_kind == {"district": 2, "street": 2, "community": 2, "compound": 1, "building": 2,
                                   "unit": 3}
    tree = _tree()
    assert len(tree) == 12
    # every node: kind by depth, parent by path, ancestor ids self-inclusive (what scoping reads)
    for path, a in tree.items():
        parts = path.split("/")
        assert a.kind == LEVELS[a.depth] and a.depth == len(parts) - 1 and a.name == parts[-1]
        assert (a.parent.path if a.parent else None) == ("/".join(parts[:-1]) or None)
        for i, lv in enumerate(LEVELS):
            anc = getattr(a, f"{lv}_id")
            assert (tree["/".join(parts[: i + 1])].pk if i <= a.depth else None) == anc
    # one area.create audit row per node, placed in the node's jurisdiction, and one for the run
    creates = AuditEntry.objects.filter(action="area.create")
    assert creates.count() == 12
    unit = tree["城关区/皋兰路街道/五泉社区/五泉小区/1号楼/1单元"]
    row = creates.get(object_id=str(unit.pk))
    assert row.after == {"path": unit.path, "kind": "unit"} and row.unit_id == unit.pk
    assert row.community_id == tree["城关区/皋兰路街道/五泉社区"].pk
    run = AuditEntry.objects.get(action="area.import")
    assert run.after["created"] == 12 and run.after["errors"] == 4


def test_reimport_creates_nothing(tmp_path):
    path = write_csv(tmp_path / "a.csv", ROWS)
    import_areas(path, actor="cli")
    before = {p: a.pk for p, a in _tree().items()}
    n_audit = AuditEntry.objects.filter(action="area.create").count()
    from cordon.core import stamps

    stamp = stamps.read("areas")
    rep = import_areas(path, actor="cli")
    assert rep.created == 0 and rep.unchanged == 6 and len(rep.errors) == 4
    assert stamps.read("areas") == stamp
    assert {p: a.pk for p, a in _tree().items()} == before
    assert AuditEntry.objects.filter(action="area.create").count() == n_audit


def test_extends_an_existing_tree(city, tmp_path):
    """The test city's nodes are reused (same ids), only the new ones are created."""
    known = {p: a.pk for p, a in _tree().items()}
    rep = import_areas(write_csv(tmp_path / "a.csv", ROWS[:5]), actor="cli")
    tree = _tree()
    assert {p: tree[p].pk for p in known} == known
    assert rep.created == len(tree) - len(known) == 3  # 白银路社区 and 1号楼/1单元 exist already
    assert set(tree) - set(known) == {"城关区/皋兰路街道/五泉社区/五泉小区/1号楼/2单元",
                                      "城关区/皋兰路街道/五泉社区/五泉小区/2号楼",
                                      "城关区/皋兰路街道/五泉社区/五泉小区/2号楼/1单元"}
    assert rep.unchanged == 2


def test_xlsx_english_headers(tmp_path):
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["District", "Street", "Community", "Compound", "Building", "Unit"])
    ws.append(["城关区", "皋兰路街道", "五泉社区", "五泉小区", 3, 1])   # numbers as Excel stores them
    ws.append(["城关区", "皋兰路街道", None, "五泉小区", None, None])  # gap -> community
    wb.save(tmp_path / "a.xlsx")
    rep = import_areas(tmp_path / "a.xlsx", actor="cli")
    assert [(e.line, e.field) for e in rep.errors] == [(3, "community")]
    assert Area.objects.get(path="城关区/皋兰路街道/五泉社区/五泉小区/3/1").kind == "unit"


def test_gbk_csv(tmp_path):
    path = write_csv(tmp_path / "a.csv", [["城关区", "皋兰路街道", "", "", "", ""]], encoding="gbk")
    assert import_areas(path, actor="cli").created == 2
    assert Area.objects.filter(path="城关区/皋兰路街道").exists()


def test_whole_file_errors(tmp_path):
    with pytest.raises(ImportFileError, match="missing columns: building, unit"):
        import_areas(write_csv(tmp_path / "a.csv", [], header=("区", "街道", "社区", "小区")), actor="cli")
    with pytest.raises(ImportFileError, match="no such file"):
        import_areas(tmp_path / "absent.csv")
    assert not Area.objects.exists()


def test_jurisdiction(city, worker, tmp_path):
    """A community worker adds nodes inside their community only."""
    rows = [["城关区", "皋兰路街道", "五泉社区", "五泉小区", "9号楼", "1单元"],   # inside: ok
            ["城关区", "皋兰路街道", "白银路社区", "新小区", "", ""],             # another community
            ["城关区", "新街道", "", "", "", ""]]                                # a new street
    rep = import_areas(write_csv(tmp_path / "a.csv", rows), actor=worker)
    assert [(e.line, e.field, e.reason) for e in rep.errors] == [
        (3, "compound", "outside your jurisdiction"), (4, "street", "outside your jurisdiction")]
    assert rep.created == 2
    assert AuditEntry.objects.filter(action="area.create", actor=worker).count() == 2


def test_cli(tmp_path, capsys):
    from cordon.cli import main

    path = write_csv(tmp_path / "a.csv", ROWS)
    assert main(["import", "areas", str(path), "--no-progress"]) == 1
    out = capsys.readouterr().out
    assert "12 areas created" in out and "line 6: street: required when community is given" in out
    report = (tmp_path / "a.csv.errors.csv").read_text(encoding="utf-8-sig").splitlines()
    assert report[0] == "line,field,reason" and report[1] == "6,street,required when community is given"
    assert len(report) == 5
    good = write_csv(tmp_path / "good.csv", ROWS[:4])
    assert main(["import", "areas", str(good), "--no-progress"]) == 0
    assert "0 areas created (nothing new), 4 rows already present, 0 bad rows" in capsys.readouterr().out
    bad = tmp_path / "a.pdf"
    bad.write_text("x")
    assert main(["import", "areas", str(bad), "--no-progress"]) == 2
    assert "unsupported file type" in capsys.readouterr().err
