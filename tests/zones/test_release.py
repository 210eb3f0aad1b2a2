"""The release board: areas due to step down or lift today and in the next days, and those waiting on a round,
with the evidence (days without a new case, the rounds that count, what is missing); scoped."""
from __future__ import annotations

import datetime as dt

from cordon.core import clock
from cordon.zones.actions import do_designate, do_record_round, do_tick
from cordon.zones.models import Designation
from cordon.zones.queries import release_board

D0 = dt.date(2022, 11, 8)


def _at(day, hour=12):
    return clock.frozen(dt.datetime.combine(day, dt.time(hour, 0), tzinfo=clock.tz()))


def _areas(city):
    with _at(D0):
        a = do_designate(city["unit_a"], "high", on=D0, reason="S1", exposure_note="home", actor="test")
        b = do_designate(city["unit_b"], "high", on=D0 - dt.timedelta(days=3), reason="S2", exposure_note="home",
                         actor="test")
    return a, b


def test_board_rows_and_evidence(city):
    a, b = _areas(city)
    day6 = D0 + dt.timedelta(days=6)
    # a: round on day 7 still ahead (projected: steps down on day 8, in two days); b: its day-7 round (D0+4)
    # was missed, then held negative on D0+5
    rows = {r["d"].pk: r for r in release_board(Designation.objects.all(), day6, days=3)}
    assert rows[a.pk]["on"] == D0 + dt.timedelta(days=8) and rows[a.pk]["in_days"] == 2
    assert rows[a.pk]["to"] == "medium" and rows[a.pk]["clean_days"] == 6 and rows[a.pk]["needs_days"] == 7
    assert rows[a.pk]["round_on"] == D0 + dt.timedelta(days=7) and rows[a.pk]["rounds"] == []
    assert rows[b.pk]["on"] is None and rows[b.pk]["waiting_kind"] == "round_missing"
    with _at(D0 + dt.timedelta(days=5), 21):
        do_record_round(b, on=D0 + dt.timedelta(days=5), result="negative", actor="test", reason="screening round 9")
    rows = {r["d"].pk: r for r in release_board(Designation.objects.all(), day6, days=3)}
    # the late round let b step down to medium on D0+5; medium entered from high leaves after 3 clean days
    assert (rows[b.pk]["level"], rows[b.pk]["to"], rows[b.pk]["in_days"], rows[b.pk]["waiting"]) == \
        ("medium", "low", 2, "")
    day7 = D0 + dt.timedelta(days=7)
    with _at(day7, 21):
        do_record_round(a, on=day7, result="negative", actor="test", reason="screening round 10")
    rows = {r["d"].pk: r for r in release_board(Designation.objects.all(), day7, days=3)}
    assert rows[a.pk]["in_days"] == 1 and rows[a.pk]["rounds"] == [
        {"on": day7, "result": "negative", "source": "screening round 10", "counts": True}]
    # outside the horizon: a designated today is due in 8 days, not on a 3-day board
    assert a.pk not in {r["d"].pk for r in release_board(Designation.objects.all(), D0, days=3)}


def test_board_page_is_scoped_and_renders(city, worker, outsider, commander, as_user):
    a, b = _areas(city)
    day8 = D0 + dt.timedelta(days=8)
    with _at(day8, 0):
        do_tick(day8)
    with _at(day8, 9):
        page = as_user(commander).get("/zones/release/").content.decode()
        # both wait on a round nobody recorded (a: day 7, b: day 7 of its own clock), flagged today
        assert city["unit_a"].path in page and city["unit_b"].path in page
        assert "2 areas wait on a required round nobody recorded" in as_user(commander).get(
            "/zones/release/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
        mine = as_user(worker).get("/zones/release/").content.decode()
        assert city["unit_a"].path in mine and city["unit_b"].path not in mine
        theirs = as_user(outsider).get("/zones/release/").content.decode()
        assert city["unit_b"].path in theirs and city["unit_a"].path not in theirs
