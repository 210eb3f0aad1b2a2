"""Situation sections and scoping, the bulletin (drafting, approve/publish with audit rows), the public pages
(no personal data, cacheable, lookup), the daily report (json/html/pdf) and the aggregate counts import."""
from __future__ import annotations

import datetime as dt
import json

import pytest

from tests.conftest import without_random_tokens
from tests.situation._sfixtures import DAY, situation_records


@pytest.fixture
def rec(city):
    return situation_records(city)


@pytest.fixture
def district_officer(city):
    from cordon.core.actions import do_create_user
    from tests.conftest import PASSWORD

    user, _ = do_create_user("district_cg", PASSWORD, role="district_officer", area=city["district"], actor="test")
    return user


# ------------------------------------------------------------------------------------------ sections

def test_registry_sections_city(rec):
    from cordon.situation.registry import SituationScope, collect

    s = collect(SituationScope.city(days=14), DAY)
    assert {"epi", "areas", "orders", "facilities", "response", "flags"} <= set(s)
    e = s["epi"]
    assert e["today"]["total"] == 5
    assert e["today"]["community"] == 3 and e["today"]["under_control"] == 2
    assert e["days"][-1] == DAY.isoformat() and len(e["days"]) == 14
    assert e["total"][-1] == 5 and e["community"][-4] == 1  # E-1 three days earlier
    assert e["days_since_community"] == 0 and e["community_zero"] is False
    assert {r["district"]: r["total"] for r in e["by_district"]} == {"城关区": 4, "七里河区": 1}
    a = s["areas"]
    assert a["active"]["high"] == 1
    assert [r["area"] for r in a["designated"]] == [rec["designation"].area.path]
    assert [r["area"] for r in a["lifted"]] == [rec["lifted"].area.path]
    assert s["orders"]["active"] == 2 and s["orders"]["new"] == 2
    assert s["facilities"]["capacity"] == 10
    assert s["response"]["open"] > 0


def test_days_since_community_after_quiet_days(rec):
    from cordon.situation.registry import SituationScope, collect

    s = collect(SituationScope.city(days=14), DAY + dt.timedelta(days=4), names=["epi"])
    assert s["epi"]["days_since_community"] == 4
    assert s["epi"]["community_zero"] is True


def test_district_officer_sees_only_their_district(rec, district_officer, city):
    from cordon.situation.registry import SituationScope, collect

    s = collect(SituationScope.for_user(district_officer, days=14), DAY)
    assert s["epi"]["today"]["total"] == 4
    assert [r["district"] for r in s["epi"]["by_district"]] == ["城关区"]


def test_community_worker_scope_and_district_page_404(rec, worker, outsider, as_user, city):
    from cordon.places.models import Area

    qlh = Area.objects.get(path="七里河区")
    r = as_user(worker).get(f"/api/situation?on={DAY}")
    assert r.status_code == 200
    data = r.json()["sections"]
    assert data["epi"]["today"]["total"] == 3  # unit A only (community A)
    assert as_user(worker).get(f"/situation/district/{qlh.pk}/").status_code == 404
    assert as_user(worker).get(f"/api/situation?district={qlh.pk}").status_code == 404
    r = as_user(outsider).get(f"/api/situation?on={DAY}")
    assert r.json()["sections"]["epi"]["today"]["total"] == 1


def test_situation_page_renders_charts(rec, commander, as_user, city):
    c = as_user(commander)
    r = c.get(f"/situation/?on={DAY}&days=30")
    assert r.status_code == 200
    html = r.content.decode()
    assert 'id="sit-curve"' in html and 'id="sit-rt"' in html and "<rect" in html
    assert "城关区" in html
    r = c.get(f"/situation/district/{city['district'].pk}/?on={DAY}")
    assert r.status_code == 200


def test_situation_query_budget(rec, commander, as_user, django_assert_max_num_queries):
    c = as_user(commander)
    # a constant number per section, whatever the city's size (key workers, passes, key places, resources and
    # command orders added seven)
    with django_assert_max_num_queries(52):
        assert c.get(f"/api/situation?on={DAY}").status_code == 200


def test_optional_sections_skip_when_app_missing(rec, settings):
    from cordon.situation import sections
    from cordon.situation.registry import SituationScope

    settings.INSTALLED_APPS = [a for a in settings.INSTALLED_APPS if a != "cordon.hotline"]
    assert sections.hotline(SituationScope.city(), DAY) is None


# ------------------------------------------------------------------------------------------ bulletin

EXPECTED = [
    "11月8日0—24时，全市新增本土确诊病例3例（其中社会面3例），新增本土无症状感染者2例（其中管控区内1例、集中隔离点内1例）。",
    "新增感染者分布：城关区4例（社会面2例、管控区内1例、集中隔离点内1例）；七里河区1例（社会面1例）。",
    "11月8日，全市新增高风险区1个：城关区皋兰路街道五泉社区五泉小区1号楼1单元；"
    "解除1个风险区（降为低风险区）：城关区皋兰路街道五泉社区五泉小区1号楼2单元。",
    "截至11月8日24时，全市现有高风险区1个、中风险区0个；在管密切接触者2人（集中隔离2人）。",
]


def test_bulletin_draft_text_for_known_day(rec):
    from cordon.situation import bulletin

    title, text, figures = bulletin.draft(DAY)
    assert title == "2022年11月8日全市新冠肺炎疫情情况通报"
    paras = text.split("\n\n")
    assert paras[:4] == EXPECTED, paras
    assert "D-1" not in text and "王秀英" not in text  # no case labels or names


def test_bulletin_quiet_day(rec):
    from cordon.situation import bulletin

    _t, text, _f = bulletin.draft(DAY + dt.timedelta(days=2))
    assert text.startswith("11月10日0—24时，全市无新增本土确诊病例和无症状感染者。")
    assert "全市社会面已连续2天无新增感染者。" in text


def test_bulletin_flow_with_audit_rows(rec, commander, deputy, worker, as_user):
    from cordon.core import clock
    from cordon.core.models import AuditEntry
    from cordon.situation.models import Bulletin

    c = as_user(commander)
    with clock.frozen(DAY + dt.timedelta(days=1)):
        r = c.post("/api/bulletins", json.dumps({"day": str(DAY)}), content_type="application/json")
        assert r.status_code == 201, r.content
        bid = r.json()["id"]
        assert r.json()["status"] == "draft"
        # not yet public
        assert c.get(f"/public/bulletins/{DAY}").status_code == 404
        # a community worker cannot approve: 403 (no command capability), the same for a bulletin that is not there
        wc = as_user(worker)
        assert wc.post(f"/api/bulletins/{bid}/approve", "{}", content_type="application/json").status_code == 403
        assert wc.post(f"/api/bulletins/{bid + 99}/approve", "{}", content_type="application/json").status_code == 403
        # publish before approval is refused
        r = c.post(f"/api/bulletins/{bid}/publish", "{}", content_type="application/json")
        assert r.status_code == 400 and r.json()["field"] == "status"
        r = c.patch(f"/api/bulletins/{bid}", json.dumps({"text": "编辑后的通报。", "reason": "wording"}),
                    content_type="application/json")
        assert r.status_code == 200 and r.json()["text"] == "编辑后的通报。"
        r = as_user(deputy).post(f"/api/bulletins/{bid}/approve", "{}", content_type="application/json")
        assert r.json()["status"] == "approved"
        r = c.post(f"/api/bulletins/{bid}/publish", "{}", content_type="application/json")
        assert r.json()["status"] == "published"
        # published: no more edits
        r = c.patch(f"/api/bulletins/{bid}", json.dumps({"text": "x"}), content_type="application/json")
        assert r.status_code == 400
    actions = list(AuditEntry.objects.filter(object_type="bulletin", object_id=str(bid)).order_by("id")
                   .values_list("action", "actor_name"))
    assert actions == [("bulletin.draft", "commander"), ("bulletin.edit", "commander"),
                       ("bulletin.approve", "deputy"), ("bulletin.publish", "commander")]
    b = Bulletin.objects.get(pk=bid)
    assert b.drafted_text != b.text
    r = as_user(None).get(f"/public/bulletins/{DAY}")
    assert r.status_code == 200 and "编辑后的通报。" in r.content.decode()
    assert "public" in r["Cache-Control"] and "max-age=60" in r["Cache-Control"]
    assert str(DAY) in as_user(None).get("/public/bulletins").content.decode()


def test_bulletin_pages_for_commander(rec, commander, deputy, as_user):
    from cordon.core import clock

    c = as_user(commander)
    with clock.frozen(DAY + dt.timedelta(days=1)):
        r = c.post("/situation/bulletins/draft/", {"day": str(DAY)})
        assert r.status_code == 302
        r = c.get(f"/situation/bulletins/{DAY}/")
        assert r.status_code == 200 and "全市新增本土确诊病例3例" in r.content.decode()
        r = as_user(deputy).post(f"/situation/bulletins/{DAY}/", {"action": "approve"})
        r = c.post(f"/situation/bulletins/{DAY}/", {"action": "publish"})
    from cordon.situation.models import Bulletin

    assert Bulletin.objects.get(day=DAY).status == "published"


# ------------------------------------------------------------------------------------------ public pages

def test_public_pages_no_personal_data_and_cacheable(rec, city, client, commander, deputy,
                                                    django_assert_max_num_queries):
    from cordon.core import clock
    from cordon.situation import actions

    with clock.frozen(DAY + dt.timedelta(days=1)):
        b = actions.do_draft_bulletin(DAY, actor=commander)
        actions.do_approve_bulletin(b, actor=deputy)
        actions.do_publish_bulletin(b, actor=commander)
    personal = [city["resident_a"].name, city["resident_a"].id_number, city["resident_a"].phone,
                city["resident_b"].name, "D-1", "K-1"]
    for url in ("/public/", "/public/bulletins", f"/public/bulletins/{DAY}", "/public/lookup?q=五泉小区1号楼",
                "/public/lookup.json?q=五泉小区1号楼"):
        with django_assert_max_num_queries(8):
            r = client.get(url)
        assert r.status_code == 200, url
        body = without_random_tokens(r.content.decode())
        for p in personal:
            assert p not in body, (url, p)
        cc = r["Cache-Control"]
        assert "public" in cc and "max-age=60" in cc, (url, cc)
        assert "Set-Cookie" not in r.headers or "sessionid" not in r.headers.get("Set-Cookie", "")


def test_lookup_finds_building_status(rec, client):
    from cordon.situation import public

    public.invalidate()
    r = client.get("/public/lookup.json", {"q": "五泉小区1号楼"})
    data = r.json()
    assert [m["address"] for m in data["matches"]] == ["城关区/皋兰路街道/五泉社区/五泉小区/1号楼"]
    m = data["matches"][0]
    assert m["status"] == "partly_high"
    rows = {d["area"]: d for d in m["designations"]}
    unit = rows["城关区/皋兰路街道/五泉社区/五泉小区/1号楼/1单元"]
    assert unit["level"] == "high" and unit["where"] == "below" and unit["since"] == str(DAY)
    assert unit["expected_change"] is not None
    assert rows["城关区/皋兰路街道/五泉社区/五泉小区/1号楼/2单元"]["status"] == "observation"
    # a unit, spelled differently
    data = client.get("/public/lookup.json", {"q": "皋兰路街道 五泉小区 1栋 1单元"}).json()
    assert data["matches"][0]["address"].endswith("1号楼/1单元")
    assert data["matches"][0]["status"] == "high"
    # full path with a door number
    data = client.get("/public/lookup.json", {"q": "城关区/皋兰路街道/五泉社区/五泉小区/1号楼/1单元/101"}).json()
    assert data["matches"][0]["status"] == "high"
    # not designated
    data = client.get("/public/lookup.json", {"q": "白银小区2号楼"}).json()
    assert data["matches"][0]["status"] == "none"
    assert client.get("/public/lookup.json", {"q": "不存在的小区"}).json()["matches"] == []
    html = client.get("/public/lookup", {"q": "五泉小区1号楼1单元"}).content.decode()
    assert 'data-status="high"' in html and "/public/risk-areas" in html


def test_lookup_resolve_queries_are_bounded(rec, django_assert_max_num_queries):
    from cordon.situation import public

    public.invalidate()
    with django_assert_max_num_queries(9):
        public.lookup("城关区皋兰路街道五泉社区五泉小区1号楼1单元")
    with django_assert_max_num_queries(0):
        public.lookup("城关区皋兰路街道五泉社区五泉小区1号楼1单元")  # cached


# ------------------------------------------------------------------------------------------ daily report

def test_daily_report_json_html_pdf(rec, tmp_path):
    from cordon.cli import main

    out = tmp_path / "d.json"
    assert main(["report", "daily", "--date", str(DAY), "--format", "json", "--out", str(out)]) == 0
    data = json.loads(out.read_text())
    assert data["day"] == str(DAY)
    assert len(data["sections"]["epi"]["ids"]["infections"]) == 5
    assert data["sections"]["areas"]["ids"]["designated"] == [rec["designation"].pk]
    assert data["sections"]["areas"]["ids"]["lifted"] == [rec["lifted"].pk]
    first = data["groups"][0]["rows"][0]
    assert first["value"] == 5 and first["ids"]
    out = tmp_path / "d.html"
    assert main(["report", "daily", "--date", str(DAY), "--format", "html", "--out", str(out),
                 "--base-url", "https://cordon.example/"]) == 0
    html = out.read_text()
    assert f'https://cordon.example/zones/{rec["designation"].pk}/' in html
    assert "日清日结" in html
    out = tmp_path / "d.pdf"
    assert main(["report", "daily", "--date", str(DAY), "--format", "pdf", "--out", str(out)]) == 0
    pdf = out.read_bytes()
    assert pdf.startswith(b"%PDF")
    assert b"STSong-Light" in pdf
    assert b"/URI" in pdf  # links back to the records


def test_daily_page_scoped(rec, worker, commander, as_user):
    r = as_user(worker).get(f"/situation/daily/{DAY}/?format=json")
    assert r.status_code == 200
    assert len(r.json()["sections"]["epi"]["ids"]["infections"]) == 3
    r = as_user(commander).get(f"/situation/daily/{DAY}/")
    assert r.status_code == 200 and "日清日结" in r.content.decode()
    r = as_user(commander).get(f"/situation/daily/{DAY}/?format=pdf")
    assert r.status_code == 200 and r.content.startswith(b"%PDF")


# ------------------------------------------------------------------------------------------ counts import

CSV = """date,confirmed,asymptomatic,asym_to_confirmed,confirmed_in_control,asymptomatic_in_control,confirmed_screening,asymptomatic_screening,in_control_total,screening_total,deaths,new_local_infections
2022-04-01,260,6051,2,8,5402,250,649,5410,899,0,6309
2022-04-02,438,7788,73,16,6773,349,1015,6789,1364,0,8153
2022-04-03,x,8581,71,7,7920,347,661,7927,1008,0,8935
2022-04-04,268,-5,4,14,12592,250,494,12606,744,0,13350
2022-04-05,311,16766,40,4,16256,267,510,16260,777,0,99
2022-04-02,1,1,0,0,0,0,0,0,0,0,2
not-a-date,1,1,0,0,0,0,0,0,0,0,2
"""


def test_counts_import_reports_bad_rows(db, tmp_path):
    from cordon.situation.actions import do_import_counts
    from cordon.situation.models import DailyCount

    f = tmp_path / "c.csv"
    f.write_text(CSV)
    rep = do_import_counts(f, series="t", actor="test")
    assert rep.rows == 7 and rep.created == 2
    errs = [(e.line, e.field) for e in rep.errors]
    assert errs == [(4, "confirmed"), (5, "asymptomatic"), (6, "new_local_infections"), (7, "date"), (8, "date")]
    assert "negative" in rep.errors[1].reason
    row = DailyCount.objects.get(series="t", day=dt.date(2022, 4, 1))
    assert (row.new_local, row.in_control, row.community) == (6309, 5410, 899)
    rep = do_import_counts(f, series="t", actor="test")
    assert rep.created == 0 and rep.unchanged == 2


def test_counts_import_cli_and_page(db, tmp_path, commander, as_user):
    from cordon.cli import main

    path = "/work/shared/data/shanghai-2022/daily_control_vs_screening.csv"
    assert main(["import", "counts", path, "--name", "shanghai-2022"]) == 0
    from cordon.situation.models import DailyCount

    assert DailyCount.objects.filter(series="shanghai-2022").count() == 292
    assert not DailyCount.objects.get(series="shanghai-2022", day=dt.date(2022, 3, 1)).split_known
    r = as_user(commander).get("/situation/counts/shanghai-2022/")
    assert r.status_code == 200
    html = r.content.decode()
    assert 'id="counts-curve"' in html and 'id="counts-rt"' in html and "<polyline" in html
    bad = tmp_path / "bad.csv"
    bad.write_text("day,n\n2022-01-01,3\n")
    assert main(["import", "counts", str(bad), "--name", "x"]) == 2
