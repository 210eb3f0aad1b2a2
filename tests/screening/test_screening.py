"""Mass screening: imports (malformed rows, duplicates, re-import, late results, kill and resume), pooled
recall, coverage at every level, scoping and audit -- on SQLite and PostgreSQL alike."""
from __future__ import annotations

import csv
import datetime as dt
import json
from collections import Counter

import pytest
from django.db.models import Count

from cordon.citygen import City
from cordon.citygen.screening import write_round
from cordon.core import clock
from cordon.core.models import LEVELS, AuditEntry
from cordon.places.bulk import load_city
from cordon.places.models import Area, Resident
from cordon.screening import actions
from cordon.screening.ingest import (ImportFileError, ResidentIndex, SimulatedCrash, import_results, import_rows,
                                     import_samples, write_error_report)
from cordon.screening.models import (BatchStatus, CoverageDay, CoverageRow, ImportBatch, RecallMember, RecallTask,
                                     RowError, Sample, TubeResult)

POP = 1500


@pytest.fixture(autouse=True)
def _fresh_index():
    ResidentIndex._cache.clear()
    yield
    ResidentIndex._cache.clear()


@pytest.fixture
def gen(db, tmp_path):
    load_city(POP, seed=3, progress=False)
    city = City(POP, seed=3)
    files = write_round(city, tmp_path, positive_rate=0.01, duplicate_rate=0.01, malformed_rate=0.01,
                        late_rate=0.05, missing_rate=0.02, seed=5)
    rnd = actions.do_create_round(name="全员核酸", on=city.today, coverage="city", actor="test")
    return {"city": city, "files": files, "round": rnd, "tmp": tmp_path}


def _all(g, **kw):
    f, r = g["files"], g["round"]
    a = import_samples(f.samples, round=r, actor="test", **kw).batch
    b = import_results(f.results, actor="test").batch
    c = import_samples(f.samples_late, round=r, actor="test").batch
    return a, b, c


def test_generator_is_pure_and_deterministic(tmp_path):
    import cordon.citygen.screening as mod

    src = open(mod.__file__, encoding="utf-8").read()
    assert "django" not in src
    city = City(300, seed=1)
    a = write_round(city, tmp_path / "a", seed=9)
    b = write_round(City(300, seed=1), tmp_path / "b", seed=9)
    for name in ("samples.csv", "samples_late.csv", "results.csv"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    assert a.sampled == b.sampled > 0 and a.tubes <= (a.sampled + 9) // 10 * 2


def test_import_keeps_good_rows_and_reports_bad_ones(gen):
    f, r = gen["files"], gen["round"]
    b = import_samples(f.samples, round=r, actor="test").batch
    assert b.status == BatchStatus.DONE
    assert b.rows_ok == f.sample_good == Sample.objects.filter(round=r).count()
    assert b.rows_duplicate == f.sample_duplicates
    assert b.rows_bad == f.sample_duplicates + f.sample_malformed
    assert RowError.objects.filter(batch=b).count() == b.rows_bad
    fields = Counter(RowError.objects.filter(batch=b).values_list("field", flat=True))
    assert set(fields) <= {"id_number", "barcode", "sampled_at", "row"}
    reasons = " ".join(RowError.objects.filter(batch=b).values_list("reason", flat=True))
    assert "check character" in reasons and "no resident" in reasons and "duplicate" in reasons
    # every error names a real line of the file, whose content is indeed the reported row
    lines = f.samples.read_text(encoding="utf-8").split("\n")
    for e in RowError.objects.filter(batch=b, field="barcode"):
        assert lines[e.line - 1].split(",")[1] == ""
    report = gen["tmp"] / "errors.csv"
    assert write_error_report(b, report) == b.rows_bad
    rows = list(csv.reader(open(report, encoding="utf-8-sig")))
    assert rows[0] == ["line", "field", "reason"] and len(rows) == b.rows_bad + 1
    # the unit is the resident's; the times are city time as written in the file
    for s in Sample.objects.filter(round=r).order_by("resident_id")[:50]:
        res = Resident.objects.get(pk=s.resident_id)
        assert s.unit_id == res.unit_id and s.batch_id == b.pk
    checked = 0
    for line in open(gen["files"].samples, encoding="utf-8").read().splitlines()[1:200]:
        f = line.split(",")
        s = Sample.objects.filter(round=r, resident__id_number=f[0], barcode=f[1]).first() if len(f) == 4 else None
        try:
            when = dt.datetime.fromisoformat(f[3]).replace(tzinfo=clock.tz()) if len(f) == 4 else None
        except ValueError:  # a malformed copy of a good row
            continue
        if s is not None and s.sampled_at == when:
            checked += 1
    assert checked > 150  # the rest are the generator's duplicates and malformed rows


def test_reimport_changes_nothing(gen):
    f, r = gen["files"], gen["round"]
    _all(gen)
    counts = (Sample.objects.count(), TubeResult.objects.count(), RowError.objects.count(),
              AuditEntry.objects.count())
    for path in (f.samples, f.samples_late):
        out = import_samples(path, round=r, actor="test")
        assert out.already
    assert import_results(f.results, actor="test").already
    assert counts == (Sample.objects.count(), TubeResult.objects.count(), RowError.objects.count(),
                      AuditEntry.objects.count())
    # the same file under another round is refused
    other = actions.do_create_round(name="again", on=r.on, coverage="city", actor="test")
    with pytest.raises(actions.ActionError):
        import_samples(f.samples, round=other, actor="test")


def test_results_before_registrations(gen):
    f, r = gen["files"], gen["round"]
    res = import_results(f.results, actor="test").batch
    assert res.rows_ok == f.tubes_with_result
    assert res.rows_duplicate == f.result_duplicates and res.rows_bad == f.result_duplicates + f.result_malformed
    import_samples(f.samples, round=r, actor="test")
    r = actions.do_refresh_round(r, actor="test")
    assert r.tubes == f.tubes - f.tubes_late
    late_pos = r.people_recalled
    import_samples(f.samples_late, round=r, actor="test")
    r = actions.do_refresh_round(r, actor="test")
    assert r.tubes == f.tubes and r.tubes_reported == f.tubes_with_result
    assert r.tubes_positive == f.positive_tubes
    assert r.people_recalled == len(f.positive_people) >= late_pos


def test_killed_and_resumed_import_keeps_every_row_once(gen, monkeypatch):
    f, r = gen["files"], gen["round"]
    with pytest.raises(SimulatedCrash):
        import_samples(f.samples, round=r, actor="test", chunk_bytes=4096, stop_after=3)
    b = ImportBatch.objects.get(kind="samples")
    assert b.status == BatchStatus.RUNNING and 0 < b.offset < b.size
    part = Sample.objects.count()
    assert part == b.rows_ok > 0
    # a crash in the middle of a chunk's write: that chunk rolls back with the offset
    from cordon.screening import ingest

    calls = {"n": 0}
    real = ingest._SampleWriter.write

    def dying(self, prep):
        calls["n"] += 1
        if calls["n"] == 2:
            real(self, prep)
            raise KeyboardInterrupt("killed mid-chunk")
        return real(self, prep)

    monkeypatch.setattr(ingest._SampleWriter, "write", dying)
    with pytest.raises(KeyboardInterrupt):
        import_samples(f.samples, round=r, actor="test", chunk_bytes=4096)
    monkeypatch.setattr(ingest._SampleWriter, "write", real)
    b.refresh_from_db()
    assert Sample.objects.count() == b.rows_ok
    out = import_samples(f.samples, round=r, actor="test", chunk_bytes=4096)
    assert not out.already and out.batch.status == BatchStatus.DONE
    assert Sample.objects.count() == f.sample_good == out.batch.rows_ok
    assert out.batch.rows_bad == f.sample_duplicates + f.sample_malformed
    assert RowError.objects.filter(batch=out.batch).values("line").distinct().count() == out.batch.rows_bad
    assert AuditEntry.objects.filter(action="screening.import_samples").count() == 1
    # the per-unit tally written with each chunk counts every kept row once, across the crash and resume
    from django.db.models import Count, Sum

    from cordon.screening.models import SampleTally

    tally = dict(SampleTally.objects.filter(round_id=r.pk).values_list("unit_id").annotate(n=Sum("n")))
    per_unit = dict(Sample.objects.filter(round=r).values_list("unit_id").annotate(n=Count("barcode")))
    assert tally == per_unit and sum(tally.values()) == f.sample_good


def test_pooled_recall_grouped_by_unit_and_retest(gen):
    f, r = gen["files"], gen["round"]
    _all(gen)
    r = actions.do_refresh_round(r, actor="test")
    members = RecallMember.objects.filter(task__round=r).select_related("task")
    idn = dict(Resident.objects.filter(pk__in=[m.resident_id for m in members]).values_list("id", "id_number"))
    assert sorted(idn[m.resident_id] for m in members) == sorted(f.positive_people)
    assert set(f.infected) <= set(f.positive_people)
    units = dict(Resident.objects.filter(pk__in=list(idn)).values_list("id", "unit_id"))
    for m in members:
        assert units[m.resident_id] == m.task.area_id and m.community_id == m.task.community_id
    assert RecallTask.objects.filter(round=r).count() == len(set(units.values()))
    assert set(RecallMember.objects.values_list("barcode", flat=True)) == set(f.positive_barcodes)
    # refreshing again adds nobody
    n = members.count()
    actions.do_refresh_round(r, actor="test")
    assert RecallMember.objects.filter(task__round=r).count() == n
    # a positive single-tube retest becomes an infection
    from cordon.cases.models import Infection

    m = members.first()
    actions.do_record_retest(m, result="positive", actor="test")
    inf = Infection.objects.get(resident_id=m.resident_id)
    assert inf.home_id == m.task.area_id and inf.found == "community"
    assert AuditEntry.objects.filter(action="screening.retest").count() == 1
    assert AuditEntry.objects.filter(action="infection.create", object_id=str(inf.pk)).count() == 1
    with pytest.raises(actions.ActionError):
        actions.do_record_retest(m, result="negative", actor="test")
    task = RecallTask.objects.get(pk=m.task_id)
    assert task.retested == 1 and task.positives == 1


def test_coverage_counts_at_every_level(gen):
    f, r = gen["files"], gen["round"]
    _all(gen)
    r = actions.do_refresh_round(r, actor="test")
    assert r.due == POP and r.sampled == f.sampled and r.missing == POP - f.sampled
    rows = {c.area_id: c for c in CoverageRow.objects.filter(round=r)}
    assert {c.kind for c in rows.values()} == set(LEVELS)
    assert len(rows) == Area.objects.count()
    res = list(Resident.objects.values(*[f"{lv}_id" for lv in LEVELS], "id"))
    sampled = set(Sample.objects.filter(round=r).values_list("resident_id", flat=True))
    due, got = Counter(), Counter()
    for x in res:
        for lv in LEVELS:
            due[x[f"{lv}_id"]] += 1
            if x["id"] in sampled:
                got[x[f"{lv}_id"]] += 1
    for aid, c in rows.items():
        assert (c.due, c.sampled) == (due[aid], got[aid]), c.kind
        assert c.missing == due[aid] - got[aid]
    for uid, n in f.sampled_by_unit.items():
        assert rows[uid].sampled == n
    days = CoverageDay.objects.filter(round=r)
    assert sum(d.sampled for d in days) == f.sampled
    assert {d.day for d in days} <= {r.on, r.on + dt.timedelta(days=1)}
    # the missing list of a community: exactly its residents with no registration
    comm = next(c for c in rows.values() if c.kind == "community" and c.missing)
    area = Area.objects.get(pk=comm.area_id)
    from cordon.core.actions import do_create_user

    w, _ = do_create_user("w", "test-pass-2022", role="community_worker", area=area)
    miss = list(actions.missing_residents(r, w, area))
    assert len(miss) == comm.missing and not any(m.pk in sampled for m in miss)


def test_area_round_covers_only_its_nodes(db, tmp_path):
    load_city(POP, seed=3, progress=False)
    city = City(POP, seed=3)
    comm = Area.objects.get(path="城关区/皋兰路街道/五泉社区")
    files = write_round(city, tmp_path, area_ids=[comm.pk], seed=2)
    r = actions.do_create_round(name="五泉社区", on=city.today, areas=[comm], actor="test")
    import_samples(files.samples, round=r, actor="test")
    r = actions.do_refresh_round(r, actor="test")
    assert r.due == comm.population == files.due and r.sampled == files.sample_good
    street = CoverageRow.objects.get(round=r, area_id=comm.street_id)
    assert street.due == comm.population  # only the covered part of the street is due
    assert not CoverageRow.objects.filter(round=r, kind="community").exclude(area_id=comm.pk).exists()


def test_non_canonical_header_and_quotes(gen):
    """Chinese headers in another order, quoted fields and CRLF: the field-by-field path."""
    f, r = gen["files"], gen["round"]
    src = list(csv.reader(open(f.samples, encoding="utf-8")))[1:40]
    path = gen["tmp"] / "cn.csv"
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
        w.writerow(["采样时间", "管码", "身份证号", "采样点"])
        for row in src:
            row = (row + ["", "", "", ""])[:4]
            w.writerow([row[3], row[1], row[0], row[2]])
    b = import_samples(path, round=r, actor="test").batch
    g = import_samples(f.samples, round=actions.do_create_round(name="x", on=r.on, coverage="city", actor="t"),
                       actor="test", chunk_bytes=10 ** 9).batch
    first = set(RowError.objects.filter(batch=g, line__lte=40).values_list("line", "field"))
    assert set(RowError.objects.filter(batch=b).values_list("line", "field")) == first
    assert b.rows_ok == 39 - len(first)


def test_missing_columns_is_a_file_error(gen):
    p = gen["tmp"] / "bad.csv"
    p.write_text("name,barcode\nx,y\n", encoding="utf-8")
    with pytest.raises(ImportFileError):
        import_samples(p, round=gen["round"], actor="test")


# ---------------------------------------------------------------------------------------------- scoping, API
def _rows(city):
    return [{"id_number": city["resident_a"].id_number, "barcode": "LZT0001", "site": "五泉", "sampled_at":
             f"{_today()} 09:00"},
            {"id_number": city["resident_a2"].id_number, "barcode": "LZT0001", "site": "五泉", "sampled_at":
             f"{_today()} 09:01"},
            {"id_number": city["resident_a2"].id_number, "barcode": "LZT0001", "site": "五泉", "sampled_at":
             f"{_today()} 09:01"},
            {"id_number": "620102199001011234", "barcode": "LZT0001", "site": "", "sampled_at": "x"}]


@pytest.fixture
def round_a(city):
    from cordon.core import clock

    return actions.do_create_round(name="五泉社区 round", on=clock.today(), areas=[city["community_a"]],
                                   actor="test")


def test_scoping_of_rounds_and_lists(city, round_a, worker, outsider, commander, as_user):
    assert list(actions.Round.objects.for_user(worker)) == [round_a]
    assert list(actions.Round.objects.for_user(outsider)) == []
    assert as_user(outsider).get(f"/api/screening/rounds/{round_a.pk}").status_code == 404
    assert as_user(outsider).get(f"/screening/{round_a.pk}/").status_code == 404
    assert as_user(worker).get(f"/screening/{round_a.pk}/").status_code == 200
    r = as_user(outsider).post("/api/screening/samples", data=json.dumps(
        {"round_id": round_a.pk, "batch_key": "k1", "rows": _rows(city)}), content_type="application/json")
    assert r.status_code == 404 and not Sample.objects.exists()
    # a city round: everyone sees it, each only their own part
    from cordon.core import clock

    cr = actions.do_create_round(name="city", on=clock.today(), coverage="city", actor="test")
    assert cr in actions.Round.objects.for_user(outsider)
    actions.do_refresh_round(cr, actor="test")
    got = as_user(outsider).get(f"/api/screening/rounds/{cr.pk}/coverage").json()
    assert [x["path"] for x in got] == ["城关区/皋兰路街道/白银路社区"]
    assert as_user(outsider).get(f"/api/screening/rounds/{cr.pk}/missing?area_id={city['community_a'].pk}"
                                 ).status_code == 404
    miss = as_user(worker).get(f"/api/screening/rounds/{cr.pk}/missing?area_id={city['community_a'].pk}").json()
    assert len(miss["items"]) == 2 and all("*" in x["id_number"] for x in miss["items"])


def test_api_batches_are_idempotent_and_validated(city, round_a, worker, as_user):
    c = as_user(worker)
    body = {"round_id": round_a.pk, "batch_key": "site-1-0900", "rows": _rows(city)}
    r = c.post("/api/screening/samples", data=json.dumps(body), content_type="application/json")
    assert r.status_code == 200, r.content
    out = r.json()
    assert (out["rows_ok"], out["rows_bad"], out["rows_duplicate"]) == (2, 2, 1)
    assert {(e["line"], e["field"]) for e in out["errors"]} == {(3, "id_number"), (4, "id_number")}
    again = c.post("/api/screening/samples", data=json.dumps(body), content_type="application/json").json()
    assert again["already_imported"] and Sample.objects.count() == 2
    # a worker's rows for people outside the community are refused per row
    body2 = {"round_id": round_a.pk, "batch_key": "k2", "rows": [
        {"id_number": city["resident_b"].id_number, "barcode": "LZT0002", "sampled_at": f"{_today()} 10:00"}]}
    out2 = c.post("/api/screening/samples", data=json.dumps(body2), content_type="application/json").json()
    assert out2["rows_ok"] == 0 and "jurisdiction" in out2["errors"][0]["reason"]
    res = {"batch_key": "lab-1", "rows": [
        {"barcode": "LZT0001", "result": "阳性", "lab": "兰州", "reported_at": f"{_today()} 18:00"},
        {"barcode": "LZT0001", "result": "negative", "lab": "兰州", "reported_at": f"{_today()} 19:00"},
        {"barcode": "LZT0009", "result": "maybe", "lab": "兰州", "reported_at": f"{_today()} 19:00"}]}
    out3 = c.post("/api/screening/results", data=json.dumps(res), content_type="application/json").json()
    assert (out3["rows_ok"], out3["rows_bad"], out3["rows_duplicate"]) == (1, 2, 1)
    assert TubeResult.objects.get().result == "positive"
    r = c.post(f"/api/screening/rounds/{round_a.pk}/refresh")
    assert r.status_code == 200 and r.json()["people_recalled"] == 2
    tasks = c.get(f"/api/screening/rounds/{round_a.pk}/recall").json()
    assert len(tasks) == 1 and tasks[0]["path"] == city["unit_a"].path and len(tasks[0]["members"]) == 2
    mid = tasks[0]["members"][0]["id"]
    r = c.post(f"/api/screening/recall/{mid}/retest", data=json.dumps({"result": "positive"}),
               content_type="application/json")
    assert r.status_code == 200 and r.json()["retest"] == "positive"
    assert AuditEntry.objects.filter(action="screening.import_samples").count() == 2
    assert AuditEntry.objects.filter(action="screening.import_results").count() == 1


def test_round_actions_audit_and_scope(city, worker, outsider, auditor):
    from cordon.core import access, clock

    before = AuditEntry.objects.count()
    r = actions.do_create_round(name="r", on=clock.today(), areas=[city["unit_a"]], actor=worker)
    assert AuditEntry.objects.count() == before + 1
    e = AuditEntry.objects.latest("id")
    assert e.action == "screening.round_create" and e.community_id == city["community_a"].pk
    with pytest.raises(access.NotFound):
        actions.do_create_round(name="r", on=clock.today(), areas=[city["unit_a"]], actor=outsider)
    with pytest.raises(access.Forbidden):
        actions.do_create_round(name="r", on=clock.today(), areas=[city["unit_a"]], actor=auditor)
    with pytest.raises(access.Forbidden):
        actions.do_create_round(name="r", on=clock.today(), coverage="city", actor=worker)
    with pytest.raises(actions.ActionError):
        actions.do_create_round(name="r", on=clock.today(), pool_size=8, areas=[city["unit_a"]], actor=worker)
    actions.do_set_round_status(r, "closed", actor=worker)
    assert AuditEntry.objects.filter(action="screening.round_status").count() == 1


def test_designated_round_records_the_area_round(city):
    from cordon.core import clock
    from cordon.zones.actions import do_designate
    from cordon.zones.models import Event

    d = do_designate(city["unit_a"], "high", reason="S1", exposure_note="home", actor="test")
    r = actions.do_create_round(name="封控区核酸", on=clock.today(), coverage="designated", designations=[d],
                                actor="test")
    assert r.designation_id == d.pk and list(r.areas.values_list("area_id", flat=True)) == [city["unit_a"].pk]
    import_rows("samples", "k", _rows(city)[:2], round=r, actor="test")
    import_rows("results", "k", [{"barcode": "LZT0001", "result": "negative", "reported_at":
                                  f"{clock.today()} 20:00"}], round=None, actor="test")
    actions.do_set_round_status(r, "closed", actor="test")
    ev = Event.objects.filter(designation=d, kind="round").get()
    assert ev.result == "negative"
    assert Counter(TubeResult.objects.values_list("result", flat=True)) == {"negative": 1}
    assert RecallTask.objects.annotate(n=Count("members")).count() == 0


def _today():
    from cordon.core import clock

    return clock.today()


def test_pages(city, round_a, worker, outsider, commander, as_user):
    c = as_user(worker)
    assert "五泉社区 round" in c.get("/screening/").content.decode()
    assert "五泉社区 round" not in as_user(outsider).get("/screening/").content.decode()
    r = c.post("/screening/new/", {"name": "单元核酸", "on": str(_today()), "pool_size": "5", "coverage": "areas",
                                   "areas": city["unit_a"].path})
    assert r.status_code == 302
    new = actions.Round.objects.get(name="单元核酸")
    assert new.pool_size == 5 and AuditEntry.objects.filter(action="screening.round_create").count() == 2
    r = c.post("/screening/new/", {"name": "x", "on": str(_today()), "pool_size": "10", "coverage": "areas",
                                   "areas": city["unit_b"].path})
    assert r.status_code == 200 and not actions.Round.objects.filter(name="x").exists()
    assert c.post(f"/screening/{round_a.pk}/refresh/").status_code == 302
    page = c.get(f"/screening/{round_a.pk}/?area={city['community_a'].pk}").content.decode()
    assert "五泉小区" in page
    miss = c.get(f"/screening/{round_a.pk}/missing/{city['community_a'].pk}/").content.decode()
    assert city["resident_a"].id_number not in miss and city["resident_a"].id_number[-4:] in miss
    assert as_user(outsider).get(f"/screening/{round_a.pk}/missing/{city['community_a'].pk}/").status_code == 404


@pytest.mark.django_db(transaction=True)
def test_import_outside_a_transaction_writes_on_a_second_connection(tmp_path, monkeypatch):
    """Outside a caller's transaction, PostgreSQL imports read the residents on two connections and commit
    chunks on a writer thread while the next chunk is checked: the same rows, errors, tally and resumability
    as the one-connection path, and a failing writer stops the import with its error."""
    from django.db import connection
    from django.db.models import Sum

    from cordon.screening import ingest
    from cordon.screening.models import SampleTally

    load_city(POP, seed=3, progress=False)
    city = City(POP, seed=3)
    f = write_round(city, tmp_path, positive_rate=0.01, duplicate_rate=0.01, malformed_rate=0.01,
                    late_rate=0.05, missing_rate=0.02, seed=5)
    r = actions.do_create_round(name="全员核酸", on=city.today, coverage="city", actor="test")
    used = {"pipeline": 0}
    real_init = ingest._Pipeline.__init__

    def counting(self, *a, **kw):
        used["pipeline"] += 1
        real_init(self, *a, **kw)

    monkeypatch.setattr(ingest._Pipeline, "__init__", counting)
    # a writer that fails on its third chunk: the import stops with that error, nothing half-written
    real_write = ingest._SampleWriter.write
    calls = {"n": 0}

    def failing(self, prep):
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("disk full (test)")
        return real_write(self, prep)

    monkeypatch.setattr(ingest._SampleWriter, "write", failing)
    with pytest.raises(RuntimeError, match="disk full"):
        import_samples(f.samples, round=r, actor="test", chunk_bytes=4096)
    monkeypatch.setattr(ingest._SampleWriter, "write", real_write)
    b = ImportBatch.objects.get(kind="samples")
    assert b.status == BatchStatus.RUNNING and Sample.objects.count() == b.rows_ok > 0
    out = import_samples(f.samples, round=r, actor="test", chunk_bytes=4096).batch
    res = import_results(f.results, actor="test", chunk_bytes=2048).batch
    late = import_samples(f.samples_late, round=r, actor="test", chunk_bytes=4096).batch
    pg = connection.vendor == "postgresql"
    assert used["pipeline"] >= 3 if pg else used["pipeline"] == 0  # the late file is too small for it
    assert out.status == res.status == late.status == BatchStatus.DONE
    assert out.rows_ok == f.sample_good and late.rows_ok == f.sampled_late
    assert out.rows_bad == f.sample_duplicates + f.sample_malformed
    assert res.rows_ok == f.tubes_with_result
    assert Sample.objects.count() == f.sampled
    assert SampleTally.objects.filter(round_id=r.pk).aggregate(n=Sum("n"))["n"] == Sample.objects.count()
    r = actions.do_refresh_round(r, actor="test")
    assert r.sampled == f.sampled and r.tubes == f.tubes
    assert r.people_recalled == len(f.positive_people)
