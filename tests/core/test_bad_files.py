"""Bad files and bad options: each is refused with one line (``FILE:LINE: reason`` or ``cordon ...: reason``) and
a non-zero exit, never a traceback, and leaves the database as it was (no rows, no batch, no audit row)."""
from __future__ import annotations

import csv
import datetime as dt
import shutil
import zipfile

import pytest

from cordon.cli import main
from cordon import tabular
from cordon.core import ids
from cordon.core.models import AuditEntry
from cordon.places.models import Area, Household, Resident
from cordon.screening.models import ImportBatch, RowError, Sample, TubeResult

from tests.conftest import UNIT_A

HEADER = ["姓名", "身份证号", "手机号", "地址", "门牌号"]


def _id(n: int) -> str:
    return ids.make_id_number("620102", dt.date(1950, 1, 1) + dt.timedelta(days=n), n % 900 + 10, "MF"[n % 2])


def _numeric_id(n: int) -> str:
    """An ID number without X (one a spreadsheet can hold as a number)."""
    while _id(n).endswith("X"):
        n += 1
    return _id(n)


def _resident_rows(n: int, start: int = 0) -> list[list[str]]:
    return [[f"居民{i}", _id(i), "", UNIT_A, f"{100 + i % 50}"] for i in range(start, start + n)]


def _csv_bytes(rows, header=HEADER, encoding="utf-8") -> bytes:
    return tabular_text([header, *rows]).encode(encoding)


def tabular_text(rows) -> str:
    import io

    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    return buf.getvalue()


def snapshot() -> dict:
    return {m.__name__: m.objects.count() for m in (Area, Household, Resident, AuditEntry, ImportBatch, RowError,
                                                     Sample, TubeResult)}


def cli(capsys, *argv) -> tuple[int, str, str]:
    rc = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return rc, out, err


def one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


# ---------------------------------------------------------------------------------------------- residents
@pytest.mark.django_db
def test_residents_gbk_row_after_many_utf8_rows_is_refused_before_anything_is_written(city, tmp_path, capsys,
                                                                                       monkeypatch):
    from cordon.places import importer

    monkeypatch.setattr(importer, "BATCH", 40)  # the good rows before the bad one fill several chunks
    good = _csv_bytes(_resident_rows(120))
    path = tmp_path / "late-gbk.csv"
    path.write_bytes(good + "张三,%s,,%s,1\n".encode("gbk") % (_id(500).encode(), UNIT_A.encode("gbk")))
    before = snapshot()
    rc, out, err = cli(capsys, "import", "residents", path)
    assert rc == 2 and out == ""
    assert one_line(err).startswith(f"{path}:122: not UTF-8, GB18030/GBK or UTF-16 text")
    assert snapshot() == before


@pytest.mark.django_db
@pytest.mark.parametrize("name,data,reason", [
    ("random.csv", bytes(range(256)) * 8, ":1: binary data"),
    ("long-field.csv", None, ":3: a field longer than 131,072 characters"),
    ("unclosed.csv", b"\xe5\xa7\x93\xe5\x90\x8d,id\n\"" + b"x" * 140000, ":2: a field longer than"),
    ("utf16-no-bom.csv", "姓名,身份证号\n".encode("utf-16-le"), ":1: binary data"),
])
def test_residents_files_refused_whole(city, tmp_path, capsys, name, data, reason):
    path = tmp_path / name
    if data is None:
        rows = _resident_rows(3)
        rows[1][0] = "x" * 131073
        data = _csv_bytes(rows)
    path.write_bytes(data)
    before = snapshot()
    rc, out, err = cli(capsys, "import", "residents", path)
    assert rc == 2 and reason in one_line(err) and one_line(err).startswith(str(path))
    assert snapshot() == before
    assert not (tmp_path / f"{name}.errors.csv").exists()


@pytest.mark.django_db
def test_residents_declared_encoding(city, tmp_path, capsys):
    path = tmp_path / "gbk.csv"
    path.write_bytes(_csv_bytes(_resident_rows(2), encoding="gbk"))
    before = snapshot()
    rc, _, err = cli(capsys, "import", "residents", path, "--encoding", "utf-8")
    assert rc == 2 and one_line(err).startswith(f"{path}:1: not UTF-8 text (byte 0x")
    rc, _, err = cli(capsys, "import", "residents", path, "--encoding", "latin-9")
    assert rc == 2 and "unknown encoding 'latin-9'" in one_line(err)
    assert snapshot() == before
    assert cli(capsys, "import", "residents", path, "--encoding", "gbk")[0] == 0
    assert Resident.objects.filter(name="居民1").count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("encoding,bom", [("utf-16", b""), ("utf-8", b"\xef\xbb\xbf"), ("gb18030", b"")])
def test_residents_accepted_encodings(city, tmp_path, encoding, bom):
    from cordon.places.importer import import_residents

    path = tmp_path / "r.csv"
    path.write_bytes(bom + _csv_bytes(_resident_rows(3), encoding=encoding))
    rep = import_residents(path, actor="test")
    assert rep.created == 3 and not rep.errors
    assert sorted(Resident.objects.filter(name__startswith="居民").values_list("name", flat=True)) == \
        ["居民0", "居民1", "居民2"]


@pytest.mark.django_db
def test_residents_id_numbers_from_excel(city, tmp_path):
    import openpyxl

    from cordon.places.importer import import_residents

    exact = _numeric_id(1)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(HEADER)
    ws.append(["甲", 1234567, "", UNIT_A, 101])
    ws.append(["乙", float(_numeric_id(20)), "", UNIT_A, 102])  # a number cell: only ~15 digits survive
    wb.save(tmp_path / "plain.xlsx")
    # a cell holding the integer itself (as some tools write them) keeps every digit: read as text
    with zipfile.ZipFile(tmp_path / "plain.xlsx") as src, zipfile.ZipFile(tmp_path / "ids.xlsx", "w") as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                assert b"<v>1234567</v>" in data
                data = data.replace(b"<v>1234567</v>", f"<v>{exact}</v>".encode())
            dst.writestr(item, data)
    rep = import_residents(tmp_path / "ids.xlsx", actor="test")
    assert rep.created == 1 and Resident.objects.filter(id_number=exact, household__number="101").exists()
    [e] = rep.errors
    assert (e.line, e.field) == (3, "id_number") and "scientific notation" in e.reason and "lost" in e.reason

    path = tmp_path / "ids.csv"
    path.write_bytes(_csv_bytes([["丙", f"{_numeric_id(30)}.0", "", UNIT_A, "103"],
                                 ["丁", "6.20102193803021E+17", "", UNIT_A, "104"]]))
    rep = import_residents(path, actor="test")
    assert rep.created == 0 and [(e.line, e.field) for e in rep.errors] == [(2, "id_number"), (3, "id_number")]
    assert "decimal number" in rep.errors[0].reason and "18 characters" not in rep.errors[0].reason
    assert "scientific notation" in rep.errors[1].reason


@pytest.mark.django_db
def test_interrupted_residents_import_keeps_audit_rows_for_its_committed_chunks(city, tmp_path, monkeypatch):
    from cordon.places import importer

    monkeypatch.setattr(importer, "BATCH", 30)
    path = tmp_path / "r.csv"
    path.write_bytes(_csv_bytes(_resident_rows(100)))
    real, calls = importer._import_batch, []

    def dying(*a, **kw):
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("killed")
        return real(*a, **kw)

    monkeypatch.setattr(importer, "_import_batch", dying)
    with pytest.raises(RuntimeError):
        importer.import_residents(path, actor="test")
    stored = set(Resident.objects.filter(name__startswith="居民").values_list("pk", flat=True))
    chunks = AuditEntry.objects.filter(action="resident.import_rows").order_by("pk")
    assert len(stored) == 60 and [c.after["lines"] for c in chunks] == [[2, 31], [32, 61]]
    assert {i for c in chunks for i in c.after["created_ids"]} == stored
    assert not AuditEntry.objects.filter(action="resident.import").exists()
    monkeypatch.setattr(importer, "_import_batch", real)
    rep = importer.import_residents(path, actor="test")  # the rerun finishes the file
    assert (rep.created, rep.unchanged) == (40, 60)
    assert AuditEntry.objects.filter(action="resident.import").count() == 1


# ---------------------------------------------------------------------------------------------- screening
@pytest.fixture
def rnd(city):
    from cordon.core import clock
    from cordon.screening import actions

    return actions.do_create_round(name="round", on=clock.today(), coverage="city", actor="test")


def _samples(city, encoding="utf-8", site="五泉小区东门"):
    from cordon.core import clock

    t = f"{clock.today()} 09:00"
    rows = [["id_number", "barcode", "site", "sampled_at"],
            [city["resident_a"].id_number, "LZT0001", site, t], [city["resident_a2"].id_number, "LZT0001", site, t],
            [city["resident_b"].id_number, "LZT0002", site, t]]
    return tabular_text(rows).encode(encoding)


@pytest.mark.django_db
@pytest.mark.parametrize("encoding", ["gbk", "utf-16", "utf-8-sig"])
def test_screening_samples_in_other_encodings_keep_their_text(city, rnd, tmp_path, encoding):
    from cordon.screening.ingest import import_samples

    path = tmp_path / "s.csv"
    path.write_bytes(_samples(city, encoding))
    b = import_samples(path, round=rnd, actor="test").batch
    assert (b.status, b.rows_ok, b.rows_bad) == ("done", 3, 0)
    assert set(Sample.objects.values_list("site", flat=True)) == {"五泉小区东门"}
    assert not list(tmp_path.parent.glob("cordon-utf8-*"))  # the UTF-8 copy is gone


@pytest.mark.django_db
@pytest.mark.parametrize("kind", ["samples", "results"])
@pytest.mark.parametrize("name,data,reason", [
    ("random.csv", bytes(range(256)) * 4, ":1: binary data"),
    ("cols.csv", b"name,barcode\nx,y\n", ":1: missing columns"),
    ("mixed.csv", "id_number,barcode,site,sampled_at,result,reported_at\n中,x\n".encode()
     + "东门".encode("gbk") + b"\xff\n", ":3: not UTF-8, GB18030/GBK or UTF-16 text"),
    ("empty.csv", b"", ":1: missing columns"),
    ("r.xlsx", b"PK\x03\x04", "use a CSV file"),
])
def test_screening_files_refused_whole_leave_no_batch(city, rnd, tmp_path, capsys, kind, name, data, reason):
    path = tmp_path / name
    path.write_bytes(data)
    before = snapshot()
    argv = ["import", kind, path] + (["--round", rnd.pk] if kind == "samples" else [])
    rc, out, err = cli(capsys, *argv)
    assert rc == 2 and out == "" and reason in one_line(err) and one_line(err).startswith(str(path))
    assert snapshot() == before and not ImportBatch.objects.exists()


@pytest.mark.django_db
def test_screening_declared_encoding_and_results_in_utf16(city, rnd, tmp_path, capsys):
    from cordon.core import clock

    path = tmp_path / "s.csv"
    path.write_bytes(_samples(city, "gbk"))
    before = snapshot()
    rc, _, err = cli(capsys, "import", "samples", path, "--round", rnd.pk, "--encoding", "utf-8")
    assert rc == 2 and one_line(err).startswith(f"{path}:2: not UTF-8 text") and snapshot() == before
    assert cli(capsys, "import", "samples", path, "--round", rnd.pk, "--encoding", "gbk", "--no-progress")[0] == 0
    res = tmp_path / "r.csv"
    res.write_bytes(tabular_text([["管码", "检测结果", "检测机构", "报告时间"],
                                  ["LZT0001", "阴性", "兰州检测中心", f"{clock.today()} 18:00"]]).encode("utf-16"))
    assert cli(capsys, "import", "results", res, "--no-progress")[0] == 0
    assert list(TubeResult.objects.values_list("barcode", "result", "lab")) == [("LZT0001", "negative", "兰州检测中心")]


@pytest.mark.django_db
def test_screening_id_numbers_from_excel_are_explained(city, rnd, tmp_path):
    from cordon.core import clock
    from cordon.screening.ingest import import_samples

    t = f"{clock.today()} 09:00"
    path = tmp_path / "s.csv"
    path.write_bytes(tabular_text([["id_number", "barcode", "site", "sampled_at"],
                                   [f"{_numeric_id(40)}.0", "LZT0001", "x", t],
                                   ["6.20102193803021E+17", "LZT0001", "x", t]]).encode())
    b = import_samples(path, round=rnd, actor="test").batch
    errs = list(RowError.objects.filter(batch=b).order_by("line").values_list("line", "field", "reason"))
    assert [(ln, f) for ln, f, _ in errs] == [(2, "id_number"), (3, "id_number")]
    assert "decimal number" in errs[0][2] and "scientific notation" in errs[1][2] and "lost" in errs[1][2]


# ---------------------------------------------------------------------------------------------- other commands
@pytest.fixture
def own_tmp(tmp_path, monkeypatch):
    """The commands' temporary folders go here, so a test can see that none is left."""
    import tempfile

    d = tmp_path / "tmp"
    d.mkdir()
    monkeypatch.setenv("TMPDIR", str(d))
    monkeypatch.setattr(tempfile, "tempdir", None)
    yield d
    tempfile.tempdir = None


SCENARIO = """policy: {policy}
start: 2022-11-20
days: 2
city:
  城关区: {{皋兰路街道: {{五泉社区: {{五泉小区: {{1号楼: {{units: {units}}}}}}}}}}}
"""


@pytest.mark.parametrize("text,reason", [
    (SCENARIO.format(policy="no-such-pack", units=2), ":1: policy: no policy pack 'no-such-pack'"),
    (SCENARIO.format(policy="ninth-edition", units=99_999_999), ":5: city: building 城关区/皋兰路街道/五泉社区/五泉小区/1号楼 "
                                                               "has 99,999,999 units; at most 100"),
    (b"\x00\x01\x02binary\xff", ":1: binary data"),
])
def test_scenario_refused_before_running(tmp_path, capsys, own_tmp, text, reason):
    path = tmp_path / "sc.yaml"
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    rc, out, err = cli(capsys, "scenario", "run", path)
    assert rc == 2 and out == "" and one_line(err).startswith(f"{path}{reason}")
    assert list(own_tmp.iterdir()) == []


def test_policy_check_gbk_and_binary_packs(tmp_path, capsys):
    from cordon.policy.pack import pack_path

    gbk = tmp_path / "gbk.yaml"
    gbk.write_bytes(pack_path("ninth-edition").read_text(encoding="utf-8").encode("gb18030"))
    rc, out, err = cli(capsys, "policy", "check", gbk)
    assert rc == 0 and out.startswith("ok: ninth-edition"), err
    binary = tmp_path / "bin.yaml"
    binary.write_bytes(b"name: x\n\x00\x00\xff\xfe")
    rc, out, err = cli(capsys, "policy", "check", binary)
    assert rc == 1 and one_line(err) == f"{binary}:2: binary data (a NUL byte), not a text file"
    rc, out, err = cli(capsys, "policy", "show", binary)
    assert rc == 1 and one_line(err).startswith(f"{binary}:2: binary data")


def test_epi_rt_binary_and_gbk_files(tmp_path, capsys):
    path = tmp_path / "rt.csv"
    path.write_bytes(b"I\n1\n\x00\x00\n")
    rc, out, err = cli(capsys, "epi", "rt", path)
    assert rc == 2 and out == "" and f"{path}:3: binary data" in one_line(err)
    path.write_bytes(("date,I,备注\n" + "".join(f"2022-11-{d:02d},{d},无\n" for d in range(1, 12))).encode("gbk")
                     + b"\n")  # a blank line at the end is no missing day
    rc, out, err = cli(capsys, "epi", "rt", path, "--window", "3")
    assert rc == 0 and len(out.splitlines()) == 8, err


@pytest.mark.django_db
def test_an_unexpected_error_is_one_line_unless_asked_for_the_traceback(capsys, monkeypatch):
    from cordon.commands import tick

    def boom(args):
        raise RuntimeError("disk on fire\nsecond line")

    monkeypatch.setattr(tick, "run", boom)
    rc, out, err = cli(capsys, "tick")
    assert rc == 1 and one_line(err) == ("cordon: tick: RuntimeError: disk on fire second line "
                                         "(run with --traceback for the details)")
    with pytest.raises(RuntimeError, match="disk on fire"):
        main(["--traceback", "tick"])
    monkeypatch.setenv("CORDON_TRACEBACK", "1")
    with pytest.raises(RuntimeError):
        main(["tick"])


def test_a_wrong_option_is_one_line(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["epi", "rt", "x.csv", "--mean-si", "lots"])
    assert exc.value.code == 2
    assert one_line(capsys.readouterr().err) == ("cordon epi rt: argument --mean-si: invalid float value: 'lots' "
                                                 "(see cordon epi rt -h)")


def test_detect_reads_the_whole_file_and_hashes_it(tmp_path, monkeypatch):
    import hashlib

    monkeypatch.setattr(tabular, "BLOCK", 64)  # many blocks: a character cut by a block's end still decodes
    data = ("表头,x\n" + "中文行,1\n" * 50).encode()
    path = tmp_path / "u.csv"
    path.write_bytes(data)
    enc = tabular.detect(path, digest=True)
    assert enc.utf8 and enc.sha256 == hashlib.sha256(data).hexdigest()
    path.write_bytes(data.decode().encode("gb18030"))
    enc = tabular.detect(path, digest=True)
    assert enc.codec == "gb18030" and enc.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    copy = tabular.transcode_to_utf8(path, enc)
    assert copy.read_bytes() == data and copy.name == "u.csv"
    shutil.rmtree(copy.parent)


# ---------------------------------------------------------------------------------------------- daily counts


def test_counts_file_in_gbk_utf16_and_bad_bytes(db, tmp_path):
    """The aggregate-counts importer reads one encoding for the whole file like the others, and refuses bytes
    in none of them before writing anything."""
    from cordon.situation.actions import REQUIRED, CountsFileError, do_import_counts
    from cordon.situation.models import DailyCount

    header = ",".join(REQUIRED)
    row = ",".join("2022-04-01" if c == "date" else "1" for c in REQUIRED)
    for codec in ("gb18030", "utf-16", "utf-8-sig"):
        f = tmp_path / f"counts-{codec}.csv"
        f.write_bytes(f"{header}\n{row}\n".encode(codec))
        rep = do_import_counts(f, series=f"s-{codec}", actor="test")
        assert (rep.rows, rep.created, rep.errors) == (1, 1, []), codec
    bad = tmp_path / "counts-bad.csv"
    bad.write_bytes(f"{header}\n{row}\n".encode() + b"\xff\xfe\xfd\x80\x81,1\n")
    before = DailyCount.objects.count()
    with pytest.raises(CountsFileError) as exc:
        do_import_counts(bad, series="bad", actor="test")
    assert str(exc.value).startswith(f"{bad}:") and DailyCount.objects.count() == before
