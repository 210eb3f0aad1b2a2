"""``screening.ingest.parse``: the header, the field-by-field checks with their reasons, the whole-chunk
expression for the canonical layout (the same rows as field by field), city times, and chunks cut at line ends."""
from __future__ import annotations

import datetime as dt

import pytest

from cordon.core import ids
from cordon.screening.ingest import parse
from cordon.screening.ingest.parse import ImportFileError, _header, _parse_text, _read_chunks, _slow_rows, _Times

IDN = ids.make_id_number("620102", dt.date(1980, 5, 17), 12, "F")
IDN2 = ids.make_id_number("620102", dt.date(1991, 1, 2), 7, "M")


def test_header_canonical_aliases_and_missing_columns():
    assert _header("id_number,barcode,site,sampled_at", "samples") == ([0, 1, 2, 3], True)
    # Chinese names, another order, an extra column: positions of the canonical columns, not canonical
    assert _header("\ufeff采样时间,管码,备注,身份证号", "samples") == ([3, 1, -1, 0], False)
    assert _header("barcode,result,lab,reported_at", "results") == ([0, 1, 2, 3], True)
    with pytest.raises(ImportFileError, match="missing columns: result, reported_at"):
        _header("barcode,lab", "results")


def test_field_by_field_rows_name_the_field_and_the_reason():
    rows = [(2, f"{IDN},LZ0001,site A,2022-04-01 08:00"),
            (3, f'"{IDN2.lower()}","LZ0002","a, quoted site",2022-04-01T08:00:30'),
            (4, f"{IDN},LZ 1,site,2022-04-01 08:00"),
            (5, f"{IDN[:-1]}0,LZ0003,site,2022-04-01 08:00" if IDN[-1] != "0" else f"{IDN[:-1]}1,LZ3,s,2022-04-01 08:00"),
            (6, f"{IDN},LZ0004,site,yesterday"),
            (7, f"{IDN},LZ0005"),
            (8, f"{IDN},LZ0006,{'x' * 81},2022-04-01 08:00")]
    errors: list = []
    good = _slow_rows("samples", rows, [0, 1, 2, 3], errors)
    assert good == [(2, IDN, "LZ0001", "site A", "2022-04-01 08:00"),
                    (3, IDN2.upper(), "LZ0002", "a, quoted site", "2022-04-01T08:00:30")]
    by_line = {ln: (field, reason) for ln, field, reason in errors}
    assert by_line[4] == ("barcode", "4 to 32 letters, digits or '-'")
    assert by_line[5][0] == "id_number"
    assert by_line[6] == ("sampled_at", "expected YYYY-MM-DD HH:MM[:SS]")
    assert by_line[7] == ("row", "expected 4 fields, got 2")
    assert by_line[8][0] == "site"
    errors = []
    assert _slow_rows("results", [(2, "LZ0001,阳性,lab,2022-04-02 10:00"), (3, "LZ0002,maybe,lab,2022-04-02 10:00")],
                      [0, 1, 2, 3], errors) == [(2, "LZ0001", "positive", "lab", "2022-04-02 10:00")]
    assert errors[0][:2] == (3, "result")


def test_canonical_chunk_gives_the_rows_of_the_field_by_field_path():
    lines = [f"{IDN},LZ0001,site A,2022-04-01 08:00", "", f'"{IDN2}",LZ0002,"b",2022-04-01 08:01',
             f"{IDN},bad barcode!,s,2022-04-01 08:00", f"{IDN2},LZ0003,,2022-04-01 08:02:59"]
    text = "\n".join(lines) + "\n"
    e1: list = []
    e2: list = []
    fast = _parse_text("samples", text, 2, [0, 1, 2, 3], True, e1)
    slow = _parse_text("samples", text, 2, [0, 1, 2, 3], False, e2)
    assert fast == slow == [[2, 4, 6], [IDN, IDN2, IDN2], ["LZ0001", "LZ0002", "LZ0003"], ["site A", "b", ""],
                            ["2022-04-01 08:00", "2022-04-01 08:01", "2022-04-01 08:02:59"]]
    assert e1 == e2 == [(5, "barcode", "4 to 32 letters, digits or '-'")]


@pytest.mark.django_db
def test_city_times_are_checked_against_the_window_and_cached():
    day0 = dt.datetime(2022, 4, 1, tzinfo=parse.clock.tz())
    times = _Times(day0, day0 + dt.timedelta(days=1))
    v = times("2022-04-01 08:00")
    assert v is not None and v.startswith(("2022-04-01 08:00", "2022-04-01 00:00"))  # city time or UTC text
    assert times("2022-04-01T08:00") == v
    assert times("2022-02-30 08:00") is None and "not a real date" in times.why["2022-02-30 08:00"]
    assert times("2022-04-05 08:00") is None and "outside the round's window" in times.why["2022-04-05 08:00"]
    assert times.cache["2022-04-01 08:00"] == v


@pytest.mark.parametrize("size", [1, 7, 64, 1 << 20])
def test_chunks_end_at_line_ends_and_cover_the_file(tmp_path, size):
    body = b"".join(b"line %d,%s\n" % (i, b"x" * (i % 13)) for i in range(200)) + b"no newline at the end"
    p = tmp_path / "f.csv"
    p.write_bytes(b"head\n" + body)
    chunks = list(_read_chunks(p, 5, size))
    assert b"".join(c for _, _, c in chunks) == body
    assert chunks[0][0] == 5 and all(a[1] == b[0] for a, b in zip(chunks, chunks[1:]))
    assert all(c.endswith(b"\n") for _, _, c in chunks[:-1]) and chunks[-1][2].endswith(b"the end")
    assert all(end - start == len(c) for start, end, c in chunks)
