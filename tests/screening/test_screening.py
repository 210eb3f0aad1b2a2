"""Mass screening: imports (malformed rows, duplicates, re-import, late results, kill and resume), pooled
recall, coverage at every level, scoping and audit -- on SQLite and PostgreSQL alike."""
from __future__ import annotations

import csv
import datetime as dt
import json
from collections import Counter

import numpy as np
import pytest
from django.utils import translation
from django.db.models import Count

from cordon.citygen import City
from cordon.citygen.screening import write_round
from cordon.core import clock
from cordon.core.models import LEVELS, AuditEntry
from cordon.places.bulk import load_city
from cordon.places.models import Area, Resident
from cordon.screening import actions, queries
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


def _people(r=None) -> list[tuple]:
    """Registrations one person at a time: (resident id, barcode, site, sampled_at, batch id), of round ``r``
    (default every round); the round's bitmaps of who is registered agree with them."""
    qs = Sample.objects.all() if r is None else Sample.objects.filter(round=r)
    out = [(rid, t.barcode, t.site, t.sampled_at, t.batch_id) for t in qs.order_by("id") for rid in t.people]
    if r is not None:
        reg = set(Resident.objects.filter(queries.registered_in(r)).values_list("id", flat=True))
        assert reg == {x[0] for x in out}
    return out


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
    people = _people(r)
    assert b.rows_ok == f.sample_good == len(people) == len({x[0] for x in people})
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
    assert {x[4] for x in people} == {b.pk}
    idn = dict(Resident.objects.values_list("id", "id_number"))
    when_of = {(idn[x[0]], x[1]): x[3] for x in people}
    checked = 0
    for line in open(gen["files"].samples, encoding="utf-8").read().splitlines()[1:200]:
        f = line.split(",")
        got = when_of.get((f[0], f[1])) if len(f) == 4 else None
        try:
            when = dt.datetime.fromisoformat(f[3]).replace(tzinfo=clock.tz()) if len(f) == 4 else None
        except ValueError:  # a malformed copy of a good row
            continue
        if got is not None and got == when:
            checked += 1
    assert checked > 150  # the rest are the generator's duplicates and malformed rows


def test_reimport_changes_nothing(gen):
    f, r = gen["files"], gen["round"]
    _all(gen)
    counts = (len(_people()), Sample.objects.count(), TubeResult.objects.count(), RowError.objects.count(),
              AuditEntry.objects.count())
    for path in (f.samples, f.samples_late):
        out = import_samples(path, round=r, actor="test")
        assert out.already
    assert import_results(f.results, actor="test").already
    assert counts == (len(_people()), Sample.objects.count(), TubeResult.objects.count(), RowError.objects.count(),
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


def test_a_person_registered_meanwhile_by_another_import_stops_the_chunk(gen, monkeypatch):
    """Two files of one round imported at the same time: the second import's view of who is registered is
    stale; its chunk that registers someone the other import registered meanwhile rolls back (the round's
    bitmaps are locked and checked in the chunk's transaction), and a rerun reports them as duplicates."""
    from cordon.screening import ingest

    f, r = gen["files"], gen["round"]
    lines = f.samples.read_text(encoding="utf-8").splitlines()
    head, body = lines[0], lines[1:]
    one, two = gen["tmp"] / "site-a.csv", gen["tmp"] / "site-b.csv"
    one.write_text("\n".join([head, *body[:400]]) + "\n", encoding="utf-8")
    two.write_text("\n".join([head, *body[300:700]]) + "\n", encoding="utf-8")  # lines 300..399 in both
    real = ingest._SampleWriter._load_seen
    monkeypatch.setattr(ingest._SampleWriter, "_load_seen",
                        lambda self: np.zeros(self.idx.max_rid + 2, dtype=bool))  # read before the other committed
    import_samples(one, round=r, actor="test")
    with pytest.raises(actions.ActionError, match="run the import again"), translation.override("en"):
        import_samples(two, round=r, actor="test")
    b2 = ImportBatch.objects.get(source="site-b.csv")
    assert b2.status == BatchStatus.RUNNING and b2.rows_ok == 0 and b2.offset == 0
    monkeypatch.setattr(ingest._SampleWriter, "_load_seen", real)
    b2 = import_samples(two, round=r, actor="test").batch
    b1 = ImportBatch.objects.get(source="site-a.csv")
    people = _people(r)
    assert len(people) == len({x[0] for x in people}) == b1.rows_ok + b2.rows_ok
    reasons = list(RowError.objects.filter(batch=b2).values_list("reason", flat=True))
    assert sum("already registered" in x for x in reasons) >= 90


def test_killed_and_resumed_import_keeps_every_row_once(gen, monkeypatch):
    f, r = gen["files"], gen["round"]
    with pytest.raises(SimulatedCrash):
        import_samples(f.samples, round=r, actor="test", chunk_bytes=4096, stop_after=3)
    b = ImportBatch.objects.get(kind="samples")
    assert b.status == BatchStatus.RUNNING and 0 < b.offset < b.size
    part = len(_people(r))
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
    assert len(_people(r)) == b.rows_ok
    out = import_samples(f.samples, round=r, actor="test", chunk_bytes=4096)
    assert not out.already and out.batch.status == BatchStatus.DONE
    people = _people(r)
    assert len(people) == len({x[0] for x in people}) == f.sample_good == out.batch.rows_ok
    assert out.batch.rows_bad == f.sample_duplicates + f.sample_malformed
    assert RowError.objects.filter(batch=out.batch).values("line").distinct().count() == out.batch.rows_bad
    assert AuditEntry.objects.filter(action="screening.import_samples").count() == 1
    # the per-unit tally written with each chunk counts every kept row once, across the crash and resume
    from django.db.models import Sum

    from cordon.screening.models import SampleTally

    tally = dict(SampleTally.objects.filter(round_id=r.pk).values_list("unit_id").annotate(n=Sum("n")))
    unit_of = dict(Resident.objects.values_list("id", "unit_id"))
    per_unit = Counter(unit_of[x[0]] for x in people)
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


def test_coverage_counts_at_every_level(gen, as_user):
    """Coverage of a city round at every level, against counts made here from the residents and the round's
    registrations (everyone not on the round's missing list): the stored rows (district .. compound), then
    every node reached by drilling down with ``coverage_children`` (buildings and units counted on demand),
    the API and the page; a grant at building or unit level tops out at its own node."""
    from cordon.core.actions import do_create_user

    f, r = gen["files"], gen["round"]
    _all(gen)
    r = actions.do_refresh_round(r, actor="test")
    assert r.due == POP and r.sampled == f.sampled and r.missing == POP - f.sampled
    cmd, _ = do_create_user("cmd", "test-pass-2022", role="commander", area=None)
    res = list(Resident.objects.values(*[f"{lv}_id" for lv in LEVELS], "id"))
    sampled = {x["id"] for x in res} - {m.pk for m in queries.missing_residents(r, cmd)}
    assert len(sampled) == f.sampled
    assert Counter(x["unit_id"] for x in res if x["id"] in sampled) == f.sampled_by_unit
    due, got = Counter(), Counter()
    for x in res:
        for lv in LEVELS:
            due[x[f"{lv}_id"]] += 1
            if x["id"] in sampled:
                got[x[f"{lv}_id"]] += 1
    areas = {a.pk: a for a in Area.objects.all()}

    def check(c):
        a = areas[c.area_id]
        assert (c.kind, c.parent_id) == (a.kind, a.parent_id)
        assert (c.due, c.sampled, c.missing) == (due[a.pk], got[a.pk], due[a.pk] - got[a.pk]), a.path
        assert c.percent == (round(100.0 * got[a.pk] / due[a.pk], 1) if due[a.pk] else 0.0)

    # stored: district .. compound, one row per node
    stored = list(CoverageRow.objects.filter(round=r))
    assert {c.kind for c in stored} == {"district", "street", "community", "compound"}
    assert len(stored) == len({c.area_id for c in stored}) == sum(
        a.kind in ("district", "street", "community", "compound") for a in areas.values())
    for c in stored:
        check(c)
    # every node, drilling down from the top: each reached once, under its parent, with its own counts
    seen, todo = [], [None]
    while todo:
        parent = todo.pop()
        rows = queries.coverage_children(r, cmd, parent)
        assert [c.area_id for c in rows] == sorted(c.area_id for c in rows)
        for c in rows:
            check(c)
            assert c.parent_id == (parent.pk if parent else None)
        seen += [c.area_id for c in rows]
        todo += [areas[c.area_id] for c in rows]
    assert sorted(seen) == sorted(areas) and {areas[i].kind for i in seen} == set(LEVELS)
    # the API and the page show the same for a compound's buildings and a building's units
    unit = areas[max(f.sampled_by_unit, key=f.sampled_by_unit.get)]
    c = as_user(cmd)
    for node in (areas[unit.compound_id], areas[unit.building_id]):
        api = c.get(f"/api/screening/rounds/{r.pk}/coverage?area_id={node.pk}").json()
        want = sorted(a.pk for a in areas.values() if a.parent_id == node.pk)
        assert [x["area_id"] for x in api] == want
        for x in api:
            i = x["area_id"]
            assert (x["kind"], x["path"], x["due"], x["sampled"], x["missing"]) == (
                areas[i].kind, areas[i].path, due[i], got[i], due[i] - got[i])
        page = c.get(f"/screening/{r.pk}/?area={node.pk}")
        assert page.status_code == 200
        assert [(x["row"].area_id, x["name"], x["row"].due, x["row"].sampled) for x in page.context["table"]] == [
            (i, areas[i].name, due[i], got[i]) for i in want]
    assert c.get(f"/api/screening/rounds/{r.pk}/coverage?area_id={unit.pk}").json() == []
    # a grant at building or unit level: its own node on top (counted on demand), nothing outside it
    for node in (areas[unit.building_id], unit):
        w, _ = do_create_user(f"w{node.pk}", "test-pass-2022", role="community_worker", area=node)
        top = queries.coverage_children(r, w)
        assert [x.area_id for x in top] == [node.pk]
        check(top[0])
        api = as_user(w).get(f"/api/screening/rounds/{r.pk}/coverage").json()
        assert [(x["area_id"], x["due"], x["sampled"]) for x in api] == [(node.pk, due[node.pk], got[node.pk])]
        assert as_user(w).get(f"/api/screening/rounds/{r.pk}/coverage?area_id={unit.compound_id}").status_code == 404
    days = CoverageDay.objects.filter(round=r)
    assert sum(d.sampled for d in days) == f.sampled
    assert {d.day for d in days} <= {r.on, r.on + dt.timedelta(days=1)}
    # the missing list of a community: exactly its residents with no registration
    comm = next(c for c in stored if c.kind == "community" and c.missing)
    area = areas[comm.area_id]
    w, _ = do_create_user("w", "test-pass-2022", role="community_worker", area=area)
    miss = list(queries.missing_residents(r, w, area))
    assert len(miss) == comm.missing and not any(m.pk in sampled for m in miss)
    assert {m.pk for m in miss} == {x["id"] for x in res if x["community_id"] == area.pk} - sampled


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


def test_api_coverage_at_every_level(city, worker, outsider, commander, as_user):
    """The coverage API, drilled down to units, against counts made from the residents and the registrations
    posted: each user sees their own part only (their granted node on top, a building or unit grant
    included), and a round over one unit counts that unit only, at every level above it."""
    from cordon.core import ids
    from cordon.core.actions import do_create_user
    from cordon.places.actions import do_create_resident, do_ensure_area, do_get_or_create_household

    # a second unit in unit A's building, with one resident: due in the city round, not in unit A's round
    unit_a2 = do_ensure_area(city["unit_a"].path.rsplit("/", 1)[0] + "/2单元", actor="test")
    do_create_resident(do_get_or_create_household(unit_a2, "102", actor="test"), {
        "name": "赵敏", "id_number": ids.make_id_number("620102", dt.date(1990, 4, 1), 4, "F"),
        "phone": "13909310004"}, actor="test")
    cr = actions.do_create_round(name="city", on=_today(), coverage="city", actor="test")
    ur = actions.do_create_round(name="unit A", on=_today(), areas=[city["unit_a"]], actor="test")
    registered = {cr.pk: [city["resident_a"], city["resident_b"]], ur.pk: [city["resident_a"]]}
    for rnd, people in registered.items():
        rows = [{"id_number": p.id_number, "barcode": f"LZC{rnd}", "site": "x", "sampled_at": f"{_today()} 09:00"}
                for p in people]
        got = as_user(commander).post("/api/screening/samples", data=json.dumps(
            {"round_id": rnd, "batch_key": f"cov-{rnd}", "rows": rows}), content_type="application/json").json()
        assert got["rows_ok"] == len(people)
        actions.do_refresh_round(actions.Round.objects.get(pk=rnd), actor="test")
    areas = {a.pk: a for a in Area.objects.all()}
    res = list(Resident.objects.values("id", *[f"{lv}_id" for lv in LEVELS]))

    def expected(rnd, top):
        """area id -> (due, sampled) for the nodes under ``top`` that hold a covered unit."""
        out: dict[int, list] = {}
        for x in res:
            if rnd == ur.pk and x["unit_id"] != city["unit_a"].pk:
                continue
            if x[f"{top.kind}_id"] != top.pk:
                continue
            for lv in LEVELS[LEVELS.index(top.kind):]:
                n = out.setdefault(x[f"{lv}_id"], [0, 0])
                n[0] += 1
                n[1] += any(p.pk == x["id"] for p in registered[rnd])
        return {k: tuple(v) for k, v in out.items()}

    def walk(user, rnd):
        """Every node the API shows the user, drilling down from the top: area id -> (due, sampled)."""
        c, out, todo = as_user(user), {}, [None]
        while todo:
            parent = todo.pop()
            q = f"?area_id={parent}" if parent else ""
            rows = c.get(f"/api/screening/rounds/{rnd}/coverage{q}").json()
            for x in rows:
                a = areas[x["area_id"]]
                assert (x["kind"], x["path"], x["missing"]) == (a.kind, a.path, x["due"] - x["sampled"])
                assert parent is None or a.parent_id == parent
                assert x["area_id"] not in out
                out[x["area_id"]] = (x["due"], x["sampled"])
                todo.append(x["area_id"])
        return out

    building = areas[city["unit_a"].building_id]
    b_user, _ = do_create_user("b_user", "test-pass-2022", role="community_worker", area=building)
    u_user, _ = do_create_user("u_user", "test-pass-2022", role="community_worker", area=city["unit_a"])
    for rnd in (cr.pk, ur.pk):
        assert walk(commander, rnd) == expected(rnd, city["district"])
        assert walk(worker, rnd) == expected(rnd, city["community_a"])
        assert walk(b_user, rnd) == expected(rnd, building)
        assert walk(u_user, rnd) == expected(rnd, city["unit_a"])
    assert walk(outsider, cr.pk) == expected(cr.pk, city["community_b"])
    assert expected(ur.pk, city["district"])[building.pk] == (2, 1)  # unit A only; the building has 3 people
    assert expected(cr.pk, city["district"])[building.pk] == (3, 1)
    got = as_user(outsider).get(f"/api/screening/rounds/{cr.pk}/coverage").json()
    assert [x["path"] for x in got] == ["城关区/皋兰路街道/白银路社区"]
    for node in (building, city["unit_a"], city["community_a"]):
        assert as_user(outsider).get(f"/api/screening/rounds/{cr.pk}/coverage?area_id={node.pk}").status_code == 404


def test_api_batches_are_idempotent_and_validated(city, round_a, worker, as_user):
    c = as_user(worker)
    body = {"round_id": round_a.pk, "batch_key": "site-1-0900", "rows": _rows(city)}
    r = c.post("/api/screening/samples", data=json.dumps(body), content_type="application/json")
    assert r.status_code == 200, r.content
    out = r.json()
    assert (out["rows_ok"], out["rows_bad"], out["rows_duplicate"]) == (2, 2, 1)
    assert {(e["line"], e["field"]) for e in out["errors"]} == {(3, "id_number"), (4, "id_number")}
    again = c.post("/api/screening/samples", data=json.dumps(body), content_type="application/json").json()
    assert again["already_imported"] and len(_people()) == 2
    # a worker's rows for people outside the community are refused per row
    body2 = {"round_id": round_a.pk, "batch_key": "k2", "rows": [
        {"id_number": city["resident_b"].id_number, "barcode": "LZT0002", "sampled_at": f"{_today()} 10:00"}]}
    out2 = c.post("/api/screening/samples", data=json.dumps(body2), content_type="application/json").json()
    assert out2["rows_ok"] == 0 and "jurisdiction" in out2["errors"][0]["reason"]
    res = {"batch_key": "lab-1", "rows": [
        {"barcode": "LZT0001", "result": "阳性", "lab": "兰州", "reported_at": f"{_today()} 18:00"},
        {"barcode": "LZT0001", "result": "negative", "lab": "兰州", "reported_at": f"{_today()} 19:00"},
        {"barcode": "LZT0009", "result": "maybe", "lab": "兰州", "reported_at": f"{_today()} 19:00"},
        {"barcode": "LZT0010", "result": "negative", "lab": "兰\x00州", "reported_at": f"{_today()} 19:00"}]}
    out3 = c.post("/api/screening/results", data=json.dumps(res), content_type="application/json").json()
    assert (out3["rows_ok"], out3["rows_bad"], out3["rows_duplicate"]) == (1, 3, 1)
    assert {(e["line"], e["field"]) for e in out3["errors"]} == {(2, "barcode"), (3, "result"), (4, "lab")}
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
    assert AuditEntry.objects.filter(action="screening.round_close").count() == 1


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
    used = _count_pipelines(monkeypatch)
    # a writer that fails on its third chunk: the import stops with that error, nothing half-written
    real_write = _fail_third_write(monkeypatch, ingest._SampleWriter)
    with pytest.raises(RuntimeError, match="disk full"):
        import_samples(f.samples, round=r, actor="test", chunk_bytes=4096)
    monkeypatch.setattr(ingest._SampleWriter, "write", real_write)
    b = ImportBatch.objects.get(kind="samples")
    assert b.status == BatchStatus.RUNNING and len(_people(r)) == b.rows_ok > 0
    out = import_samples(f.samples, round=r, actor="test", chunk_bytes=4096).batch
    res = import_results(f.results, actor="test", chunk_bytes=2048).batch
    late = import_samples(f.samples_late, round=r, actor="test", chunk_bytes=4096).batch
    pg = connection.vendor == "postgresql"
    assert used["pipeline"] >= 3 if pg else used["pipeline"] == 0  # the late file is too small for it
    assert out.status == res.status == late.status == BatchStatus.DONE
    assert out.rows_ok == f.sample_good and late.rows_ok == f.sampled_late
    assert out.rows_bad == f.sample_duplicates + f.sample_malformed
    assert res.rows_ok == f.tubes_with_result
    people = _people(r)
    assert len(people) == len({x[0] for x in people}) == f.sampled
    assert SampleTally.objects.filter(round_id=r.pk).aggregate(n=Sum("n"))["n"] == len(people)
    r = actions.do_refresh_round(r, actor="test")
    assert r.sampled == f.sampled and r.tubes == f.tubes
    assert r.people_recalled == len(f.positive_people)


@pytest.mark.django_db(transaction=True)
def test_resident_index_is_kept_on_disk_while_the_residents_stand_still(tmp_path, settings, monkeypatch):
    """The ID number index survives the process (a file under CORDON_HOME, named by a token written into the
    database); a change to the residents, or another database, is never served a stale file."""
    from cordon.core.models import Stamp

    settings.HOME = tmp_path
    load_city(300, seed=2, progress=False)  # the bulk load builds it
    assert ResidentIndex._path().exists()
    loads = {"n": 0}
    real = ResidentIndex.load.__func__

    def counting(cls, n):
        loads["n"] += 1
        return real(cls, n)

    monkeypatch.setattr(ResidentIndex, "load", classmethod(counting))
    ResidentIndex._cache.clear()  # a new process
    idx = ResidentIndex.get()
    res = Resident.objects.order_by("id").first()
    found, rid, _ = idx.lookup(np.array([res.id_number], dtype="S18"))
    assert loads["n"] == 0 and found[0] and rid[0] == res.pk
    res.name = "改名"
    res.save()  # bumps the residents' stamp
    ResidentIndex._cache.clear()
    ResidentIndex.get()
    assert loads["n"] == 1
    ResidentIndex._cache.clear()
    ResidentIndex.get()
    assert loads["n"] == 1  # rewritten for the new state
    Stamp.objects.filter(name=ResidentIndex.TOKEN).update(n=12345)  # a copy of the file met another database
    ResidentIndex._cache.clear()
    ResidentIndex.get()
    assert loads["n"] == 2


# ---------------------------------------------------------------------------------------------- tube results
#: a lab's file: (row, what becomes of it); line = position + 2 (the header is line 1)
RESULT_ROWS = [
    ("LZT-0001,negative,兰州一,2022-11-08 16:28", "ok"),
    ("LZT-0002,positive,兰州一,2022-11-08T16:29:30", "ok"),
    ("LZT-0001,positive,兰州二,2022-11-08 17:00", "barcode"),         # the tube's second report
    ("LZT-0003,阳性,兰州一,2022-11-08 16:30", "ok"),                   # field by field
    ("LZT-0003,negative,x,2022-11-08 16:31", "barcode"),              # second report of a field-by-field row
    ('"LZT-0004",Negative,"lab, quoted",2022-11-08 16:32', "ok"),
    ("LZT-0005,maybe,lab,2022-11-08 16:33", "result"),
    (",negative,lab,2022-11-08 16:34", "barcode"),
    ("LZT-0006,negative,lab,2022-02-30 10:00", "reported_at"),        # no such day
    ("LZT-0006,invalid,lab,2022-11-08 10:00", "ok"),                  # the bad report before claims nothing
    ("LZT-0007,negative,lab,2022-11-08", "reported_at"),
    ("LZT-0008,negative," + "l" * 81 + ",2022-11-08 16:35", "lab"),
    ("LZT-0009,negative," + "检" * 80 + ",2022-11-08 16:36", "ok"),    # 80 characters, 240 bytes
    ("LZT-0010,negative,,2022-11-08 16:37", "ok"),
    ("", "skip"),
    ("LZT-0011,negative,lab,2022-11-08 16:38,extra", "row"),
    ("LZT-0012,invalid,lab,2022-11-08 16:39", "ok"),
    ("lzt-0012,negative,lab,2022-11-08 16:40", "ok"),                 # barcodes are case-sensitive
    ("LZT-0002,negative,兰州一,2022-11-08 18:00", "barcode"),
    ("LZT-0013,negative,lab,2022-11-08 16:41:07", "ok"),
]
#: a second lab's file: one tube of the first file, one reported twice
RESULT_ROWS_B = [
    ("LZT-0002,negative,other,2022-11-09 09:00", "barcode"),
    ("LZT-0100,positive,other,2022-11-09 09:01", "ok"),
    ("LZT-0100,negative,other,2022-11-09 09:02", "barcode"),
]
DUPLICATE = "tube already has a result (first report kept)"


def _results_file(path, rows, newline="\n"):
    path.write_bytes(("barcode,result,lab,reported_at" + newline
                      + "".join(r + newline for r, _ in rows)).encode("utf-8"))
    return path


def _expected_results(rows) -> dict:
    """barcode -> (result, lab, reported_at, line) of the rows kept."""
    out = {}
    for i, (row, fate) in enumerate(rows):
        if fate == "ok":
            bc, res, lab, t = next(csv.reader([row]))
            when = dt.datetime.fromisoformat(t.replace("T", " ")).replace(tzinfo=clock.tz())
            out[bc] = ({"阳性": "positive"}.get(res, res.lower()), lab, when, i + 2)
    return out


def _check_results_batch(b, rows):
    errors = {ln: (f, r) for ln, f, r in RowError.objects.filter(batch=b).values_list("line", "field", "reason")}
    want = {i + 2: fate for i, (_, fate) in enumerate(rows) if fate not in ("ok", "skip")}
    assert {ln: f for ln, (f, _) in errors.items()} == want
    dups = {ln for ln, (f, r) in errors.items() if r == DUPLICATE}
    assert dups == {ln for ln, f in want.items() if f == "barcode" and rows[ln - 2][0].split(",")[0]}
    assert b.status == BatchStatus.DONE and b.rows_bad == len(want) == RowError.objects.filter(batch=b).count()
    assert b.rows_duplicate == len(dups)
    assert b.rows_ok == TubeResult.objects.filter(batch_id=b.pk).count()


@pytest.mark.parametrize("chunk", [None, 64])
@pytest.mark.parametrize("path", ["vectorised", "crlf", "regex", "field", "probe", "conflict"])
def test_results_first_report_wins(db, tmp_path, monkeypatch, path, chunk):
    """Every way through the results import keeps the same rows: the vectorised scan of the canonical layout
    (LF or CRLF), the regular expression (a chunk that is not UTF-8), field by field (another layout), the
    table asked by the barcodes themselves (a collation that does not sort them as bytes), and the
    staging-table path that a unique violation falls back on (another import stored a tube after the chunk
    was checked). The first report of a tube wins, within a chunk, across chunks and across files."""
    from cordon.screening import ingest

    monkeypatch.setattr(ingest._ResultWriter, "ROWS_PER_INSERT", 3)  # SQLite: full statements and the rest
    if path == "regex":
        monkeypatch.setattr(ingest.parse, "_utf8", lambda buf: False)
    if path == "field":
        real_header = ingest._header
        monkeypatch.setattr(ingest.parse, "_header", lambda line, kind: (real_header(line, kind)[0], False))
    if path == "probe":
        monkeypatch.setattr(ingest._ResultWriter, "_ordered", lambda self, c: False)
    if path == "conflict":
        monkeypatch.setattr(ingest._ResultWriter, "_stored", lambda self, uniq: np.zeros(len(uniq), dtype=bool))
    kw = {"chunk_bytes": chunk} if chunk else {}
    nl = "\r\n" if path == "crlf" else "\n"
    a = import_results(_results_file(tmp_path / "a.csv", RESULT_ROWS, nl), actor="test", **kw).batch
    _check_results_batch(a, RESULT_ROWS)
    b = import_results(_results_file(tmp_path / "b.csv", RESULT_ROWS_B, nl), actor="test", **kw).batch
    _check_results_batch(b, RESULT_ROWS_B)
    want = {k: (*v, a.pk) for k, v in _expected_results(RESULT_ROWS).items()}
    want.update({k: (*v, b.pk) for k, v in _expected_results(RESULT_ROWS_B).items()})
    got = {t.barcode: (t.result, t.lab, t.reported_at, t.line, t.batch_id) for t in TubeResult.objects.all()}
    assert got == want
    assert (a.rows_ok, a.rows_bad, a.rows_duplicate, b.rows_ok, b.rows_bad, b.rows_duplicate) == (10, 9, 3, 1, 2, 2)


def _lab_file(path, n, *, start=0, overlap=(), seed=0):
    """A generated results file of ``n`` tubes (and ``overlap``: tubes of another file, reported again),
    with a second report after every 37th row and a malformed row after every 53rd. Returns the file, the
    kept rows (barcode -> (result, lab, line)), duplicates and malformed rows."""
    lines, kept, dups, bad = [], {}, 0, 0
    tubes = [f"LZP{start + i:06d}" for i in range(n)] + list(overlap)
    for i, bc in enumerate(tubes):
        res = ("negative", "positive", "invalid")[(i + seed) % 3]
        lab = f"实验室{(i + seed) % 7}"
        lines.append(f"{bc},{res},{lab},2022-11-08 {8 + i % 12:02d}:{i % 60:02d}")
        if bc in overlap:
            dups += 1
        else:
            kept[bc] = (res, lab, len(lines) + 1)
        if i % 37 == 5:
            lines.append(f"{bc},negative,again,2022-11-09 08:00")
            dups += 1
        if i % 53 == 7:
            lines.append(f",{res},{lab},2022-11-08 08:00")
            bad += 1
    path.write_text("barcode,result,lab,reported_at\n" + "\n".join(lines) + "\n", encoding="utf-8")
    return path, kept, dups, bad


def test_killed_and_resumed_results_import_keeps_every_row_once(db, tmp_path, monkeypatch):
    from cordon.screening import ingest

    f, kept, dups, bad = _lab_file(tmp_path / "r.csv", 600)
    monkeypatch.setattr(ingest._ResultWriter, "ROWS_PER_INSERT", 7)
    with pytest.raises(SimulatedCrash):
        import_results(f, actor="test", chunk_bytes=2048, stop_after=3)
    b = ImportBatch.objects.get(kind="results")
    assert b.status == BatchStatus.RUNNING and 0 < b.offset < b.size
    assert TubeResult.objects.count() == b.rows_ok > 0
    calls = {"n": 0}
    real = ingest._ResultWriter.write

    def dying(self, prep):  # killed after a chunk's rows were written, before its commit
        calls["n"] += 1
        real(self, prep)
        if calls["n"] == 2:
            raise KeyboardInterrupt("killed mid-chunk")

    monkeypatch.setattr(ingest._ResultWriter, "write", dying)
    with pytest.raises(KeyboardInterrupt):
        import_results(f, actor="test", chunk_bytes=2048)
    monkeypatch.setattr(ingest._ResultWriter, "write", real)
    b.refresh_from_db()
    assert TubeResult.objects.count() == b.rows_ok
    out = import_results(f, actor="test", chunk_bytes=2048)
    assert not out.already and out.batch.status == BatchStatus.DONE
    got = {t.barcode: (t.result, t.lab, t.line) for t in TubeResult.objects.all()}
    assert got == kept and out.batch.rows_ok == len(kept)
    assert out.batch.rows_duplicate == dups and out.batch.rows_bad == dups + bad
    assert RowError.objects.filter(batch=out.batch).values("line").distinct().count() == dups + bad
    assert AuditEntry.objects.filter(action="screening.import_results").count() == 1


@pytest.mark.django_db(transaction=True)
def test_results_import_outside_a_transaction(tmp_path, monkeypatch):
    """Results written by the writer thread on its own connection (PostgreSQL): a failing writer stops the
    import with nothing half-written and a rerun completes it; a second file's reports of tubes the first
    one stored are duplicates, also when the table is only found to hold them when the chunk is written."""
    from django.db import connection

    from cordon.screening import ingest

    used = _count_pipelines(monkeypatch)
    f, kept, dups, bad = _lab_file(tmp_path / "a.csv", 900)
    real_write = _fail_third_write(monkeypatch, ingest._ResultWriter)
    with pytest.raises(RuntimeError, match="disk full"):
        import_results(f, actor="test", chunk_bytes=2048)
    monkeypatch.setattr(ingest._ResultWriter, "write", real_write)
    b = ImportBatch.objects.get(kind="results")
    assert b.status == BatchStatus.RUNNING and TubeResult.objects.count() == b.rows_ok > 0
    a = import_results(f, actor="test", chunk_bytes=2048).batch
    assert (a.rows_ok, a.rows_duplicate, a.rows_bad) == (len(kept), dups, dups + bad)
    # the second file: its tubes of the first file are found by the chunk's check...
    g, kept_g, dups_g, bad_g = _lab_file(tmp_path / "b.csv", 300, start=5000, overlap=list(kept)[100:160], seed=1)
    b2 = import_results(g, actor="test", chunk_bytes=2048).batch
    # ...or, for a third, only by the unique violation of the chunk's COPY (stored by another import since)
    monkeypatch.setattr(ingest._ResultWriter, "_stored", lambda self, uniq: np.zeros(len(uniq), dtype=bool))
    h, kept_h, dups_h, bad_h = _lab_file(tmp_path / "c.csv", 300, start=9000, overlap=list(kept)[200:290], seed=2)
    b3 = import_results(h, actor="test", chunk_bytes=2048).batch
    pg = connection.vendor == "postgresql"
    assert used["pipeline"] >= 4 if pg else used["pipeline"] == 0  # SQLite's test database is in memory
    for batch, k, d, bb in ((b2, kept_g, dups_g, bad_g), (b3, kept_h, dups_h, bad_h)):
        assert batch.status == BatchStatus.DONE
        assert (batch.rows_ok, batch.rows_duplicate, batch.rows_bad) == (len(k), d, d + bb)
        assert RowError.objects.filter(batch=batch).count() == d + bb
    got = {t.barcode: (t.result, t.lab, t.line, t.batch_id) for t in TubeResult.objects.all()}
    want = {bc: (*v, a.pk) for bc, v in kept.items()}
    want.update({bc: (*v, b2.pk) for bc, v in kept_g.items()})
    want.update({bc: (*v, b3.pk) for bc, v in kept_h.items()})
    assert got == want


@pytest.mark.django_db(transaction=True)
def test_concurrent_results_imports_store_each_tube_once(tmp_path, monkeypatch):
    """Two labs' files with tubes in common imported at the same time (PostgreSQL): the second one's COPY
    waits for the first one's rows, fails on them once they are committed, and that chunk is written again
    through ``ON CONFLICT``: each tube stored once, the other reports duplicates, neither import fails."""
    import threading

    from django.db import connection, connections

    from cordon.screening import ingest

    if connection.vendor != "postgresql":
        pytest.skip("SQLite writes one transaction at a time")
    f1, kept1, dups1, bad1 = _lab_file(tmp_path / "a.csv", 400)
    f2, kept2, dups2, bad2 = _lab_file(tmp_path / "b.csv", 200, start=5000, overlap=list(kept1)[50:120], seed=1)
    a_copied, b_copies = threading.Event(), threading.Event()
    real_insert = ingest._ResultWriter._insert
    fallbacks = []
    real_fallback = ingest._ResultWriter._insert_on_conflict

    def insert(self, t):
        if self.batch.source == "b.csv":
            assert a_copied.wait(20)
            b_copies.set()
            return real_insert(self, t)
        real_insert(self, t)
        a_copied.set()
        assert b_copies.wait(20)
        threading.Event().wait(0.3)  # b's COPY now waits for these rows; they are committed next

    def fallback(self, t):
        fallbacks.append(self.batch.source)
        return real_fallback(self, t)

    monkeypatch.setattr(ingest._ResultWriter, "_insert", insert)
    monkeypatch.setattr(ingest._ResultWriter, "_insert_on_conflict", fallback)
    out = {}

    def run(name, path):
        try:
            out[name] = import_results(path, actor="test").batch
        except BaseException as e:  # noqa: BLE001 -- reported by the assertions below
            out[name] = e
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(n, p)) for n, p in (("a", f1), ("b", f2))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    a, b = out["a"], out["b"]
    assert isinstance(a, ImportBatch) and isinstance(b, ImportBatch), out
    assert fallbacks == ["b.csv"]
    assert (a.rows_ok, a.rows_duplicate, a.rows_bad) == (len(kept1), dups1, dups1 + bad1)
    assert (b.rows_ok, b.rows_duplicate, b.rows_bad) == (len(kept2), dups2, dups2 + bad2)
    assert RowError.objects.filter(batch=b, reason=DUPLICATE).count() == dups2
    got = {t.barcode: (t.result, t.lab, t.line, t.batch_id) for t in TubeResult.objects.all()}
    want = {bc: (*v, a.pk) for bc, v in kept1.items()}
    want.update({bc: (*v, b.pk) for bc, v in kept2.items()})
    assert got == want


def _count_pipelines(monkeypatch) -> dict:
    """Counts the imports that write on a second connection (``ingest._Pipeline``): {"pipeline": n}."""
    from cordon.screening import ingest

    used = {"pipeline": 0}
    real_init = ingest._Pipeline.__init__

    def counting(self, *a, **kw):
        used["pipeline"] += 1
        real_init(self, *a, **kw)

    monkeypatch.setattr(ingest._Pipeline, "__init__", counting)
    return used


def _fail_third_write(monkeypatch, writer):
    """``writer.write`` fails on its third chunk (a disk full); returns the real one to put back."""
    real_write = writer.write
    calls = {"n": 0}

    def failing(self, prep):
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("disk full (test)")
        return real_write(self, prep)

    monkeypatch.setattr(writer, "write", failing)
    return real_write


def test_counts_never_hide_unsampled_residents_behind_people_who_moved(city, round_a, commander, as_user):
    """Unit A's two residents are sampled, then one moves to community B (outside the round); a new resident of a
    second unit of community A is never sampled. The unit's tally (2) is more than its people (1): counted per
    unit, the round still shows that one resident missing, as the missing list does, at every level."""
    from cordon.core import ids
    from cordon.places.actions import do_create_resident, do_ensure_area, do_get_or_create_household, \
        do_move_resident

    unit_a2 = do_ensure_area(city["unit_a"].path.rsplit("/", 1)[0] + "/2单元", actor="test")
    newcomer = do_create_resident(do_get_or_create_household(unit_a2, "102", actor="test"), {
        "name": "赵敏", "id_number": ids.make_id_number("620102", dt.date(1990, 4, 1), 4, "F"),
        "phone": "13909310004"}, actor="test")
    rows = [{"id_number": p.id_number, "barcode": "LZT0009", "site": "五泉", "sampled_at": f"{_today()} 09:00"}
            for p in (city["resident_a"], city["resident_a2"])]
    got = as_user(commander).post("/api/screening/samples", data=json.dumps(
        {"round_id": round_a.pk, "batch_key": "moved", "rows": rows}), content_type="application/json").json()
    assert got["rows_ok"] == 2
    do_move_resident(city["resident_a2"], city["hh_b"], actor="test")
    actions.do_refresh_round(round_a, actor="test")
    round_a.refresh_from_db()
    assert [r.pk for r in queries.missing_residents(round_a, commander)] == [newcomer.pk]
    assert (round_a.due, round_a.sampled, round_a.missing) == (2, 1, 1)
    by_area = {c.area_id: (c.due, c.sampled, c.missing) for c in CoverageRow.objects.filter(round=round_a)}
    assert by_area[city["community_a"].pk] == by_area[city["district"].pk] == (2, 1, 1)
    building = Area.objects.get(pk=city["unit_a"].building_id)
    below = {c.area_id: (c.due, c.sampled, c.missing) for c in queries.coverage_children(round_a, commander, building)}
    assert below == {city["unit_a"].pk: (1, 1, 0), unit_a2.pk: (1, 0, 1)}
    units = {c.area_id: (c.due, c.sampled, c.missing)
             for c in queries.coverage_children(round_a, commander, Area.objects.get(pk=building.compound_id))}
    assert units == {building.pk: (2, 1, 1)}
