"""Bulk registration of key workers from CSV / XLSX: good rows registered, bad rows reported by (line, field,
reason), a file that cannot be read refused whole; through ``cordon import keyworkers`` and the "Files in" page."""
from __future__ import annotations

import csv
import io

from django.core.files.uploadedfile import SimpleUploadedFile

from cordon.cli import main
from cordon.core.models import Upload
from cordon.keyworkers.actions import do_create_employer
from cordon.keyworkers.models import KeyWorker
from tests.conftest import client_for
from tests.web.test_uploads import _csv, _home  # noqa: F401 - _home: the autouse fixture, reused


def _rows(city):
    return [["身份证号", "人群", "单位", "工作地点", "登记日期"],
            [city["resident_a"].id_number, "delivery", "美团", "", "2022-11-10"],
            [city["resident_a2"].id_number, "astronaut", "美团", "", ""],
            ["620102199001010000", "delivery", "美团", "", ""],
            [city["resident_b"].id_number, "delivery", "无此单位", "", ""],
            [city["resident_b"].id_number, "delivery", "美团", "城关区/不存在", ""],
            [city["resident_b"].id_number, "delivery", "美团", "", "11/10/2022"]]


def test_cli_registers_good_rows_and_reports_bad_ones(city, tmp_path, capsys):
    do_create_employer("美团", kind="delivery_platform", actor="test")
    path = tmp_path / "riders.csv"
    path.write_bytes(_csv(_rows(city)))
    rc = main(["import", "keyworkers", str(path)])
    out = capsys.readouterr().out
    assert rc == 1 and "6 rows: 1 key workers registered, 5 bad rows" in out
    w = KeyWorker.objects.get()
    assert (w.person_id, str(w.registered_on), str(w.overdue_from)) == (city["resident_a"].pk, "2022-11-10",
                                                                          "2022-11-10")
    with open(f"{path}.errors.csv", encoding="utf-8-sig") as fh:
        rows = list(csv.reader(fh))
    assert [tuple(r[:2]) for r in rows] == [("line", "field"), ("3", "group"), ("4", "id_number"),
                                            ("5", "employer"), ("6", "workplace"), ("7", "registered_on")]


def test_cli_refuses_a_file_without_the_columns(city, tmp_path, capsys):
    path = tmp_path / "wrong.csv"
    path.write_bytes(_csv([["姓名", "电话"], ["x", "1"]]))
    assert main(["import", "keyworkers", str(path)]) == 2
    err = capsys.readouterr().err
    assert "missing columns: id_number, group, employer" in err
    path = tmp_path / "riders.pdf"
    path.write_bytes(b"%PDF-1.4")
    assert main(["import", "keyworkers", str(path)]) == 2
    assert "unsupported file type" in capsys.readouterr().err
    assert not KeyWorker.objects.exists()


def test_upload_page_xlsx(city, worker, tmp_path):
    import openpyxl

    do_create_employer("美团", kind="delivery_platform", actor="test")
    wb = openpyxl.Workbook()
    for r in _rows(city)[:3]:
        wb.active.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    c = client_for(worker)
    r = c.post("/uploads/", {"kind": "keyworkers", "file": SimpleUploadedFile(
        "riders.xlsx", buf.getvalue(), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")})
    assert r.status_code == 302
    u = Upload.objects.get()
    assert (u.status, u.counts["created"], u.counts["bad"]) == ("done", 1, 1)
    rows = list(csv.reader(io.StringIO(b"".join(c.get(f"/uploads/{u.pk}/errors.csv").streaming_content)
                                       .decode("utf-8-sig"))))
    assert [tuple(x[:2]) for x in rows[1:]] == [("3", "group")]
    # an employer contact without a linked employer registers nobody
    from cordon.core.actions import do_create_user

    contact, _ = do_create_user("employer", "test-pass-2022", role="employer_contact", area=None, actor="test")
    path = tmp_path / "more.csv"
    path.write_bytes(_csv([_rows(city)[0], [city["resident_b"].id_number, "delivery", "美团", "", ""]]))
    from cordon.keyworkers.importer import import_key_workers

    rep = import_key_workers(path, actor=contact)
    assert (rep.created, [(e.line, e.field) for e in rep.errors]) == (0, [(2, "employer")])
