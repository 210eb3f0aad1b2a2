"""A whole day's work walked through the pages only (Debian's Chromium through Playwright), in Chinese, each
step by the role who does it: a community worker on a phone records an arrival's positive test and the
infection from it, the commander confirms the proposed designation, the worker registers the contacts and
places the close contacts in a quarantine site; on the area's day 7 the worker creates the full-area round,
uploads its registrations and results (imported by the queue's worker) and closes it; the next morning the
worker's day start steps the area down, the worker exports the people under orders as the filtered page shows
them (CSV and XLSX), and the district officer signs off the daily close.

Between steps the test reads what the page shows and the database: each record exists once, with its audit
row. The clock is pinned (``core.clock``) and moved on to the area's days; queued uploads run as
tests/web/test_uploads.py runs them, the day start as ``cordon worker`` runs it (one pass).
Skipped, with the reason printed, where Chromium is absent (unless CORDON_REQUIRE_BROWSER=1).
"""
from __future__ import annotations

import csv
import datetime as dt
import io

import pytest

from tests.browser.test_browser import browser  # noqa: F401  (the shared launch fixture)
from tests.conftest import PASSWORD, UNIT_A

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

D0 = dt.date(2022, 11, 1)  # the day the infection is found and the unit designated (the area's day 0)
PHONE = {"viewport": {"width": 360, "height": 780}, "is_mobile": True, "has_touch": True}
DESKTOP = {"viewport": {"width": 1280, "height": 900}}


def _at(day: dt.date, hour: int = 9) -> dt.datetime:
    from cordon.core import clock

    return dt.datetime.combine(day, dt.time(hour, 0), tzinfo=clock.tz())


class Walk:
    """The browser contexts of the day's roles, each logged in once, and the console errors of their pages."""

    def __init__(self, browser, url):  # noqa: F811
        self.browser, self.url, self.errors = browser, url, []

    def login(self, username: str, **ctx):
        context = self.browser.new_context(locale="zh-CN", accept_downloads=True, **ctx)
        context.set_default_timeout(10_000)
        page = context.new_page()
        page.on("console", lambda m: self.errors.append(f"{username}: {m.text}") if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(f"{username}: {e}"))
        page.goto(self.url + "/login/")
        page.fill("#id_username", username)
        page.fill("#id_password", PASSWORD)
        page.click("form.stack button[type=submit]")
        page.wait_for_url(self.url + "/")
        assert page.locator("html").get_attribute("lang") == "zh-Hans"
        return page

    def go(self, page, path: str):
        page.goto(self.url + path)
        assert page.locator("html").get_attribute("lang") == "zh-Hans"
        # nothing overflows the viewport (the worker's phone included)
        assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"], path


def _submit(page, button, url: str = "**/*"):
    """Click a button (or link) that loads another page, and wait for that page (a form posted to a view that
    redirects back to the page it came from included)."""
    with page.expect_navigation(url=url):
        button.click()


def _once(model, **filters):
    """The one record that matches (fails when there are none or several)."""
    rows = list(model.objects.filter(**filters))
    assert len(rows) == 1, (model.__name__, filters, rows)
    return rows[0]


def _audited(action: str, obj, n: int = 1, **extra):
    from cordon.core.models import AuditEntry

    rows = AuditEntry.objects.filter(action=action, object_id=str(obj.pk), **extra)
    assert rows.count() == n, (action, obj, list(rows.values_list("action", "object_type", "object_id")))
    return rows.first()


def _csv_rows(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def _xlsx_rows(path) -> list[list[str]]:
    import openpyxl

    def text(v):
        if isinstance(v, dt.datetime):
            v = v.date()
        return "" if v is None else v.isoformat() if isinstance(v, dt.date) else str(v)

    wb = openpyxl.load_workbook(path, read_only=True)
    try:
        return [[text(v) for v in row] for row in wb.worksheets[0].iter_rows(values_only=True)]
    finally:
        wb.close()


#: the columns of the people-under-orders file that its page shows on each card, in the card's order
CARD_COLUMNS = ("编号", "类别", "今日状态", "最后一天", "下次检测")


def _file_rows(rows: list[list[str]]) -> list[list[str]]:
    """The rows of an exported file as the contacts page shows them: its card's columns, sorted."""
    head = [h.split(" / ")[0] for h in rows[0]]
    at = [head.index(c) for c in CARD_COLUMNS]
    return sorted([r[i] or "—" for i in at] for r in rows[1:])


def _upload(walk, page, kind: str, name: str, data: bytes, tmp_path, **selects):
    """Upload a file on the Files in page; it waits for the worker (queued), which then imports it."""
    from cordon.core import queue
    from cordon.core.models import Upload
    from cordon.core.periodic import Config

    walk.go(page, "/uploads/")
    page.select_option("#id_kind", kind)
    for field, value in selects.items():
        page.select_option(f"#id_{field}", str(value))
    f = tmp_path / name
    f.write_bytes(data)
    page.set_input_files("#id_file", str(f))
    _submit(page, page.locator("form.card button[type=submit]"), "**/uploads/*/")
    u = _once(Upload, kind=kind, name=name)
    assert page.url.endswith(f"/uploads/{u.pk}/") and u.status == "queued"
    assert page.locator("#upload-state [data-field=status]").inner_text() == "排队中"
    assert page.locator("#upload-state progress").count() == 1 and "等待" in page.locator("#upload-state").inner_text()
    with page.expect_navigation():  # the page polls the import's progress and reloads itself when it ends
        done = queue.drain(Config(owner="test"))
    assert [d["status"] for d in done] == ["done"], done
    u.refresh_from_db()
    assert page.locator("#upload-state [data-field=status]").inner_text() == "已完成"
    assert u.status == "done" and u.errors == 0, (u.message, u.counts)
    assert "progress" not in page.locator("#upload-state").inner_html()
    _audited("upload.done", u)
    return u, page.locator("#upload-state").inner_text()


def test_a_day_walked_through_the_pages(live_server, browser, city, worker, commander, district_officer,  # noqa: F811
                                        settings, tmp_path):
    from cordon.cases.models import Arrival, Facility, Infection, OrderStatus, PersonOrder, Placement
    from cordon.commands.worker import run_due_jobs
    from cordon.core import clock
    from cordon.core.models import AuditEntry, JobRun
    from cordon.core.periodic import Config
    from cordon.screening.models import Round
    from cordon.situation.models import DayClose
    from cordon.zones.models import Designation, Event, EventKind, Flag, Proposal

    settings.CORDON_UPLOAD_INLINE = 0  # every upload goes to the queue, as a large one does
    walk = Walk(browser, live_server.url)
    unit = city["unit_a"]
    try:
        # ------------------------------------------------------------------ day 0: a positive result
        clock.freeze(_at(D0))
        w = walk.login(worker.username, **PHONE)
        walk.go(w, "/cases/arrivals/")
        form = w.locator("form.arrival-form")
        form.locator("#id_person").fill("A-1")
        form.locator("#id_from_level").select_option("low")
        form.locator("#id_kind").select_option("resident")
        form.locator("#id_arrived_on").fill((D0 - dt.timedelta(days=1)).isoformat())
        form.locator("#id_destination").fill(UNIT_A)
        _submit(w, form.locator("button[type=submit]"), "**/cases/arrivals/")
        assert "A-1" in w.locator(".messages").inner_text()
        arrival = _once(Arrival, label="A-1")
        assert arrival.destination_id == unit.pk and arrival.from_level == "low"
        _audited("arrival.create", arrival)
        assert not PersonOrder.objects.exists()  # from a low-risk area: tests only, never quarantine

        row = w.locator("table.arrivals tbody tr", has_text="A-1")
        row.locator(f"#at-r-{arrival.pk}").select_option("positive")
        row.locator(f"#at-d-{arrival.pk}").fill(D0.isoformat())
        _submit(w, row.locator("button[type=submit]"), "**/cases/arrivals/")
        _audited("arrival.test", arrival)
        _submit(w, w.locator("table.arrivals tbody tr", has_text="A-1").locator("a.btn.warn"),
                f"**/cases/infections/new/?arrival={arrival.pk}")
        assert w.locator("#id_label").input_value() == "A-1"
        assert w.locator("#id_home").input_value() == UNIT_A
        assert w.locator("#id_confirmed_on").input_value() == D0.isoformat()
        _submit(w, w.locator("main form button[type=submit]"), "**/cases/infections/*/")
        inf = _once(Infection, label="A-1")
        assert (inf.home_id, inf.confirmed_on) == (unit.pk, D0)
        assert w.url.endswith(f"/cases/infections/{inf.pk}/")
        assert "A-1" in w.locator("h1").inner_text() and UNIT_A in w.locator("main").inner_text()
        _audited("infection.create", inf)
        proposal = _once(Proposal, area=unit)

        # ------------------------------------------------------------------ the commander confirms
        c = walk.login(commander.username, **DESKTOP)
        walk.go(c, "/zones/")
        item = c.locator("li.proposal", has_text=UNIT_A)
        assert item.count() == 1 and "A-1" in item.inner_text()
        _submit(c, item.locator("button.confirm"), walk.url + "/zones/")
        assert c.locator("li.proposal").count() == 0 and "已确认" in c.locator(".messages").inner_text()
        card = c.locator("article.zone-card", has_text=UNIT_A)
        assert card.count() == 1 and "高风险区" in card.inner_text()
        d = _once(Designation, area=unit)
        assert (d.level, d.status, d.designated_on) == ("high", "active", D0)
        _audited("designation.create", d)
        _audited("proposal.confirm", proposal)

        # ------------------------------------------------------------------ contacts added and placed
        walk.go(w, f"/cases/infections/{inf.pk}/")
        assert w.locator(f"section.kpis a[href='/zones/{d.pk}/']").inner_text() == unit.name  # now designated
        exposure = (D0 - dt.timedelta(days=1)).isoformat()
        for label, category, via, id_number in (
                ("C-1", "close_contact", "", city["resident_a2"].id_number),
                ("C-2", "close_contact", "", ""),
                ("C-3", "contact_of_contact", "C-1", "")):
            contact_form = w.locator("form.contact-form")
            if not contact_form.is_visible():
                w.locator("#contacts details.more-form summary").click()
            contact_form.locator("#id_person").fill(label)
            contact_form.locator("#id_category").select_option(category)
            contact_form.locator("#id_last_exposure").fill(exposure)
            contact_form.locator("#id_via").fill(via)
            contact_form.locator("#id_id_number").fill(id_number)
            _submit(w, contact_form.locator("button[type=submit]"), f"**/cases/infections/{inf.pk}/#contacts")
            assert label in w.locator(".messages").inner_text()
            order = _once(PersonOrder, label=label)
            assert (order.infection_id, order.category, order.status) == (inf.pk, category, OrderStatus.ACTIVE)
            _audited("order.create", order)
        assert _once(PersonOrder, label="C-1").resident_id == city["resident_a2"].pk
        assert _once(PersonOrder, label="C-3").via_id == _once(PersonOrder, label="C-1").pk
        assert w.locator("#contacts tbody tr").count() == 3

        walk.go(w, "/cases/facilities/")
        w.locator("details.more-form summary").click()
        w.locator("#id_name").fill("五泉宾馆隔离点")
        w.locator("#id_kind").select_option("quarantine_site")
        w.locator("#id_area").fill(city["community_a"].path)
        w.locator("#id_capacity").fill("20")
        _submit(w, w.locator("details.more-form button[type=submit]"), "**/cases/facilities/")
        fac = _once(Facility, name="五泉宾馆隔离点")
        _audited("facility.create", fac)
        _submit(w, w.locator(f"a[href='/cases/facilities/{fac.pk}/']").first, f"**/cases/facilities/{fac.pk}/")
        for label in ("C-1", "C-2"):
            w.locator("#admit-p").fill(label)
            _submit(w, w.locator("form.admit button[type=submit]"), f"**/cases/facilities/{fac.pk}/")
            assert label in w.locator(".messages").inner_text()
            _once(Placement, order__label=label, facility=fac, discharged_on__isnull=True)
        assert w.locator("ul.placements li").count() == 2
        _audited("facility.admit", fac, n=2)
        walk.go(w, f"/cases/infections/{inf.pk}/")
        assert "2 / 2" in w.locator("section.kpis").inner_text()

        # ------------------------------------------------------------------ day 7: the full-area round
        d7 = D0 + dt.timedelta(days=7)
        clock.freeze(_at(d7))
        walk.go(w, "/screening/new/")
        assert w.locator("#id_on").input_value() == d7.isoformat()
        w.locator("#id_name").fill("1单元第7天全员核酸")
        w.locator("#id_coverage").select_option("areas")
        w.locator("#id_areas").fill(UNIT_A)
        _submit(w, w.locator("main form button[type=submit]"), "**/screening/*/")
        rnd = _once(Round, name="1单元第7天全员核酸")
        assert (rnd.on, rnd.status) == (d7, "open")
        _audited("screening.round_create", rnd)

        when = f"{d7.isoformat()} 08:30"
        samples = ("id_number,barcode,site,sampled_at\r\n"
                   f"{city['resident_a'].id_number},LZ7001,五泉小区采样点,{when}\r\n").encode("utf-8-sig")
        u, text = _upload(walk, w, "samples", "登记.csv", samples, tmp_path, round=rnd.pk)
        assert u.counts["kept"] == 1 and "有效行\n1" in text, text
        results = ("barcode,result,lab,reported_at\r\n"
                   f"LZ7001,negative,兰州检测中心,{d7.isoformat()} 14:00\r\n").encode("utf-8-sig")
        u, text = _upload(walk, w, "results", "结果.csv", results, tmp_path)
        assert u.counts["kept"] == 1

        walk.go(w, f"/screening/{rnd.pk}/")
        w.locator("#close-reason").fill("结果已全部回报")
        _submit(w, w.locator("button[name=action][value=close]"), f"**/screening/{rnd.pk}/")
        rnd.refresh_from_db()
        assert rnd.status == "closed"
        _audited("screening.round_close", rnd)
        counted = _once(Event, designation=d, kind=EventKind.ROUND)
        assert (counted.on, counted.result) == (d7, "negative")
        _audited("designation.round", d)
        assert "轮次已关闭" in w.locator(".messages").inner_text()
        assert "已关闭" in w.locator("header.page-head").inner_text()
        assert "1 / 1" in w.locator(".kpi", has_text="已出结果").inner_text()
        line = w.locator("main p.small", has_text="计入风险区解封计时").inner_text()
        assert UNIT_A in line and d7.isoformat() in line and "阴性" in line, line

        # the release board: the unit steps down tomorrow, the round is its evidence
        walk.go(c, "/zones/release/")
        board = c.locator("article.zone-card", has_text=UNIT_A)
        text = board.inner_text()
        assert "中风险区" in text and (d7 + dt.timedelta(days=1)).isoformat() in text and "7 / 7" in text, text
        assert board.locator("li", has_text=d7.isoformat()).locator(".badge", has_text="计入").count() == 1, text

        # the worker's passes of day 7 change nothing: the unit is high until its day 8 begins
        run_due_jobs(Config(owner="test"))
        d.refresh_from_db()
        assert d.level == "high" and not Event.objects.filter(designation=d, kind=EventKind.CHANGE).exists()

        # ------------------------------------------------------------------ day 8: the area steps down
        d8 = d7 + dt.timedelta(days=1)
        clock.freeze(_at(d8, 7))
        done = run_due_jobs(Config(owner="test"))  # one pass of `cordon worker`: the day start
        assert any(x.get("key") == d8.isoformat() for x in done), done
        assert _once(JobRun, name="day_start", key=d8.isoformat()).status == JobRun.DONE
        d.refresh_from_db()
        assert (d.level, d.since) == ("medium", d8)
        change = _once(Event, designation=d, kind=EventKind.CHANGE)
        assert (change.on, change.level) == (d8, "medium")
        assert AuditEntry.objects.filter(action="designation.change", object_id=str(d.pk)).count() == 1
        assert not Flag.objects.filter(designation=d).exists()  # the round was there on its day
        walk.go(c, "/zones/")
        card = c.locator("article.zone-card", has_text=UNIT_A)
        assert card.count() == 1 and "中风险区" in card.inner_text() and "高风险区" not in card.inner_text()
        walk.go(c, f"/zones/{d.pk}/")
        assert "中风险区" in c.locator("h1").inner_text()
        public = browser.new_page(locale="zh-CN", **PHONE)  # no login: what residents read
        public.goto(walk.url + "/public/risk-areas")
        listed = public.locator("li.public-area", has_text=UNIT_A)
        assert listed.count() == 1 and "lv-medium" in listed.get_attribute("class"), public.locator("main").inner_text()
        public.close()

        # ------------------------------------------------------------------ lists exported
        walk.go(w, f"/cases/contacts/?community={city['community_a'].pk}")
        w.locator("#category").select_option("close_contact")
        _submit(w, w.locator("form.search button[type=submit]"), "**category=close_contact*")
        cards = w.locator("li.person-card")
        shown = sorted([c.locator(".person-head > a.badge.case").inner_text(),
                        c.locator(".person-head > span.small").inner_text(),
                        c.locator(".person-head > span.badge").first.inner_text(),
                        c.locator("dl.facts dd").nth(1).inner_text().split()[0],
                        c.locator("dl.facts dd").nth(2).inner_text()] for c in cards.all())
        assert [r[:2] for r in shown] == [["C-1", "密切接触者"], ["C-2", "密切接触者"]], shown
        w.locator("details.export-box summary").click()
        with w.expect_download() as dl:
            w.locator("details.export-box a", has_text="CSV").click()
        assert dl.value.suggested_filename == f"orders-{d8.isoformat()}.csv"
        assert _file_rows(_csv_rows(open(dl.value.path(), "rb").read())) == shown
        with w.expect_download() as dl:
            w.locator("details.export-box a", has_text="XLSX").click()
        assert dl.value.suggested_filename == f"orders-{d8.isoformat()}.xlsx"
        dl.value.save_as(tmp_path / dl.value.suggested_filename)
        assert _file_rows(_xlsx_rows(tmp_path / dl.value.suggested_filename)) == shown
        exports = AuditEntry.objects.filter(action="list.export", object_id="orders", actor_name=worker.username)
        filters = {"community": str(city["community_a"].pk), "category": "close_contact", "q": ""}
        assert sorted((e.after["format"], e.after["rows"], e.after["filters"] == filters) for e in exports) == [
            ("csv", 2, True), ("xlsx", 2, True)], list(exports.values_list("after", flat=True))

        # ------------------------------------------------------------------ the daily close
        o = walk.login(district_officer.username, **DESKTOP)
        walk.go(o, "/situation/daily/")
        o.wait_for_url(f"**/situation/daily/{d8.isoformat()}/")
        box = o.locator("article.day-close", has_text=city["district"].name)
        box.locator(f"#note-{city['district'].pk}").fill("五泉社区1单元降为中风险区")
        _submit(o, box.locator("button[name=action][value=sign]"), f"**/situation/daily/{d8.isoformat()}/#close")
        close = _once(DayClose, district=city["district"], day=d8)
        assert close.status == "signed" and close.signed_by == district_officer.username
        _audited("dayclose.sign_off", close)
        assert "已签收" in o.locator(".messages").inner_text()
        box = o.locator("article.day-close", has_text=city["district"].name)
        assert "已签收" in box.locator("h3").inner_text() and district_officer.username in box.inner_text()
        assert walk.errors == [], walk.errors
    finally:
        clock.freeze(None)
