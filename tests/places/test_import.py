"""Resident import: bad rows reported (line, field, reason), good rows kept, re-import changes nothing."""
from __future__ import annotations

import csv
import datetime as dt

import pytest

from cordon.core import ids
from cordon.core.models import AuditEntry
from cordon.places.importer import ImportFileError, import_residents
from cordon.places.models import Area, Household, Resident

from tests.conftest import UNIT_A, UNIT_B

GOOD1 = ids.make_id_number("620102", dt.date(1950, 2, 3), 11, "M")
GOOD2 = ids.make_id_number("620103", dt.date(2001, 12, 30), 12, "F")


def write_csv(path, rows, header=("姓名", "身份证号", "手机号", "地址", "门牌号", "独居", "定期治疗", "预产期")):
    with open(path, "w", newline="", encoding="utf-8-sig") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    return path


def sample_rows():
    return [
        ["刘备", GOOD1, "13900000001", UNIT_A, "301", "是", "dialysis", ""],          # line 2 ok
        ["孙尚香", GOOD2, "13900000002", UNIT_A, "302", "否", "", "2022-12-01"],       # line 3 ok
        ["关羽", "62010219500203001X", "13900000003", UNIT_A, "303", "", "", ""],      # line 4 bad check char
        ["张飞", ids.make_id_number("620102", dt.date(1960, 1, 1), 5, "M"), "1390000", UNIT_A, "303", "", "", ""],
        ["赵云", ids.make_id_number("620102", dt.date(1961, 1, 1), 6, "M"), "", "城关区/无此单元", "1", "", "", ""],
        ["", ids.make_id_number("620102", dt.date(1962, 1, 1), 7, "M"), "", UNIT_A, "1", "", "", ""],  # no name
        ["刘备二", GOOD1, "13900000009", UNIT_A, "301", "", "", ""],                    # line 8 duplicate id
        ["黄忠", ids.make_id_number("620102", dt.date(1963, 1, 1), 8, "M"), "", UNIT_A, "1", "也许", "", ""],
        ["魏延", ids.make_id_number("620102", dt.date(1964, 1, 1), 9, "M"), "", "城关区/皋兰路街道", "1", "", "", ""],
    ]


@pytest.mark.django_db
def test_report_and_keep_good_rows(city, tmp_path):
    path = write_csv(tmp_path / "r.csv", sample_rows())
    rep = import_residents(path, actor="test")
    assert (rep.rows, rep.created, rep.updated, rep.unchanged) == (9, 2, 0, 0)
    got = {(e.line, e.field) for e in rep.errors}
    assert got == {(4, "id_number"), (5, "phone"), (6, "address"), (7, "name"), (8, "id_number"),
                   (9, "lives_alone"), (10, "address")}
    reasons = {e.line: e.reason for e in rep.errors}
    assert "check character" in reasons[4]
    assert "line 2" in reasons[8]
    assert "not a building unit" in reasons[10]
    r = Resident.objects.get(id_number=GOOD1)
    assert r.lives_alone and r.treatment == "dialysis" and r.household.number == "301"
    assert r.community_id == city["community_a"].pk
    assert Resident.objects.get(id_number=GOOD2).pregnant_due == dt.date(2022, 12, 1)
    unit = Area.objects.get(pk=city["unit_a"].pk)
    assert unit.population == 4  # two from the fixture, two imported
    assert Area.objects.get(path="城关区").population == 5


@pytest.mark.django_db
def test_reimport_changes_nothing(city, tmp_path):
    path = write_csv(tmp_path / "r.csv", sample_rows())
    import_residents(path, actor="test")
    snapshot = list(Resident.objects.order_by("id").values())
    hh = Household.objects.count()
    audits = AuditEntry.objects.exclude(action="resident.import").count()
    rep = import_residents(path, actor="test")
    assert (rep.created, rep.updated, rep.unchanged) == (0, 0, 2)
    assert list(Resident.objects.order_by("id").values()) == snapshot
    assert Household.objects.count() == hh
    assert AuditEntry.objects.exclude(action="resident.import").count() == audits
    assert Area.objects.get(pk=city["unit_a"].pk).population == 4


@pytest.mark.django_db
def test_changed_row_updates_and_audits(city, tmp_path):
    write_csv(tmp_path / "a.csv", [["刘备", GOOD1, "13900000001", UNIT_A, "301", "", "", ""]])
    import_residents(tmp_path / "a.csv", actor="test")
    write_csv(tmp_path / "b.csv", [["刘备", GOOD1, "13900000099", UNIT_B, "501", "", "", ""]])
    rep = import_residents(tmp_path / "b.csv", actor="test")
    assert rep.updated == 1
    r = Resident.objects.get(id_number=GOOD1)
    assert r.phone == "13900000099" and r.unit_id == city["unit_b"].pk and r.community_id == city["community_b"].pk
    e = AuditEntry.objects.filter(action="resident.update", object_id=str(r.pk)).get()
    # Audit rows tell that the phone changed, never the number (not even masked).
    assert e.after["phone"] == "***" and "household" in e.after and "13900000099" not in str(e.after)
    assert Area.objects.get(pk=city["unit_a"].pk).population == 2
    assert Area.objects.get(pk=city["unit_b"].pk).population == 2


@pytest.mark.django_db
def test_jurisdiction_applies(city, tmp_path, outsider):
    path = write_csv(tmp_path / "r.csv", [["刘备", GOOD1, "13900000001", UNIT_A, "301", "", "", ""]])
    rep = import_residents(path, actor=outsider)
    assert rep.created == 0 and rep.errors[0].reason == "outside your jurisdiction"


@pytest.mark.django_db
def test_xlsx(city, tmp_path):
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["name", "id_number", "phone", "address", "household"])
    ws.append(["刘备", GOOD1, "13900000001", UNIT_A, 301])
    ws.append(["关羽", "bad", "", UNIT_A, 302])
    wb.save(tmp_path / "r.xlsx")
    rep = import_residents(tmp_path / "r.xlsx", actor="test")
    assert rep.created == 1 and [(e.line, e.field) for e in rep.errors] == [(3, "id_number")]


@pytest.mark.django_db
def test_whole_file_errors(city, tmp_path):
    (tmp_path / "x.pdf").write_bytes(b"%PDF-1.4")
    with pytest.raises(ImportFileError, match="unsupported file type"):
        import_residents(tmp_path / "x.pdf")
    (tmp_path / "fake.xlsx").write_text("name,id_number")
    with pytest.raises(ImportFileError, match="not a valid XLSX"):
        import_residents(tmp_path / "fake.xlsx")
    write_csv(tmp_path / "cols.csv", [["a", "b"]], header=("姓名", "手机号"))
    with pytest.raises(ImportFileError, match="missing columns: id_number, address, household"):
        import_residents(tmp_path / "cols.csv")


@pytest.mark.django_db
def test_gbk_csv(city, tmp_path):
    path = tmp_path / "gbk.csv"
    path.write_bytes(("姓名,身份证号,地址,门牌号\n刘备,%s,%s,301\n" % (GOOD1, UNIT_A)).encode("gbk"))
    assert import_residents(path).created == 1


@pytest.mark.django_db
def test_cli_import(city, tmp_path, capsys):
    from cordon.cli import main

    path = write_csv(tmp_path / "r.csv", sample_rows())
    assert main(["import", "residents", str(path)]) == 1
    out = capsys.readouterr().out
    assert "2 created" in out and "line 4: id_number" in out
    report = (tmp_path / "r.csv.errors.csv").read_text(encoding="utf-8-sig")
    assert report.splitlines()[0] == "line,field,reason" and len(report.splitlines()) == 8
