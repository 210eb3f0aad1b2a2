"""``screening.ingest.scan``: the byte scanner takes exactly the canonical lines (four unquoted fields, nothing
COPY would escape), finds their fields, checks barcodes, text lengths and times, and cuts kept lines into
tube runs."""
from __future__ import annotations

import numpy as np

from cordon.screening.ingest.scan import _Scan, _time_numbers, _tube_starts

LINES = [b"620102198005171234,LZ0001,site A,2022-04-01 08:00",       # 0 good
         b'620102198005171234,"LZ0002",site,2022-04-01 08:00',      # 1 quote: field by field
         b"620102198005171234,LZ0003,site",                          # 2 three fields
         b"",                                                        # 3 blank
         b"620102198005171234,LZ0004,\xe6\xb5\x8b\xe8\xaf\x95,2022-04-01T08:00:59",  # 4 good (UTF-8 site)
         b"620102198005171234,LZ0005,a,b,2022-04-01 08:00",          # 5 five fields
         b"620102198005171234,LZ0006,tab\there,2022-04-01 08:00"]    # 6 tab: field by field


def test_lines_and_commas():
    buf = b"\n".join(LINES)  # no newline after the last line
    sc = _Scan(buf)
    assert sc.n == len(buf) and len(sc.starts) == len(LINES)
    assert [bytes(buf[s:e]) for s, e in zip(sc.starts.tolist(), sc.ends.tolist())] == LINES
    assert sc.ok.tolist() == [True, False, False, False, True, False, False]
    assert sc.blank.tolist() == [False, False, False, True, False, False, False]
    assert int(sc.c1[0]) == 18 and buf[sc.c2[0]:sc.c2[0] + 1] == b"," and sc.text(4).endswith("08:00:59")
    assert sc.runs(np.array([0, 4])) == LINES[0] + b"\n" + LINES[4] + b"\n"


def test_crlf_line_ends_belong_to_the_line_end():
    sc = _Scan(b"a,b,c,d\r\ne,f,g,h\r\n")
    assert sc.cr and sc.ends.tolist() == [7, 16] and sc.text(1) == "e,f,g,h"


def test_fields_checks_and_times():
    buf = b"\n".join([b"AB12,x,lab,2022-04-01 08:00", b"A B1,x,lab,2022-04-01 08:00:30", b"AB1,x,lab,2022-13-01 08:00",
                      b"ABCD-9,x," + b"y" * 81 + b",2022-04-01 8:00", b"ABCDE,x,\xe4\xb8\xad" * 1 + b",2022-04-01T09:05"])
    sc = _Scan(buf)
    st, c1, c2, c3 = sc.starts, sc.c1, sc.c2, sc.c3
    ok, key = sc.barcode(st, c1 - st, sc.ok)
    assert ok.tolist() == [True, False, False, True, True]        # a space; 3 characters
    assert bytes(key[0]).rstrip(b"\0") == b"AB12" and bytes(key[3]).rstrip(b"\0") == b"ABCD-9"
    assert sc.short_text(c2 + 1, c3, sc.ok).tolist() == [True, True, True, False, True]
    assert sc.chars(c2[4:] + 1, c3[4:]).tolist() == [1]        # one character, three bytes
    tok, tkeys = sc.check_time(c3 + 1, sc.ends)
    assert tok.tolist() == [True, True, True, False, True]        # month 13 is left to the real date check
    assert _time_numbers(tkeys[tok]).tolist() == [20220401080000, 20220401080030, 20221301080000, 20220401090500]


def test_tube_runs_start_where_any_key_changes():
    bc = np.array([[65, 0], [65, 0], [66, 0], [66, 0], [66, 0], [65, 0]], dtype=np.uint8)
    site = np.array([[1], [1], [1], [1], [2], [2]], dtype=np.uint8)
    t = np.array([5, 5, 5, 6, 6, 6])
    assert _tube_starts(bc, site, t).tolist() == [0, 2, 3, 4, 5]
    assert _tube_starts(bc[:1], site[:1], t[:1]).tolist() == [0]
