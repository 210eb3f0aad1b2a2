"""The public lookup's in-memory address index (``situation.addressindex``) and its middleware fast path
(``situation.middleware.PublicLookupMiddleware``): the same matches as the ORM walk, the same body and headers
as the full middleware stack, no query once warm, and fresh after areas are added."""
from __future__ import annotations

import datetime as dt
import random

import pytest
from django.test import Client, override_settings

from tests.situation._sfixtures import DAY, situation_records

FAST = "cordon.situation.middleware.PublicLookupMiddleware"
QUERIES = [
    "五泉小区1号楼", "皋兰路街道 五泉小区 1栋 1单元", "城关区/皋兰路街道/五泉社区/五泉小区/1号楼/1单元/101",
    "白银小区2号楼", "不存在的小区", "城关区", "城关区皋兰路街道五泉社区五泉小区1号楼1单元", "皋兰路街道五泉小区",
    "五泉社区1号楼", "五泉小区1单元", "七里河区西湖小区3号楼2单元", "西湖小区3幢", "城关区1号楼", "五", "",
    "五泉小区９号楼", "皋兰路街道", "五泉小区1号楼3单元", "城关区皋兰路街道1号楼2单元",
]


@pytest.fixture
def rec(city):
    return situation_records(city)


def _key(places):
    from cordon.core.models import LEVELS

    return [(a.pk, a.path, a.kind, a.depth, *(getattr(a, f"{lv}_id") for lv in LEVELS)) for a in places]


def _index():
    from django.core.cache import cache

    from cordon.situation import addressindex, public

    public.invalidate()  # a new generation: the index compares itself with the table
    ix = addressindex.get(cache.get(public._GEN))
    assert ix is not None, addressindex.stats()
    return ix


def test_index_matches_the_orm_walk(rec):
    from cordon.situation import public

    ix = _index()
    for q in QUERIES:
        db, norm_db = public.resolve_db(q)
        mem, norm = public.resolve_indexed(ix, q)
        assert (_key(mem), norm) == (_key(db), norm_db), q


def test_index_matches_the_orm_walk_on_a_generated_city(db):
    from cordon.places.bulk import load_city
    from cordon.places.models import Area
    from cordon.situation import public

    load_city(3_000, seed=7, progress=False)
    ix = _index()
    rng = random.Random(7)
    paths = list(Area.objects.filter(kind__in=("building", "unit", "compound")).values_list("path", flat=True))
    queries = []
    for path in rng.sample(paths, 150):
        parts = path.split("/")
        queries += ["".join(parts[1:]), "".join(parts[3:]), "/".join(parts) + "/301", parts[1] + "".join(parts[3:]),
                    "".join(parts[2:])[:-1], parts[0] + "".join(parts[4:]), "".join(parts)]
    for q in queries:
        db_, norm_db = public.resolve_db(q)
        mem, norm = public.resolve_indexed(ix, q)
        assert (_key(mem), norm) == (_key(db_), norm_db), q
    assert sum(1 for q in queries if public.resolve_indexed(ix, q)[0]) > len(queries) // 2


def _get(client, q, **headers):
    from cordon.core import clock
    from cordon.situation import public

    public.invalidate()  # computed afresh, not from the answer cache
    with clock.frozen(dt.datetime(2022, 11, 9, 10, 0, tzinfo=clock.tz())):
        return client.get("/public/lookup.json", {"q": q} if q is not None else {}, **headers)


def test_fast_path_answers_as_the_full_stack(rec, client, settings, monkeypatch):
    from cordon.situation import middleware

    served = []
    answer = middleware.PublicLookupMiddleware.answer
    monkeypatch.setattr(middleware.PublicLookupMiddleware, "answer",
                        lambda self, request: served.append(1) or answer(self, request))
    assert FAST in settings.MIDDLEWARE
    slow_stack = [m for m in settings.MIDDLEWARE if m != FAST]
    for q in ["五泉小区1号楼", "皋兰路街道 五泉小区 1栋 1单元", "白银小区2号楼", "不存在的小区", "", None, "  "]:
        for headers in ({}, {"HTTP_ACCEPT_LANGUAGE": "en"}, {"HTTP_ACCEPT_LANGUAGE": "zh-CN,zh;q=0.9"}):
            n = len(served)
            fast = _get(client, q, **headers)
            assert len(served) == n + 1, (q, headers)
            with override_settings(MIDDLEWARE=slow_stack):
                slow = _get(Client(), q, **headers)  # a new client loads the stack without the fast path
            assert len(served) == n + 1
            assert fast.status_code == slow.status_code == 200
            assert fast.content == slow.content, (q, headers)
            assert dict(fast.headers) == dict(slow.headers), (q, headers)
    r = _get(client, "五泉小区1号楼")
    assert r["X-Frame-Options"] == "DENY" and r["X-Content-Type-Options"] == "nosniff"
    assert "frame-ancestors 'none'" in r["Content-Security-Policy"] and r["Cache-Control"] == "public, max-age=60"
    assert r.json()["matches"][0]["status"] == "partly_high"


def test_fast_path_leaves_other_requests_to_the_stack(rec, client, monkeypatch):
    from cordon.situation import middleware

    served = []
    answer = middleware.PublicLookupMiddleware.answer
    monkeypatch.setattr(middleware.PublicLookupMiddleware, "answer",
                        lambda self, request: served.append(1) or answer(self, request))
    client.cookies["sessionid"] = "x"  # a cookie: the stack below may answer differently (here: drop it)
    r = _get(client, "五泉小区1号楼")
    assert r.status_code == 200 and r.json()["matches"] and not served
    client.cookies.clear()
    assert client.head("/public/lookup.json", {"q": "五泉小区1号楼"}).status_code == 405
    assert client.post("/public/lookup.json", {"q": "五泉小区1号楼"}).status_code in (403, 405)
    assert client.get("/public/lookup", {"q": "五泉小区1号楼"}).status_code == 200
    assert not served
    assert _get(client, "五泉小区1号楼", HTTP_HOST="evil.example").status_code == 400


def test_warm_lookup_makes_no_query(rec, client, django_assert_num_queries):
    from cordon.situation import public

    public.invalidate()
    client.get("/public/lookup.json", {"q": "五泉小区1号楼"})  # builds the index and the designation snapshot
    with django_assert_num_queries(0):
        r = client.get("/public/lookup.json", {"q": "城关区皋兰路街道五泉社区五泉小区1号楼1单元"})
    assert r.json()["matches"][0]["status"] == "high"


def test_index_follows_new_areas(rec, client, monkeypatch):
    from cordon.places.actions import do_ensure_area
    from cordon.places.models import Area
    from cordon.situation import addressindex, public

    _index()
    assert public.lookup_json("新建小区1号楼") and public.resolve("新建小区1号楼")[0] == []
    do_ensure_area("城关区/皋兰路街道/五泉社区/新建小区/1号楼", actor="test")  # saved here: stale at once
    assert [a.path for a in public.resolve("新建小区1号楼")[0]] == ["城关区/皋兰路街道/五泉社区/新建小区/1号楼"]
    # rows written without signals (a bulk load, another process) are seen at the next check
    compound = Area.objects.get(path="城关区/皋兰路街道/五泉社区/新建小区")
    b = Area(kind="building", name="2号楼", parent=compound, path=compound.path + "/2号楼", depth=4)
    b.set_scope_from(compound)
    Area.objects.bulk_create([b])
    Area.objects.filter(path=b.path).update(building_id=Area.objects.get(path=b.path).pk)
    assert public.resolve("新建小区2号楼")[0][0].path.endswith("新建小区")  # not yet checked
    monkeypatch.setattr(addressindex, "CHECK_SECONDS", 0)
    assert public.resolve("新建小区2号楼")[0][0].path.endswith("新建小区/2号楼")


def test_index_declines_a_table_it_does_not_fit(rec):
    from cordon.places.models import Area
    from cordon.situation import addressindex, public

    # a unit whose building id points at a compound: the ORM walk still answers; the index steps aside
    unit = Area.objects.get(path="城关区/皋兰路街道/五泉社区/五泉小区/1号楼/1单元")
    Area.objects.filter(pk=unit.pk).update(building_id=unit.compound_id)
    addressindex.mark_stale()
    assert addressindex.get(0) is None and "building" in addressindex.stats()["why"]
    assert _key(public.resolve("五泉小区1号楼")[0]) == _key(public.resolve_db("五泉小区1号楼")[0])
    Area.objects.filter(pk=unit.pk).update(building_id=unit.building_id)
    addressindex.mark_stale()
    assert addressindex.get(0) is not None


def test_index_stats(rec):
    from cordon.places.models import Area
    from cordon.situation import addressindex

    _index()
    s = addressindex.stats()
    assert s["usable"] and s["areas"] == Area.objects.count() and s["bytes"] > 0 and s["build_s"] >= 0
    assert DAY  # the fixture's day, for the designations the statuses come from
