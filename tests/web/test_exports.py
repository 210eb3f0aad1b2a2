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
        on_page = page_labels(client, url, query, r'<span class="badge case">(C-K\d+)</span>')
        assert {r[0] for r in rows} == on_page, query
    _h, rows = both(client, url + "export/")
    assert "C-K9" not in {r[0] for r in rows}  # another community's order
    assert AuditEntry.objects.filter(action="list.export", object_id="orders").count() == 12
