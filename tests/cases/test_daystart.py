"""The day start on PostgreSQL in parts (``cases.daystart``): each block range of the orders table stepped down and
released by its own connection at once, with what one connection does: one audit row per order released and per
bed given back at the end of centralized days, every bed counted once; a part that fails rolls back alone and the
retry finishes the day without doing anything twice; inside a caller's transaction that has written, one part."""
from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connection, transaction

pytestmark = pytest.mark.skipif("connection.vendor != 'postgresql'",
                                reason="block ranges (TID range scans) and parts on their own connections are "
                                       "PostgreSQL's")

DAY = dt.date(2022, 11, 16)
#: (label prefix, category, last exposure): on DAY, "A" has ended its centralized days (bed given back, not free),
#: "B" is free (a contact of a contact kept at home by the pack, placed: bed given back on release), "C" ended its
#: centralized days earlier and is free (bed given back on its step-down day, then released), "D" runs on
KINDS = [("A", "close_contact", dt.date(2022, 11, 8)), ("B", "contact_of_contact", dt.date(2022, 11, 8)),
         ("C", "close_contact", dt.date(2022, 11, 5)), ("D", "close_contact", dt.date(2022, 11, 10))]
EACH = 12


def _scene(city):
    """Orders of the four kinds written interleaved (so every block range holds each kind), all placed."""
    from cordon.cases import actions as ca
    from cordon.core import clock

    with clock.frozen(dt.datetime(2022, 11, 4, 9, 0, tzinfo=clock.tz())):
        p1 = ca.do_record_infection(label="P1", home=city["unit_a"], found="community",
                                    confirmed_on=dt.date(2022, 11, 4), actor="test")
        site = ca.do_create_facility(name="皋兰路隔离点", kind="quarantine_site", area=city["street"],
                                     capacity=len(KINDS) * EACH, actor="test")
    for i in range(EACH):
        for prefix, category, exposed in KINDS:
            o = ca.do_register_contact(p1, label=f"{prefix}{i}", category=category, last_exposure=exposed,
                                       identified_on=exposed + dt.timedelta(days=1), home=city["unit_a"], actor="test")
            ca.do_place(site, order=o, on=exposed + dt.timedelta(days=1), actor="test", note="home shared")
    return site


def _state():
    """What the day start leaves: each order's status, each placement's discharge day, the audit rows, the beds."""
    from cordon.cases.models import Facility, PersonOrder, Placement
    from cordon.core.models import AuditEntry

    return {"orders": dict(PersonOrder.objects.values_list("label", "status")),
            "placements": dict(Placement.objects.values_list("order__label", "discharged_on")),
            "released": sorted(AuditEntry.objects.filter(action="order.release").values_list("object_repr", flat=True)),
            "stepped_down": sorted(e["person"] for e in AuditEntry.objects.filter(action="facility.discharge")
                                   .values_list("after", flat=True)),
            "occupied": Facility.objects.get(kind="quarantine_site").occupied}


def _expected():
    labels = lambda *ps: sorted(f"{p}{i}" for p in ps for i in range(EACH))  # noqa: E731
    return {"orders": {f"{p}{i}": "released" if p in "BC" else "active" for p, _c, _e in KINDS for i in range(EACH)},
            "placements": {**{f"A{i}": DAY for i in range(EACH)}, **{f"B{i}": DAY for i in range(EACH)},
                           **{f"C{i}": dt.date(2022, 11, 13) for i in range(EACH)},
                           **{f"D{i}": None for i in range(EACH)}},
            "released": labels("B", "C"), "stepped_down": labels("A", "C"), "occupied": EACH}


@pytest.fixture
def parts(monkeypatch):
    """Each part run: its block range, the database backend that ran it and the orders it released."""
    from cordon.cases import daystart

    seen, real = [], daystart._part

    def spy(cur, day, blocks):
        n = real(cur, day, blocks)
        cur.execute("SELECT pg_backend_pid()")
        seen.append({"blocks": blocks, "pid": cur.fetchone()[0], "released": n,
                     "thread": threading.current_thread().name})
        return n

    monkeypatch.setattr(daystart, "_part", spy)
    return seen


@pytest.mark.django_db(transaction=True)
def test_parts_at_once_do_what_one_connection_does(city, parts):
    from cordon.cases import actions as ca

    _scene(city)
    assert ca.do_release_due(DAY, parts=2) == 2 * EACH
    assert _state() == _expected()
    (lo, cut), (cut2, hi) = sorted((p["blocks"] for p in parts), key=lambda b: b[0] or -1)
    assert lo is None and hi is None and cut == cut2 > 0
    assert len({p["pid"] for p in parts}) == 2 and connection.connection.info.backend_pid not in \
        {p["pid"] for p in parts}
    assert all(p["released"] > 0 and p["thread"].startswith("day-start-") for p in parts)
    assert not [t for t in threading.enumerate() if t.name.startswith("day-start-")]
    parts.clear()
    assert ca.do_release_due(DAY, parts=2) == 0  # the same day again
    assert _state() == _expected()


@pytest.mark.django_db(transaction=True)
def test_a_part_that_fails_rolls_back_alone_and_the_retry_finishes_the_day(city, parts, monkeypatch):
    from cordon.cases import actions as ca
    from cordon.cases import daystart

    _scene(city)
    real = daystart._release

    def failing(cur, day, blocks, freed):
        if blocks[0] is not None:
            raise RuntimeError("lost the database (test)")
        return real(cur, day, blocks, freed)

    monkeypatch.setattr(daystart, "_release", failing)
    with pytest.raises(RuntimeError, match="lost the database"):
        ca.do_release_due(DAY, parts=2)
    half = _state()
    assert [p["blocks"][0] for p in parts] == [None]  # the first part committed, the second rolled back
    assert 0 < len(half["released"]) < 2 * EACH
    assert half["occupied"] == len(KINDS) * EACH - sum(d is not None for d in half["placements"].values())
    monkeypatch.setattr(daystart, "_release", real)
    assert ca.do_release_due(DAY, parts=2) == 2 * EACH - len(half["released"])
    assert _state() == _expected()


@pytest.mark.django_db
def test_inside_a_transaction_that_has_written_one_part_on_the_callers_connection(city, parts):
    from cordon.cases import actions as ca

    _scene(city)
    with transaction.atomic():
        assert ca.do_release_due(DAY, parts=2) == 2 * EACH
    assert [(p["blocks"], p["pid"]) for p in parts] == [(None, connection.connection.info.backend_pid)]
    assert _state() == _expected()


@pytest.mark.django_db
def test_a_small_day_stays_on_one_connection(city, settings):
    from cordon.cases import daystart

    _scene(city)
    settings.CORDON_DAY_START_PARTS = 2
    assert daystart._ranges(DAY, None) is None  # 24 due, well under PARTS_FROM
    settings.CORDON_DAY_START_PARTS = 1
    assert daystart._ranges(DAY, None) is None


@pytest.mark.django_db(transaction=True)
def test_the_workers_day_start_releases_in_parts_and_checkpoints_the_step(city, parts, monkeypatch, settings):
    """Through the worker's run of the day start (``core.periodic``: each step in a transaction with its
    checkpoint): the orders step goes to parts, since nothing is written before it in the step's transaction."""
    from cordon.cases import daystart
    from cordon.core import clock, periodic
    from cordon.core.models import JobRun

    _scene(city)
    settings.CORDON_DAY_START_PARTS = 2
    monkeypatch.setattr(daystart, "PARTS_FROM", 10)  # the scene's 24 orders count as a large day
    cfg = periodic.Config()
    with clock.frozen(dt.datetime.combine(DAY, dt.time(0, 10), tzinfo=clock.tz())):
        run = periodic.claim("day_start", DAY.isoformat(), cfg)
        out = periodic.run_claimed(run, cfg)
    assert out["result"]["orders"] == 2 * EACH
    assert len(parts) == 2 and sum(p["released"] for p in parts) == 2 * EACH
    assert JobRun.objects.get(name="day_start", key=DAY.isoformat()).status == JobRun.DONE
    assert _state() == _expected()


@pytest.mark.django_db(transaction=True)
def test_a_database_error_in_a_statement_is_the_error_raised(city, monkeypatch):
    """The statements' settings are put back only after they succeeded: on an error the transaction is rolled back
    (which undoes them), and the error raised is the statement's, not "current transaction is aborted"."""
    from django.db import DataError

    from cordon.cases import actions as ca
    from cordon.cases import daystart

    _scene(city)

    def dividing(cur, day, blocks, freed):
        cur.execute("SELECT 1 / 0")

    monkeypatch.setattr(daystart, "_release", dividing)
    with pytest.raises(DataError, match="division by zero"):
        ca.do_release_due(DAY, parts=1)
