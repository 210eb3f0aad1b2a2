"""A screening round ends: closed by hand (page, API) or by itself when its results are complete; a closed round
takes no more registrations; its outcome counts for the clock of the designated areas it covers whole (and only
those), so the area steps down on its day without a second entry."""
from __future__ import annotations

import datetime as dt
import json

import pytest

from cordon.core import clock
from cordon.core.actions import ActionError, Conflict
from cordon.core.models import AuditEntry
from cordon.screening import actions
from cordon.screening.ingest import import_rows
from cordon.zones.actions import do_designate, do_tick
from cordon.zones.models import Event, Flag
from cordon.zones.queries import state_of

pytestmark = pytest.mark.usefixtures("in_english")  # messages are read in English here

D0 = dt.date(2022, 11, 8)


def _at(day: dt.date, hour: int = 12):
    return clock.frozen(dt.datetime.combine(day, dt.time(hour, 0), tzinfo=clock.tz()))


def _sample(r, people, barcode="LZC0001", day=None, key="s"):
    day = day or r.on
    return import_rows("samples", f"{key}-{r.pk}", [
        {"id_number": p.id_number, "barcode": barcode, "site": "五泉", "sampled_at": f"{day} 09:00"} for p in people],
        round=r, actor="test")


def _result(barcode, result="negative", day=None, key=None):
    day = day or D0
    return import_rows("results", key or f"r-{barcode}", [{"barcode": barcode, "result": result,
                                                           "reported_at": f"{day} 20:00"}], round=None, actor="test")


@pytest.fixture
def area(city):
    """unit A designated high on D0 (ninth edition: 7 clean days and a negative round on day 7)."""
    with _at(D0):
        return do_designate(city["unit_a"], "high", on=D0, reason="S1", exposure_note="home", actor="test")


def _round(city, on, **kw):
    with _at(on, 8):
        return actions.do_create_round(name="r", on=on, actor="test", **{"areas": [city["unit_a"]], **kw})


def test_closed_negative_round_counts_for_the_area_clock(city, area):
    day7 = D0 + dt.timedelta(days=7)
    r = _round(city, day7)
    with _at(day7, 21):
        _sample(r, [city["resident_a"], city["resident_a2"]])
        _result("LZC0001", day=day7)
        actions.do_close_round(r, actor="test")
    ev = Event.objects.get(designation=area, kind="round")
    assert (ev.on, ev.result, ev.reason) == (day7, "negative", f"screening round {r.pk}")
    st = state_of(area, day7)
    assert st.next is not None and (st.next.level, st.next.on) == ("medium", day7 + dt.timedelta(days=1))
    with _at(day7 + dt.timedelta(days=1), 0):
        do_tick(day7 + dt.timedelta(days=1))
    area.refresh_from_db()
    assert area.level == "medium"  # stepped down on its day, nobody recorded the round on the designation
    e = AuditEntry.objects.get(action="screening.round_close")
    assert e.after["areas"] == {city["unit_a"].path: "negative"} and e.actor_name == "test"


def test_positive_or_uncovering_round_does_not_count(city, area):
    day7 = D0 + dt.timedelta(days=7)
    other = _round(city, day7, areas=[city["unit_b"]])  # does not cover the area
    positive = _round(city, day7)
    with _at(day7, 21):
        _sample(other, [city["resident_b"]], barcode="LZC0002")
        _result("LZC0002", day=day7)
        actions.do_close_round(other, actor="test")
        assert not Event.objects.filter(designation=area, kind="round").exists()
        _sample(positive, [city["resident_a"]], barcode="LZC0003")
        _result("LZC0003", "positive", day=day7)
        actions.do_close_round(positive, actor="test")
    assert list(Event.objects.filter(designation=area, kind="round").values_list("result", flat=True)) == ["positive"]
    st = state_of(area, day7 + dt.timedelta(days=1))
    assert st.level == "high" and st.next is None and st.waiting.kind == "round_positive"


def test_round_over_part_of_an_area_does_not_count(city):
    with _at(D0):
        d = do_designate(city["community_a"], "high", on=D0, reason="S1", exposure_note="home", actor="test")
    r = _round(city, D0 + dt.timedelta(days=7))  # unit A only: a part of the community
    with _at(D0 + dt.timedelta(days=7), 21):
        _sample(r, [city["resident_a"]])
        _result("LZC0001")
        actions.do_close_round(r, actor="test")
    assert not Event.objects.filter(designation=d, kind="round").exists()


def test_closing_a_closed_round_and_reopening_need_care(city, area):
    r = _round(city, D0)
    with _at(D0, 21):
        actions.do_close_round(r, actor="test")
        with pytest.raises(Conflict) as e:
            actions.do_close_round(r, actor="test")
        assert "already closed" in str(e.value) and e.value.field == "status"
        with pytest.raises(ActionError) as e:
            actions.do_reopen_round(r, actor="test", reason=" ")
        assert e.value.field == "reason"
        actions.do_reopen_round(r, actor="test", reason="late registrations")
        with pytest.raises(Conflict):
            actions.do_reopen_round(r, actor="test", reason="again")
    assert [a for a, in AuditEntry.objects.filter(action__startswith="screening.round_").exclude(
        action__in=["screening.round_create", "screening.round_refresh"]).order_by("id").values_list("action")] == \
        ["screening.round_close", "screening.round_reopen"]


def test_closed_round_takes_no_more_registrations(city, area):
    r = _round(city, D0)
    with _at(D0, 21):
        actions.do_close_round(r, actor="test")
        with pytest.raises(ActionError) as e:
            _sample(r, [city["resident_a"]])
    assert e.value.field == "round" and "closed" in str(e.value)
    assert not actions.Sample.objects.filter(round=r).exists()


def test_closed_round_takes_no_more_results(city, area, tmp_path):
    from cordon.screening.ingest import import_results
    from cordon.screening.models import RowError, TubeResult

    r = _round(city, D0)
    with _at(D0, 21):
        _sample(r, [city["resident_a"]], barcode="LZC0001")
        _sample(r, [city["resident_a2"]], barcode="LZC0009", key="t")
        _result("LZC0009")
        actions.do_close_round(r, actor="test")  # LZC0001 never got its result
        out = _result("LZC0001", key="late")
        assert (out.batch.rows_ok, list(RowError.objects.filter(batch=out.batch).values_list("line", "field"))) == \
            (0, [(1, "barcode")])
        assert "closed round" in RowError.objects.get(batch=out.batch).reason
        f = tmp_path / "late.csv"  # the file path (vectorised) refuses it the same way
        f.write_text(f"barcode,result,lab,reported_at\nLZC0001,negative,lab,{D0} 21:00\nLZC0777,negative,lab,"
                     f"{D0} 21:00\n", encoding="utf-8")
        b = import_results(f, actor="test").batch
        assert b.rows_ok == 1 and list(RowError.objects.filter(batch=b).values_list("line", "field")) == \
            [(2, "barcode")]
    assert not TubeResult.objects.filter(barcode="LZC0001").exists()
    assert TubeResult.objects.filter(barcode="LZC0777").exists()


def test_round_closes_itself_when_results_are_complete(city, area):
    day7 = D0 + dt.timedelta(days=7)
    r = _round(city, day7)
    with _at(day7, 12):
        _sample(r, [city["resident_a"]], barcode="LZC0001", key="a")
        _result("LZC0001", day=day7)
        actions.do_refresh_round(r, actor="test")
    r.refresh_from_db()
    assert r.status == "open"  # the day's sampling is not over and someone due is not sampled yet
    with _at(day7, 13):
        _sample(r, [city["resident_a2"]], barcode="LZC0002", key="b")
        actions.do_refresh_round(r, actor="test")
    r.refresh_from_db()
    assert r.status == "open"  # a tube without its result
    with _at(day7, 21):
        _result("LZC0002", day=day7)
        out = actions.do_close_complete_rounds(actor="system")
    r.refresh_from_db()
    assert r.status == "closed" and out == {"closed": [r.pk]}
    e = AuditEntry.objects.get(action="screening.round_close")
    assert e.actor_name == "system" and "complete" in e.reason
    assert Event.objects.get(designation=area, kind="round").result == "negative"
    with _at(day7, 22):
        assert actions.do_close_complete_rounds(actor="system") == {"closed": []}


def test_close_api_and_page(city, area, worker, outsider, auditor, as_user):
    r = _round(city, D0)
    with _at(D0, 21):
        assert as_user(outsider).post(f"/api/screening/rounds/{r.pk}/close", "{}",
                                      content_type="application/json").status_code == 404
        assert as_user(auditor).post(f"/api/screening/rounds/{r.pk}/close", "{}",
                                     content_type="application/json").status_code == 403
        c = as_user(worker)
        res = c.post(f"/api/screening/rounds/{r.pk}/close", "{}", content_type="application/json")
        assert res.status_code == 200 and res.json()["status"] == "closed"
        res = c.post(f"/api/screening/rounds/{r.pk}/close", "{}", content_type="application/json")
        assert res.status_code == 409 and res.json()["field"] == "status"
        res = c.post(f"/api/screening/rounds/{r.pk}/reopen", json.dumps({"reason": ""}),
                     content_type="application/json")
        assert res.status_code == 400 and res.json()["field"] == "reason"
        page = c.get(f"/screening/{r.pk}/").content.decode()
        assert "reopen" in page
        assert c.post(f"/screening/{r.pk}/close/", {"action": "reopen", "reason": "late"}).status_code == 302
        r.refresh_from_db()
        assert r.status == "open"
        assert c.post(f"/screening/{r.pk}/close/", {"action": "close"}).status_code == 302
        r.refresh_from_db()
        assert r.status == "closed"
        assert as_user(auditor).post(f"/screening/{r.pk}/close/", {"action": "reopen", "reason": "x"}).status_code == 403


def test_missing_required_round_is_flagged_every_day_until_recorded(city, area):
    day7 = D0 + dt.timedelta(days=7)
    for k in (7, 8, 9):
        day = D0 + dt.timedelta(days=k)
        with _at(day, 0):
            do_tick(day)
    flags = list(Flag.objects.filter(designation=area, check_key="round_missing").order_by("on")
                 .values_list("on", "rule"))
    assert flags == [(day7, "nine-prohibitions-3"), (day7 + dt.timedelta(days=1), "nine-prohibitions-3"),
                     (day7 + dt.timedelta(days=2), "nine-prohibitions-3")]
    f = Flag.objects.filter(check_key="round_missing").first()
    assert "全员核酸" in f.message and "day 7" in f.message_en
    # a round held late (day 9), closed negative: recorded, so no more flags; the area steps down
    r = _round(city, D0 + dt.timedelta(days=9))
    with _at(D0 + dt.timedelta(days=9), 21):
        _sample(r, [city["resident_a"], city["resident_a2"]])
        _result("LZC0001", day=D0 + dt.timedelta(days=9))
        actions.do_close_round(r, actor="test")
    day10 = D0 + dt.timedelta(days=10)
    with _at(day10, 0):
        do_tick(day10)
    assert not Flag.objects.filter(check_key="round_missing", on=day10).exists()
    area.refresh_from_db()
    assert area.level == "medium"


def test_the_close_job_reads_the_last_results_batch_once(city, area, django_assert_num_queries):
    """Rounds counted since the last results batch finished are skipped on two reads in all (the last results
    batch, the open rounds), however many rounds there are."""
    day7 = D0 + dt.timedelta(days=7)
    rounds = [_round(city, day7) for _ in range(3)]
    with _at(day7, 12):
        _result("LZC0009", day=day7)
        for i, r in enumerate(rounds):
            _sample(r, [city["resident_a"]], barcode=f"LZC000{i}", key=f"k{i}")
    with _at(day7, 13):
        for r in rounds:
            actions.do_refresh_round(r, actor="test")
    with _at(day7, 14), django_assert_num_queries(2):
        assert actions.do_close_complete_rounds(actor="system") == {"closed": []}
