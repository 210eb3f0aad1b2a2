"""The "Files in" pages: each kind of file uploaded from the browser is imported by the CLI's pipeline (small
files at once, larger ones by the queue's worker), a good file's rows are kept, a bad file's rows are listed by
line, field and reason in a downloadable CSV report, a file refused as a whole says why (no 500), a role without
the capability gets 403 and no link, and another jurisdiction's uploads stay invisible."""
from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from cordon.core import access, ids, queue
from cordon.core.models import AuditEntry, Upload
from cordon.places.models import Resident
from tests.conftest import UNIT_A, UNIT_B, client_for


@pytest.fixture(autouse=True)
def _home(settings, tmp_path):
    settings.HOME = tmp_path


def _csv(rows) -> bytes:
    buf = io.StringIO()
    csv.writer(buf).writerows(rows)
    return buf.getvalue().encode("utf-8-sig")


def _residents(unit: str, n: int, start: int = 100, bad: bool = True) -> bytes:
    rows = [["姓名", "身份证号", "手机号", "地址", "门牌号"]]
    for i in range(n):
        rows.append([f"居民{i}", ids.make_id_number("620102", dt.date(1980, 1, 1) + dt.timedelta(days=i), start + i,
                                                  "MF"[i % 2]), f"139093{i:05d}", unit, "301"])
    if bad:
        rows.append(["坏行", "62010219850719001X", "13909310999", unit, "302"])  # bad check character
        rows.append(["无址", ids.make_id_number("620102", dt.date(1990, 1, 1), 99, "M"), "13909310555",
                     "城关区/不存在街道/1单元", "303"])
    return _csv(rows)


def _post(client, kind: str, name: str, data: bytes, **extra):
    return client.post("/uploads/", {"kind": kind, "file": SimpleUploadedFile(name, data, "text/csv"), **extra})


def _report(client, u) -> list[list[str]]:
    r = client.get(f"/uploads/{u.pk}/errors.csv")
    assert r.status_code == 200 and r["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(b"".join(r.streaming_content).decode("utf-8-sig"))))


def test_residents_upload_keeps_good_rows_and_reports_bad_ones(worker, settings):
    import hashlib
    from pathlib import Path

    c = client_for(worker)
    before = Resident.objects.count()
    incoming = set(Path(settings.FILE_UPLOAD_TEMP_DIR).glob("*.upload*"))
    r = _post(c, "residents", "登记.csv", _residents(UNIT_A, 5))
    assert r.status_code == 302
    u = Upload.objects.get()
    assert r["Location"] == f"/uploads/{u.pk}/"
    assert (u.status, u.user, u.counts["created"], u.counts["bad"], u.errors) == ("done", worker, 5, 2, 2)
    assert (u.community_id, u.size, len(u.sha256)) == (worker.grants.get().area_id, len(_residents(UNIT_A, 5)), 64)
    # hashed as it arrived, then the request's temporary file moved into the store (nothing left behind)
    assert u.sha256 == hashlib.sha256(_residents(UNIT_A, 5)).hexdigest() == hashlib.sha256(
        Path(u.path).read_bytes()).hexdigest()
    assert set(Path(settings.FILE_UPLOAD_TEMP_DIR).glob("*.upload*")) == incoming
    assert Resident.objects.count() == before + 5
    page = c.get(f"/uploads/{u.pk}/").content.decode()
    assert "登记.csv" in page and "errors.csv" in page and 'http-equiv="refresh"' not in page
    rows = _report(c, u)
    assert rows[0] == ["line", "field", "reason"]
    assert [(x[0], x[1]) for x in rows[1:]] == [("7", "id_number"), ("8", "address")]
    assert "check" in rows[1][2] and "no such building unit" in rows[2][2]
    state = c.get(f"/uploads/{u.pk}/progress.json").json()
    assert state["status"] == "done" and state["finished"] and state["done"] == state["total"] == 7
    assert set(AuditEntry.objects.filter(object_type="upload").values_list("action", flat=True)) == {
        "upload.create", "upload.done"}
    assert "登记.csv" in c.get("/uploads/").content.decode()


def test_a_file_refused_as_a_whole_says_why_without_a_500(worker):
    c = client_for(worker)
    r = _post(c, "residents", "wrong.csv", _csv([["name", "phone"], ["x", "1"]]))
    u = Upload.objects.get()
    assert r.status_code == 302 and u.status == "failed" and "missing columns" in u.message
    assert str(u.path) not in u.message and "wrong.csv" in u.message
    page = c.get(f"/uploads/{u.pk}/")
    assert page.status_code == 200 and "missing columns" in page.content.decode()
    assert c.get(f"/uploads/{u.pk}/errors.csv").status_code == 404  # nothing row by row to report
    # no file, an unknown kind: the form says so
    r = c.post("/uploads/", {"kind": "residents"})
    assert r.status_code == 400 and "field-error" in r.content.decode()
    r = _post(c, "orders", "x.csv", b"a,b\n")
    assert r.status_code == 400 and Upload.objects.count() == 1


def test_a_file_over_the_limit_is_refused(worker, settings):
    settings.CORDON_UPLOAD_MAX = 1000
    r = _post(client_for(worker), "residents", "big.csv", _residents(UNIT_A, 60, bad=False))
    page = r.content.decode()
    assert r.status_code == 400 and "field-error" in page and "1000" in page
    assert not Upload.objects.exists()


def test_large_files_wait_for_the_worker_and_show_progress(worker, settings):
    settings.CORDON_UPLOAD_INLINE = 10
    c = client_for(worker)
    _post(c, "residents", "big.csv", _residents(UNIT_A, 30))
    u = Upload.objects.get()
    assert u.status == "queued"
    page = c.get(f"/uploads/{u.pk}/").content.decode()
    assert 'http-equiv="refresh"' in page and "uploads.js" in page and "progress.json" in page
    assert c.get(f"/uploads/{u.pk}/progress.json").json()["finished"] is False
    from cordon.core.periodic import Config

    assert queue.drain(Config(owner="test"))[0]["status"] == "done"
    u.refresh_from_db()
    assert (u.status, u.counts["created"], u.counts["rows"], u.errors) == ("done", 30, 32, 2)


def _round(city):
    from cordon.screening import actions

    return actions.do_create_round(name="五泉社区全员核酸", on=dt.date.today(), areas=[city["community_a"]],
                                   actor="test", reason="test")


def test_screening_registrations_and_results(worker, city):
    from cordon.screening.models import ImportBatch, Sample

    rnd = _round(city)
    c = client_for(worker)
    when = dt.datetime.now().strftime("%Y-%m-%d %H:%M")
    a, a2 = city["resident_a"], city["resident_a2"]
    samples = _csv([["id_number", "barcode", "site", "sampled_at"], [a.id_number, "LZ0001", "site 1", when],
                    [a2.id_number, "LZ0001", "site 1", when], ["62010219850719001X", "LZ0002", "site 1", when]])
    r = _post(c, "samples", "samples.csv", samples)  # no round chosen
    assert r.status_code == 400 and "round" in r.content.decode()
    r = _post(c, "samples", "samples.csv", samples, round=rnd.pk)
    u = Upload.objects.get()
    assert r.status_code == 302 and u.status == "done", u.message
    assert (u.counts["kept"], u.counts["bad"]) == (2, 1)
    assert Sample.objects.filter(round=rnd).count() == 1
    rows = _report(c, u)
    assert rows[1][:2] == ["4", "id_number"]
    batch = ImportBatch.objects.get(kind="samples")
    assert batch.key == u.sha256 and batch.actor == worker.username
    results = _csv([["barcode", "result", "lab", "reported_at"], ["LZ0001", "negative", "lab", when],
                    ["LZ0003", "maybe", "lab", when]])
    _post(c, "results", "results.csv", results)
    u = Upload.objects.get(kind="results")
    assert u.status == "done" and (u.counts["kept"], u.counts["bad"]) == (1, 1)
    assert _report(c, u)[1][:2] == ["3", "result"]


@pytest.mark.django_db(transaction=True)
def test_queued_files_of_every_kind_import_outside_a_test_transaction(worker, city, settings):
    """The worker runs a queued upload in transactions of its own (not inside a test's): each kind's progress
    steps lock the task's lease row, which PostgreSQL allows only inside a transaction."""
    from cordon.core.periodic import Config

    settings.CORDON_UPLOAD_INLINE = 0
    rnd = _round(city)
    c = client_for(worker)
    when = dt.datetime.now().strftime("%Y-%m-%d %H:%M")
    _post(c, "residents", "r.csv", _residents(UNIT_A, 3, bad=False))
    _post(c, "samples", "s.csv", _csv([["id_number", "barcode", "site", "sampled_at"],
                                       [city["resident_a"].id_number, "LZ0001", "site 1", when]]), round=rnd.pk)
    _post(c, "results", "t.csv", _csv([["barcode", "result", "lab", "reported_at"], ["LZ0001", "negative", "lab", when]]))
    assert set(Upload.objects.values_list("status", flat=True)) == {"queued"}
    done = queue.drain(Config(owner="test"))
    assert [d["status"] for d in done] == ["done"] * 3, done
    assert dict(Upload.objects.values_list("kind", "counts__created")) == {"residents": 3, "samples": None,
                                                                           "results": None}
    assert list(Upload.objects.order_by("pk").values_list("counts__kept", flat=True)) == [None, 1, 1]


def test_counts_only_for_the_command(commander, worker):
    from cordon.situation.models import DailyCount

    text = "date,confirmed,asymptomatic\n2022-04-01,10,200\n2022-04-02,x,1\n"
    c = client_for(commander)
    assert "counts" in c.get("/uploads/").content.decode()
    r = _post(c, "counts", "sh.csv", text.encode(), series="test-series")
    u = Upload.objects.get()
    assert r.status_code == 302 and u.status == "done", u.message
    assert DailyCount.objects.filter(series="test-series").count() == u.counts["created"] >= 1
    assert u.errors >= 1 and _report(c, u)[1][0] == "3"
    w = client_for(worker)
    page = w.get("/uploads/").content.decode()
    assert 'value="counts"' not in page and 'value="residents"' in page
    assert _post(w, "counts", "sh.csv", text.encode(), series="x").status_code == 400
    assert w.get(f"/uploads/{u.pk}/").status_code == 404  # the command's series: not the worker's


def test_roles_without_the_capability_get_403_and_no_link(city, worker):
    from tests.conftest import _user

    _post(client_for(worker), "residents", "a.csv", _residents(UNIT_A, 2))
    u = Upload.objects.get()
    for role in ("hotline_operator", "logistics_officer", "auditor", "keyplace_manager", "medical_dispatcher"):
        assert not access.role_has(role, access.UPLOAD)
        c = client_for(_user(f"u-{role}", role, None if role != "keyplace_manager" else city["community_a"]))
        assert "/uploads/" not in c.get("/").content.decode()
        for url in ("/uploads/", f"/uploads/{u.pk}/", f"/uploads/{u.pk}/progress.json",
                    f"/uploads/{u.pk}/errors.csv"):
            assert c.get(url).status_code == 403, (role, url)
        assert _post(c, "residents", "b.csv", _residents(UNIT_A, 1)).status_code == 403
    assert Upload.objects.count() == 1


def test_another_jurisdictions_upload_is_invisible(worker, outsider, commander):
    _post(client_for(worker), "residents", "a.csv", _residents(UNIT_A, 2))
    u = Upload.objects.get()
    o = client_for(outsider)
    assert "a.csv" not in o.get("/uploads/").content.decode()
    for url in (f"/uploads/{u.pk}/", f"/uploads/{u.pk}/progress.json", f"/uploads/{u.pk}/errors.csv"):
        assert o.get(url).status_code == 404
    # the outsider's own file may not write into community A either: its rows are refused, line by line
    _post(o, "residents", "b.csv", _residents(UNIT_A, 2, start=300, bad=False))
    mine = Upload.objects.get(name="b.csv")
    assert mine.counts["created"] == 0 and mine.errors == 2
    assert "outside your jurisdiction" in open(mine.report, encoding="utf-8-sig").read()
    assert "a.csv" in client_for(commander).get("/uploads/").content.decode()  # the city sees every upload
    assert UNIT_B  # (the outsider's unit: a file for it would be kept)


def test_each_kind_asks_only_for_its_own_fields(commander, city, tmp_path):
    """The form marks each extra field with the kinds that need it (the page's script shows it only for them);
    without the script the server asks for the chosen kind's field by name, before any file is kept, and
    ignores another kind's field."""
    import re

    c = client_for(commander)
    page = c.get("/uploads/").content.decode()
    assert "cordon/upload_form.js" in page
    assert re.search(r'<select name="round"[^>]*data-kinds="samples"', page)
    assert re.search(r'<input type="text" name="series"[^>]*data-kinds="counts"', page)
    assert 'data-kinds' not in re.search(r'<select name="kind"[^>]*>', page).group(0)
    text = b"date,confirmed,asymptomatic\n2022-04-01,10,200\n"
    for kind, field in (("counts", "series"), ("samples", "round")):
        r = _post(c, kind, "f.csv", text)
        assert r.status_code == 400
        errors = r.context["form"].errors
        assert list(errors) == [field], errors
        label = str(r.context["form"].fields[field].label)
        assert errors[field][0].startswith(label) and "必填" in errors[field][0], errors
    assert not Upload.objects.exists() and not (tmp_path / "uploads").exists()
    r = _post(c, "residents", "r.csv", _residents(UNIT_A, 2, bad=False), series="ignored", round="")
    u = Upload.objects.get()
    assert r.status_code == 302 and (u.kind, u.status, u.options, u.counts["created"]) == ("residents", "done", {}, 2)


def test_stored_files_are_deleted_after_their_retention_and_reports_stay(worker, settings):
    """A finished upload's file is kept CORDON_UPLOAD_KEEP_DAYS days after its import ended, then deleted by the
    periodic job (audited once); its record, counts and error report stay; an upload still queued is kept."""
    from pathlib import Path

    from cordon.core import jobs
    from cordon.core.actions import do_delete_upload_files

    assert settings.CORDON_UPLOAD_KEEP_DAYS == 30
    assert jobs.resolve(jobs.NOW_JOBS["upload_files"]) is do_delete_upload_files
    c = client_for(worker)
    _post(c, "residents", "r.csv", _residents(UNIT_A, 2))
    u = Upload.objects.get()
    assert u.status == "done" and u.errors == 2 and Path(u.path).exists()
    settings.CORDON_UPLOAD_INLINE = 0
    _post(c, "residents", "later.csv", _residents(UNIT_A, 1, start=300, bad=False))
    queued = Upload.objects.get(name="later.csv")
    assert queued.status == "queued"
    ended = u.finished
    assert do_delete_upload_files(ended + dt.timedelta(days=30)) == 0  # exactly 30 days: kept
    assert Path(u.path).exists()
    later = ended + dt.timedelta(days=30, seconds=1)
    assert do_delete_upload_files(later) == 1
    u.refresh_from_db()
    assert not Path(u.path).exists() and u.file_deleted == later and Path(queued.path).exists()
    e = AuditEntry.objects.get(action="upload.file_delete")
    assert (e.object_id, e.actor_name, e.after["file"], e.after["report_kept"], e.reason) == \
        (str(u.pk), "system", "r.csv", True, "kept 30 days after its import ended")
    assert e.community_id == worker_community(worker)
    assert [r[:2] for r in _report(c, u)[1:]] == [["4", "id_number"], ["5", "address"]]
    assert "its retention over" in c.get(f"/uploads/{u.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode() or \
        "保存期满" in c.get(f"/uploads/{u.pk}/").content.decode()
    assert do_delete_upload_files(later + dt.timedelta(days=1)) == 0
    assert AuditEntry.objects.filter(action="upload.file_delete").count() == 1


def worker_community(worker):
    return next(g.area_id for g in access.grants_of(worker))
