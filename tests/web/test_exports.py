"""Files out (``web.exports``): every list exports as CSV and XLSX with the page's own filters, scoped to the
user's jurisdiction, personal data masked unless revealed with a reason (audited), one audit row per export;
a role without the export capability is refused and sees no link."""
from __future__ import annotations

import csv
import datetime as dt
import io

import openpyxl
import pytest

from cordon.cases import actions as ca
from cordon.core import clock
from cordon.core.models import AuditEntry
from tests.cases._cfixtures import cases  # noqa: F401

pytestmark = pytest.mark.django_db


def body(response) -> bytes:
    return b"".join(response.streaming_content)


def csv_rows(response) -> list[list[str]]:
    data = body(response)
    assert data.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def xlsx_rows(response) -> list[list]:
    wb = openpyxl.load_workbook(io.BytesIO(body(response)), read_only=True)
    return [["" if v is None else v for v in row] for row in wb.active.iter_rows(values_only=True)]


def both(client, url: str, query: str = "") -> tuple[list, list]:
    sep = "&" if query else ""
    c = client.get(f"{url}?{query}{sep}format=csv")
    x = client.get(f"{url}?{query}{sep}format=xlsx")
    assert c.status_code == 200 and x.status_code == 200, (c.status_code, x.status_code)
    rows_c, rows_x = csv_rows(c), xlsx_rows(x)
    assert [[str(v) for v in r] for r in rows_x] == rows_c
    return rows_c[0], rows_c[1:]


def page_labels(client, url: str, query: str, pattern: str) -> set[str]:
    import re

    html = client.get(f"{url}?{query}").content.decode()
    return set(re.findall(pattern, html))


def test_orders_export_holds_the_page_rows_for_each_filter(as_user, worker, city, cases):
    ca.do_register_contact(cases["infection_a"], label="C-K9", last_exposure=clock.today() - dt.timedelta(days=1),
                           identified_on=clock.today(), home=city["unit_b"], actor="test")
    client = as_user(worker)
    url = "/cases/contacts/"
    for query in ("", "q=C-K1", "today=centralized", "today=home", f"community={city['community_a'].pk}"):
        header, rows = both(client, url + "export/", query)
        assert header[0] == "编号 / Reference"
        on_page = page_labels(client, url, query, r'<a class="badge case" href="/cases/orders/\d+/">(C-K\d+)</a>')
        assert {r[0] for r in rows} == on_page, query
    _h, rows = both(client, url + "export/")
    assert "C-K9" not in {r[0] for r in rows}  # another community's order
    assert AuditEntry.objects.filter(action="list.export", object_id="orders").count() == 12


@pytest.fixture
def desk(city):
    """A sealed unit A with deliveries, care requests, tickets and a special-group resident; a ticket and a
    request in community B too."""
    from cordon.care import actions as care
    from cordon.hotline import actions as ha
    from cordon.zones.actions import do_designate
    from tests.care._fixtures import desk_objects

    do_designate(city["unit_a"], "high", reason="P1", exposure_note="home", actor="test")
    out = desk_objects(city)
    out["ticket_b"] = ha.do_create_ticket(phone="13909319999", category="supplies", text="B 栋", caller="赵六",
                                          area=city["unit_b"], actor="test")
    out["request_b"] = care.do_create_request(person="钱七", area=city["unit_b"], need="elderly", actor="test")
    return out


def test_every_list_exports_scoped_and_masked(as_user, worker, city, desk, cases):
    client = as_user(worker)
    r = client.get("/hotline/export/?tab=all&format=csv")
    header, rows = both(client, "/hotline/export/", "tab=all")
    assert header[4:6] == ["来电人 / Caller", "电话 / Phone"]
    numbers = {row[0] for row in rows}
    assert desk["ticket_a"].number in numbers and desk["ticket_b"].number not in numbers
    assert {row[5] for row in rows} == {"139****0001", "139****0002"}
    assert r["X-Rows"] == "2"
    _h, rows = both(client, "/hotline/export/", "tab=all&category=lift_question")
    assert [row[0] for row in rows] == [desk["answered_a"].number]

    _h, rows = both(client, "/care/export/")
    assert {row[0] for row in rows} == {desk["request_a"].ref, desk["dispatched_a"].ref}
    assert {row[4] for row in rows} == {"王**", "李**"}
    _h, rows = both(client, "/care/export/", "tab=closed")
    assert rows == []

    header, rows = both(client, "/care/special/export/")
    assert header[:3] == ["姓名 / Name", "身份证号 / ID number", "电话 / Phone"]
    resident = city["resident_a"]
    assert [row[:3] for row in rows] == [["王**", resident.id_number[:3] + "*" * 11 + resident.id_number[-4:],
                                          "139****0001"]]  # aged 80+ and alone; community B's resident absent

    _h, rows = both(client, "/supplies/deliveries/export/")
    assert rows and {row[0] for row in rows} == {city["unit_a"].path}
    _h, rows = both(client, "/supplies/deliveries/export/", "status=delivered")
    assert rows == []

    _h, rows = both(client, "/zones/export/")
    assert [row[0] for row in rows] == [city["unit_a"].path]
    _h, rows = both(client, "/zones/export/", "tab=closed")
    assert rows == []

    _h, rows = both(client, "/cases/arrivals/export/")
    assert [row[0] for row in rows] == ["C-A1"]


def test_unmask_needs_the_capability_and_a_reason_and_is_audited(as_user, worker, auditor, commander, city, desk):
    url = "/hotline/export/?tab=all&format=csv"
    client = as_user(worker)
    assert client.post(url, {"unmask": "1"}).status_code == 400  # no reason
    r = client.post(url, {"unmask": "1", "reason": "入户核实"})
    assert r.status_code == 200
    phones = {row[5] for row in csv_rows(r)[1:]}
    assert phones == {"13909310001", "13909310002"}
    e = AuditEntry.objects.get(action="list.export_unmasked")
    assert e.reason == "入户核实" and e.after["masked"] is False and e.after["rows"] == 2
    assert e.after["filters"] == {"tab": "all"} and e.actor_name == worker.username
    # the auditor exports but may not reveal: refused, and nothing in full leaves
    assert as_user(auditor).post(url, {"unmask": "1", "reason": "x"}).status_code == 403
    assert "export-unmask" not in as_user(auditor).get("/hotline/?tab=all").content.decode()
    assert "export-unmask" in as_user(commander).get("/hotline/?tab=all").content.decode()


def test_roles_without_export_are_refused_and_see_no_link(as_user, city, desk):
    from cordon.core.actions import do_create_user

    hotline, _ = do_create_user("hl", "x-Very-long-pass-1", role="hotline_operator", area=None, actor="test",
                                check_password=False)
    logistics, _ = do_create_user("lg", "x-Very-long-pass-1", role="logistics_officer", area=None, actor="test",
                                  check_password=False)
    c = as_user(hotline)
    assert c.get("/hotline/").status_code == 200
    assert "/hotline/export/" not in c.get("/hotline/").content.decode()
    assert c.get("/hotline/export/?format=csv").status_code == 403
    c = as_user(logistics)
    assert "/supplies/deliveries/export/" not in c.get("/supplies/deliveries/").content.decode()
    assert c.get("/supplies/deliveries/export/?format=xlsx").status_code == 403
    assert as_user(None).get("/zones/export/?format=csv").status_code == 302
    assert not AuditEntry.objects.filter(action__startswith="list.export").exists()


def test_export_link_carries_the_page_query(as_user, worker, city, desk):
    html = as_user(worker).get("/hotline/?tab=all&category=supplies&page=1").content.decode()
    assert "/hotline/export/?tab=all&amp;category=supplies&amp;format=csv" in html
    assert "/hotline/export/?tab=all&amp;category=supplies&amp;format=xlsx" in html


def test_bad_format_is_a_clear_400(as_user, worker, city):
    r = as_user(worker).get("/zones/export/?format=pdf")
    assert r.status_code == 400 and b"csv" in r.content


def test_audit_log_exports_with_its_filters(as_user, commander, city, desk):
    client = as_user(commander)
    _h, rows = both(client, "/audit/export/", "action=ticket")
    assert rows and all(row[2].startswith("ticket") for row in rows)
    everything = csv_rows(client.get("/audit/export/?format=csv"))[1:]
    assert len(everything) > len(rows)
    assert [row[2] for row in everything[:2]] == ["list.export", "list.export"]  # the two exports above


def test_formula_text_is_quoted_in_csv_and_kept_in_xlsx(as_user, worker, city):
    from cordon.hotline import actions as ha

    ha.do_create_ticket(phone="13909310001", category="other", text="=HYPERLINK(\"x\")", area=city["unit_a"],
                        actor="test")
    client = as_user(worker)
    rows = csv_rows(client.get("/hotline/export/?tab=all&format=csv"))
    assert rows[1][8] == "'=HYPERLINK(\"x\")"
    rows = xlsx_rows(client.get("/hotline/export/?tab=all&format=xlsx"))
    assert rows[1][8] == "=HYPERLINK(\"x\")"


def test_print_views_for_the_community_worker(as_user, worker, outsider, city, desk):
    from cordon.screening.actions import do_create_round

    building = city["unit_a"].parent
    client = as_user(worker)
    page = client.get(f"/areas/{building.pk}/").content.decode()
    for link in (f"/areas/{building.pk}/print/visit/", f"/screening/print/{building.pk}/",
                 f"/supplies/deliveries/print/{building.pk}/"):
        assert link in page
    r = client.get(f"/areas/{building.pk}/print/visit/")
    html = r.content.decode()
    assert r.status_code == 200 and "入户走访" in html and "已走访" in html
    assert building.path in html and "王**" in html and "13909310001" not in html and 'class="box"' in html
    assert "site-nav" not in html and "print.css" in html
    html = client.get(f"/supplies/deliveries/print/{building.pk}/").content.decode()
    assert "蔬菜包" in html and "101" in html
    assert client.get(f"/screening/print/{building.pk}/").status_code == 200  # no round yet: says so
    r = do_create_round(name="第一轮", on=clock.today(), areas=[city["community_a"]], actor="test")
    resp = client.get(f"/screening/print/{building.pk}/")
    assert resp.status_code == 302
    html = client.get(resp["Location"]).content.decode()
    assert "王**" in html and "李**" in html and "第一轮" in html
    # outside the worker's community: refused
    other = as_user(outsider)
    assert other.get(f"/areas/{building.pk}/print/visit/").status_code == 404
    assert other.get(f"/supplies/deliveries/print/{building.pk}/").status_code == 404
    assert other.get(f"/screening/{r.pk}/missing/{building.pk}/print/").status_code == 404


def test_xlsx_writer_escapes_text_keeps_numbers_and_streams_in_pieces():
    from cordon.web import exports

    rows = [["a<b & c>", "\x01ctl", 7, 2.5, ""], *[[f"r{i}", "x", i, 0.5, "y"] for i in range(2 * exports.CHUNK)]]
    pieces = list(exports.xlsx_chunks(["名 / Name", "b", "n", "f", "e"], iter(rows), sheet="测试<表>"))
    assert len(pieces) > 3  # the sheet leaves in pieces as rows come, not as one buffer
    wb = openpyxl.load_workbook(io.BytesIO(b"".join(pieces)), read_only=True)
    got = list(wb.active.values)
    assert got[0] == ("名 / Name", "b", "n", "f", "e")
    assert got[1][:4] == ("a<b & c>", "ctl", 7, 2.5) and got[1][4] in (None, "")
    assert got[-1] == (f"r{2 * exports.CHUNK - 1}", "x", 2 * exports.CHUNK - 1, 0.5, "y")
    assert len(got) == len(rows) + 1


@pytest.mark.django_db(transaction=True)
def test_rows_read_ahead_on_their_own_connection_outside_a_transaction(monkeypatch):
    """Outside a transaction (a streamed file, once its view returned) PostgreSQL's rows are read ahead by a
    thread with its own connection: the file holds exactly the rows, in order, and a file abandoned halfway
    leaves no reader behind. Elsewhere (SQLite, or inside a transaction) the rows are read in place."""
    import threading

    from django.db import connection

    from cordon.places.actions import do_ensure_area
    from cordon.places.models import Area
    from cordon.web import exports

    monkeypatch.setattr(exports, "CHUNK", 3)
    for i in range(11):
        do_ensure_area(f"读取区/街道{i:02d}", actor="test")
    qs = Area.objects.order_by("path").values_list("path", "kind")
    started = []
    real_thread = threading.Thread

    def counting_thread(*args, **kwargs):
        started.append(kwargs.get("name"))
        return real_thread(*args, **kwargs)

    monkeypatch.setattr(exports.threading, "Thread", counting_thread)
    assert list(exports._fetched(qs)) == list(qs)
    assert started == (["export-reader"] if connection.vendor == "postgresql" else [])
    rows = exports._fetched(qs)
    assert next(rows) == qs[0]
    rows.close()  # the client went away
    assert not [t for t in threading.enumerate() if t.name == "export-reader"]
