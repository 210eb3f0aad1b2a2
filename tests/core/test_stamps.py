"""Change stamps (core.stamps) and the pages that reuse what they rendered: a change is counted once per
committed transaction, never for a rolled-back one, and the dispatcher board and ticket list show a change
on the next load while an unchanged reload reuses the rendered list."""
from __future__ import annotations

import datetime as dt

import pytest
from django.db import transaction

from cordon.core import clock, stamps


@pytest.mark.django_db(transaction=True)
def test_bump_counts_once_per_committed_transaction():
    assert stamps.read("care", "hotline") == (0, 0)
    stamps.bump("care")  # outside a transaction: at once
    assert stamps.read("care") == (1,)
    with transaction.atomic():
        stamps.bump("care")
        stamps.bump("care")
        stamps.bump("hotline")
        assert stamps.read("care", "hotline") == (1, 0)  # not before the commit
    assert stamps.read("care", "hotline") == (2, 1)
    with pytest.raises(RuntimeError), transaction.atomic():
        stamps.bump("care")
        raise RuntimeError("rolled back")
    assert stamps.read("care") == (2,)
    # A bump in a savepoint that rolls back does not stop a later bump in the same transaction.
    with transaction.atomic():
        try:
            with transaction.atomic():
                stamps.bump("care")
                raise ValueError
        except ValueError:
            pass
        stamps.bump("care")
    assert stamps.read("care") == (3,)


@pytest.mark.django_db(transaction=True)
def test_saving_a_watched_record_bumps_its_domain(city):
    from cordon.care import actions as ca

    before = stamps.read("care", "hotline")
    ca.do_create_request(person="某人", area=city["unit_a"], need="elderly", actor="test")
    after = stamps.read("care", "hotline")
    assert after[0] == before[0] + 1 and after[1] == before[1]  # one action, one transaction, one count


def test_cached_reuses_until_stamp_or_minute_changes(db):
    calls = []

    def render():
        calls.append(1)
        return len(calls)

    with clock.frozen(dt.datetime(2022, 11, 8, 8, 0, 10, tzinfo=clock.tz())):
        assert stamps.cached(("care",), ("k",), render) == 1
        assert stamps.cached(("care",), ("k",), render) == 1
        assert stamps.cached(("care",), ("other",), render) == 2
        stamps.bump("care")
        assert stamps.cached(("care",), ("k",), render) == 3
    with clock.frozen(dt.datetime(2022, 11, 8, 8, 1, 10, tzinfo=clock.tz())):  # a minute later: afresh
        assert stamps.cached(("care",), ("k",), render) == 4


def test_each_key_turns_its_minute_at_a_second_of_its_own(db):
    """Keys are reused for a minute, but their minutes do not all start at the same second (a desk's parts would
    otherwise all render again at once)."""
    import hashlib

    turns = set()
    for k in range(40):
        own = hashlib.sha256(f"key{k}".encode()).digest()
        marks = []
        for second in range(0, 150):
            with clock.frozen(dt.datetime(2022, 11, 8, 8, 0, 0, tzinfo=clock.tz()) + dt.timedelta(seconds=second)):
                marks.append(stamps.minute(own))
        changes = [s for s in range(1, 150) if marks[s] != marks[s - 1]]
        assert len(changes) in (2, 3) and {b - a for a, b in zip(changes, changes[1:])} == {60}  # one a minute
        turns.add(changes[0] % 60)
    assert len(turns) > 20  # spread over the minute


def test_board_and_ticket_list_show_changes_at_once(city, commander, worker, outsider, as_user,
                                                    django_assert_max_num_queries):
    from cordon.care import actions as ca
    from cordon.hotline import actions as ha

    with clock.frozen(dt.datetime(2022, 11, 8, 8, 0, tzinfo=clock.tz())):
        r = ca.do_create_request(person="王秀英", area=city["unit_a"], need="elderly", actor="test")
        hosp, van = ca.do_add_hospital("市一院", actor="test"), ca.do_add_vehicle("甘A1", actor="test")
        c = as_user(commander)
        first = c.get("/care/").content.decode()
        assert r.ref in first and "st-triaged" in first
        with django_assert_max_num_queries(6):  # the list, KPIs and counts are reused
            again = c.get("/care/").content.decode()
        assert again.count(r.ref) == first.count(r.ref)
        ca.do_dispatch_request(r, vehicle=van, hospital=hosp, actor="test")
        assert "st-dispatched" in c.get("/care/").content.decode()
        # Another jurisdiction has its own rendering: the worker of community A sees the request too,
        # the same list, but never a list rendered for someone else's scope.
        assert r.ref in as_user(worker).get("/care/").content.decode()
        assert r.ref not in as_user(outsider).get("/care/").content.decode()

        t = ha.do_create_ticket(phone="13909310001", category="supplies", text="需要米面", area=city["unit_a"],
                                actor="test")
        assert t.number in c.get("/hotline/").content.decode()
        assert t.number not in as_user(outsider).get("/hotline/").content.decode()
        ha.do_record_feedback(t, feedback="已送达", actor="test")
        assert "st-answered" in c.get("/hotline/").content.decode()


def _renders(user, cap="care.read"):
    """A counter of how often ``stamps.cached`` renders a part for ``user``'s jurisdiction."""
    from cordon.core import access

    scope = access.scope_for(user, cap)
    calls = []

    def get():
        return stamps.cached(("care",), ("board", access.scope_key(scope)), lambda: calls.append(1) or len(calls),
                             scope=scope)
    return get, calls


def test_a_change_renders_again_only_the_jurisdictions_that_hold_it(city, commander, worker, outsider):
    """A care request made in community A moves the stamps of A (and its street and district) and the city's, so
    the city-wide board and A's worker render afresh, while community B's worker keeps what it rendered."""
    from cordon.care import actions as ca

    with clock.frozen(dt.datetime(2022, 11, 8, 8, 0, 10, tzinfo=clock.tz())):
        boards = {u.username: _renders(u) for u in (commander, worker, outsider)}
        for get, _calls in boards.values():
            get()
        r = ca.do_create_request(person="王秀英", area=city["unit_a"], need="elderly", actor="test")
        for get, _calls in boards.values():
            get()
        assert {k: len(c) for k, (_g, c) in boards.items()} == {"commander": 2, "worker_a": 2, "worker_b": 1}
        # a change the stamps cannot place (a vehicle: no area) renders every jurisdiction again
        ca.do_add_vehicle("甘A2", actor="test")
        for get, _calls in boards.values():
            get()
        assert {k: len(c) for k, (_g, c) in boards.items()} == {"commander": 3, "worker_a": 3, "worker_b": 2}
        # a record read and moved to community B counts on the areas it left and those it joined
        from cordon.care.models import CareRequest

        moved = CareRequest.objects.get(pk=r.pk)
        moved.set_scope_from(city["unit_b"])
        moved.save()
        for get, _calls in boards.values():
            get()
        assert {k: len(c) for k, (_g, c) in boards.items()} == {"commander": 4, "worker_a": 4, "worker_b": 3}


def test_changes_whose_areas_are_not_known_count_everywhere(city, worker, outsider):
    """A record saved without the areas it was read with (made in memory with its key, or read without its area
    fields) cannot say which areas it left: every jurisdiction renders again."""
    from cordon.care import actions as ca
    from cordon.care.models import CareRequest

    r = ca.do_create_request(person="王秀英", area=city["unit_a"], need="elderly", actor="test")
    got = CareRequest.objects.only("id", "status").get(pk=r.pk)
    assert stamps.record_areas(got) is None  # its areas were not read: none are assumed
    before = stamps.read("care!", f"care@{city['community_b'].pk}")
    got.save(update_fields=["status"])
    after = stamps.read("care!", f"care@{city['community_b'].pk}")
    assert after[0] == before[0] + 1 and after[1] == before[1]
    full = CareRequest.objects.get(pk=r.pk)
    assert stamps.record_areas(full) == {city["unit_a"].district_id, city["unit_a"].street_id,
                                         city["unit_a"].community_id}


def test_a_jurisdiction_below_a_community_keys_on_its_community(city):
    from cordon.core import access
    from cordon.core.actions import do_create_user

    building = city["unit_a"].parent.parent
    u, _g = do_create_user("bldg", "a-Long-pass-2022", role="community_worker", area=building, actor="test",
                           check_password=False)
    names = stamps.scope_names(("care",), access.scope_for(u, "care.read"))
    assert names == ("care!", f"care@{city['community_a'].pk}")
    assert stamps.scope_names(("care",), None) == ("care",)


@pytest.mark.django_db(transaction=True)
def test_area_stamps_count_once_per_transaction_with_every_area(city):
    """In a transaction the areas of every change are gathered and counted once at the commit."""
    from cordon.care import actions as ca

    a, b = city["community_a"].pk, city["community_b"].pk
    before = stamps.read("care", f"care@{a}", f"care@{b}", "care!")
    with transaction.atomic():
        ca.do_create_request(person="甲", area=city["unit_a"], need="elderly", actor="test")
        ca.do_create_request(person="乙", area=city["unit_b"], need="elderly", actor="test")
        assert stamps.read("care", f"care@{a}", f"care@{b}", "care!") == before
    after = stamps.read("care", f"care@{a}", f"care@{b}", "care!")
    assert [y - x for x, y in zip(before, after)] == [1, 1, 1, 0]
